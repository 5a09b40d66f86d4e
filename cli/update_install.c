/*
 * update_install.c - crash-safe file replacement for `vigil update`.
 * rename(2) replaces a name atomically; fsync of the file before and of
 * the directory after makes the new name durable, so after a power cut
 * or a SIGKILL the installed bundle is the old one or the new one,
 * whole, and never missing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/update_install.h"

int vg_cli_sync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd, rc;

	if (!copy)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* "path.tmp-XXXXXX" for mkstemp; NULL on ENOMEM. */
static char *temp_for(const char *path)
{
	size_t n = strlen(path) + 12;
	char *t = malloc(n);

	if (t)
		snprintf(t, n, "%s.tmp-XXXXXX", path);
	return t;
}

int vg_cli_write_atomic(const char *path, const void *data, size_t n,
                        unsigned mode)
{
	const char *p = data;
	char *tmp = temp_for(path);
	int fd = -1, e;

	if (!tmp)
		return -1;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		goto fail;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		p += w;
		n -= (size_t)w;
	}
	if (fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0)
		goto fail;
	e = close(fd);
	fd = -1;
	if (e != 0 || rename(tmp, path) != 0)
		goto fail;
	free(tmp);
	return vg_cli_sync_parent(path);
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = e;
	return -1;
}

/* Makes dst a second name of src, replacing dst atomically. */
static int link_over(const char *src, const char *dst)
{
	char *tmp = temp_for(dst);
	int e;

	if (!tmp)
		return -1;
	/* mkstemp only to pick a free name: link needs it absent */
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		free(tmp);
		return -1;
	}
	close(fd);
	unlink(tmp);
	if (link(src, tmp) != 0 || rename(tmp, dst) != 0) {
		e = errno;
		unlink(tmp);
		free(tmp);
		errno = e;
		return -1;
	}
	free(tmp);
	return 0;
}

int vg_update_install(const char *current, const char *prev,
                      const char *part)
{
	struct stat st;

	if (lstat(current, &st) == 0) {
		if (link_over(current, prev) != 0)
			return -1;
	} else if (errno != ENOENT) {
		return -1;
	}
	if (rename(part, current) != 0)
		return -1;
	return vg_cli_sync_parent(current);
}

int vg_update_swap(const char *current, const char *prev)
{
	size_t n = strlen(current) + 8;
	char *keep = malloc(n);
	int rc = -1, e;

	if (!keep)
		return -1;
	snprintf(keep, n, "%s.newer", current);
	/* the newer one keeps a name of its own while current changes */
	if (link_over(current, keep) == 0 && rename(prev, current) == 0 &&
	    rename(keep, prev) == 0)
		rc = vg_cli_sync_parent(current);
	e = errno;
	unlink(keep);
	free(keep);
	errno = e;
	return rc;
}
