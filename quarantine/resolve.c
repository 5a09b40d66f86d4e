/*
 * resolve.c - opening the directory of a file we act on beneath the
 * scan root (see resolve.h). openat2() with RESOLVE_BENEATH and
 * RESOLVE_NO_SYMLINKS does it in one call where the kernel has it
 * (Linux 5.6); else one openat(O_NOFOLLOW) per component, which is
 * just as strict since ".." is refused before any lookup.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#endif

#include "engine/vg.h"
#include "quarantine/resolve.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

/* root without trailing slashes ("/" stays "/"): its length. */
static size_t trimmed_len(const char *s)
{
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		n--;
	return n;
}

static vigil_error errno_fail(int e, char *why, size_t whylen,
                              const char *what)
{
	switch (e) {
	case ELOOP:
		snprintf(why, whylen, "%s goes through a symbolic link", what);
		return VIGIL_EUNSAFE;
	case EXDEV:
		snprintf(why, whylen, "%s leaves the scanned tree", what);
		return VIGIL_EUNSAFE;
	case ENOENT:
	case ENOTDIR:
		snprintf(why, whylen, "%s is no longer there", what);
		return VIGIL_ECHANGED;
	default:
		snprintf(why, whylen, "%s: %s", what, strerror(e));
		return vg_error_from_errno(e);
	}
}

/* One component at a time, none a symbolic link. */
static int open_each(int rootfd, char *rel)
{
	int fd = dup(rootfd);
	char *save = NULL;

	for (char *c = strtok_r(rel, "/", &save); fd >= 0 && c;
	     c = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, c, DIR_FLAGS | O_NOFOLLOW);
		int e = errno;
		close(fd);
		fd = next;
		errno = e;
	}
	return fd;
}

static int open_beneath(int rootfd, char *rel)
{
#if defined(HAVE_LINUX_OPENAT2_H) && defined(SYS_openat2)
	struct open_how how = {
		.flags = DIR_FLAGS,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		           RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof how);

	/* ENOSYS: older kernel; EPERM: a seccomp filter; E2BIG: struct */
	if (fd >= 0 || (errno != ENOSYS && errno != EPERM && errno != E2BIG))
		return fd;
#endif
	return open_each(rootfd, rel);
}

vigil_error vg_resolve_parent(const char *root, const char *path, int *dirfd,
                              const char **name, char *why, size_t whylen)
{
	size_t rlen = trimmed_len(root), plen = trimmed_len(path);
	const char *rel, *last;
	vigil_error err;
	char *parent;
	int rootfd, fd;

	*dirfd = -1;
	if (!rlen || !plen || path[plen - 1] == '/' || strlen(path) != plen) {
		snprintf(why, whylen, "not a path to a file");
		return VIGIL_EUNSAFE;
	}
	if (plen == rlen && !strncmp(path, root, rlen) && strcmp(root, "/")) {
		/* a file scanned on its own: its directory as the user named it */
		return vg_open_parent(path, dirfd, name, why, whylen);
	}
	if (strncmp(path, root, rlen) != 0 ||
	    (root[rlen - 1] != '/' && path[rlen] != '/')) {
		snprintf(why, whylen, "not under the scan root %s", root);
		return VIGIL_EUNSAFE;
	}
	for (rel = path + rlen; *rel == '/'; rel++)
		;
	/* no "." or ".." below the root: they could climb out of it */
	for (const char *c = rel; *c;) {
		size_t n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
			snprintf(why, whylen, "has a '.' or '..' component");
			return VIGIL_EUNSAFE;
		}
		c += n;
		while (*c == '/')
			c++;
	}
	last = strrchr(rel, '/');
	*name = last ? last + 1 : rel;
	if ((rootfd = open(root, DIR_FLAGS)) < 0)
		return errno_fail(errno, why, whylen, "the scan root");
	if (!last) {
		*dirfd = rootfd;
		return VIGIL_OK;
	}
	if (!(parent = strndup(rel, (size_t)(last - rel)))) {
		close(rootfd);
		return VIGIL_ENOMEM;
	}
	fd = open_beneath(rootfd, parent);
	err = fd < 0 ? errno_fail(errno, why, whylen, "its directory") : VIGIL_OK;
	free(parent);
	close(rootfd);
	*dirfd = fd;
	return err;
}

vigil_error vg_open_parent(const char *path, int *dirfd, const char **name,
                           char *why, size_t whylen)
{
	size_t plen = trimmed_len(path);
	const char *last;
	char *dir;
	int fd;

	*dirfd = -1;
	if (!plen || path[plen - 1] == '/' || strlen(path) != plen ||
	    !strcmp(path, "/")) {
		snprintf(why, whylen, "not a path to a file");
		return VIGIL_EINVAL;
	}
	last = strrchr(path, '/');
	*name = last ? last + 1 : path;
	if (!strcmp(*name, ".") || !strcmp(*name, "..")) {
		snprintf(why, whylen, "not a path to a file");
		return VIGIL_EINVAL;
	}
	if (!last)
		dir = strdup(".");
	else if (last == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(last - path));
	if (!dir)
		return VIGIL_ENOMEM;
	fd = open(dir, DIR_FLAGS);
	free(dir);
	if (fd < 0)
		return errno_fail(errno, why, whylen, "its directory");
	*dirfd = fd;
	return VIGIL_OK;
}

char *vg_dir_path(int dirfd)
{
	char link[64], buf[PATH_MAX + 1];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
	n = readlink(link, buf, sizeof buf - 1);
	if (n <= 0 || n >= (ssize_t)sizeof buf - 1 || buf[0] != '/')
		return NULL;
	buf[n] = '\0';
	/* a directory removed meanwhile reads "/dir (deleted)" */
	if (n > 10 && !strcmp(buf + n - 10, " (deleted)"))
		return NULL;
	return strdup(buf);
}
