/*
 * restore.c - putting an item back (vigil_quarantine_restore) and
 * allowlisting it (vigil_quarantine_allow).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/vg.h"
#include "quarantine/item.h"
#include "quarantine/items.h"
#include "quarantine/meta.h"
#include "quarantine/qv.h"
#include "quarantine/record.h"
#include "quarantine/resolve.h"

#define RESTORE_TMP ".vigil-restore-"

/* Moves tmp to name in dirfd: over an existing file only if force. */
static int place(int dirfd, const char *tmp, const char *name, int force)
{
	if (force)
		return renameat(dirfd, tmp, dirfd, name);
	if (renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* no RENAME_NOREPLACE on this file system: link fails on EEXIST too */
	if (linkat(dirfd, tmp, dirfd, name, 0) != 0)
		return -1;
	unlinkat(dirfd, tmp, 0);
	return 0;
}

/* Writes the item's bytes and metadata into a new file tmp in dirfd. */
static vigil_error fill(vigil_quarantine *q, const vigil_quarantine_item *it,
                        int dirfd, const char *tmp, const char *shown)
{
	uint8_t sha[32];
	char hex[65], why[512] = "";
	const char *what;
	uint64_t size;
	vigil_error err;
	int fd, itemfd, werr;

	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	            O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		/* left by a restore that was killed: ours to replace */
		unlinkat(dirfd, tmp, 0);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		            O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return vg_q_fail_errno(q, errno, "%s: cannot create a file there",
		                       shown);
	if ((itemfd = vg_item_open(q, it->id)) < 0) {
		err = VIGIL_EVAULT;
		goto fail;
	}
	err = vg_item_decrypt(q->key, it->id, itemfd, fd, &size, sha, &werr, why,
	                      sizeof why);
	close(itemfd);
	if (err != VIGIL_OK) {
		if (werr)
			vg_q_fail_errno(q, werr, "%s: cannot write", shown);
		else
			vg_q_fail(q, err, "vault %s: item %s is damaged: %s", q->dir,
			          it->id, *why ? why : vigil_strerror(err));
		err = werr ? vg_error_from_errno(werr) : err;
		goto fail;
	}
	sodium_bin2hex(hex, sizeof hex, sha, sizeof sha);
	if (size != it->rec.size || strcmp(hex, it->rec.sha256) != 0) {
		err = vg_q_fail(q, VIGIL_EVAULT, "vault %s: item %s does not match "
		                "its record (SHA-256 or size)", q->dir, it->id);
		goto fail;
	}
	if (vg_meta_apply(fd, &it->rec, &what) != 0) {
		err = vg_q_fail_errno(q, errno, "%s: cannot restore its %s", shown,
		                      what);
		goto fail;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		err = vg_q_fail_errno(q, errno, "%s: cannot write", shown);
		goto fail;
	}
	return VIGIL_OK;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	return err;
}

vigil_error vigil_quarantine_restore(vigil_quarantine *q, const char *id,
                                     const char *to, unsigned flags)
{
	char full[VIGIL_QUARANTINE_ID_SIZE], why[512];
	char tmp[sizeof RESTORE_TMP + VIGIL_QUARANTINE_ID_SIZE];
	vigil_quarantine_item it;
	const char *name, *shown;
	struct stat st;
	vigil_error err;
	int dirfd = -1, force = (flags & VIGIL_RESTORE_FORCE) != 0;

	if (!vg_q_ok(q) || (flags & ~VIGIL_RESTORE_FORCE))
		return VIGIL_EINVAL;
	q->errmsg[0] = '\0';
	if ((err = vg_qitem_find(q, id, full)) != VIGIL_OK ||
	    (err = vg_qitem_load(q, full, &it)) != VIGIL_OK)
		return err;
	shown = to ? to : it.rec.path;
	/* the original path is taken from the root down with no symbolic
	 * link: one planted since could send a root-owned write anywhere */
	err = to ? vg_open_parent(to, &dirfd, &name, why, sizeof why)
	         : vg_resolve_parent("/", it.rec.path, &dirfd, &name, why,
	                             sizeof why);
	if (err != VIGIL_OK) {
		vg_q_fail(q, err, "%s: %s%s", shown, why,
		          !to && (err == VIGIL_EUNSAFE || err == VIGIL_ECHANGED)
		          ? "; restore it elsewhere (--to)" : "");
		goto out;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !force) {
		err = vg_q_fail(q, VIGIL_EEXIST, "%s exists; not replacing it "
		                "(force it, or restore elsewhere)", shown);
		goto out;
	}
	snprintf(tmp, sizeof tmp, "%s%s", RESTORE_TMP, full);
	if ((err = fill(q, &it, dirfd, tmp, shown)) != VIGIL_OK)
		goto out;
	if (place(dirfd, tmp, name, force) != 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		if (e == EEXIST)
			err = vg_q_fail(q, VIGIL_EEXIST, "%s exists; not replacing it "
			                "(force it, or restore elsewhere)", shown);
		else
			err = vg_q_fail_errno(q, e, "%s: cannot put it in place", shown);
		goto out;
	}
	if (vg_q_fsync_dir(dirfd) != 0) {
		err = vg_q_fail_errno(q, errno, "%s: cannot sync its directory", shown);
		goto out;
	}
	/* only now, with the file durable in place, does the item go */
	err = vg_item_remove(q, full);
out:
	if (dirfd >= 0)
		close(dirfd);
	vg_qitem_clear(&it);
	return err;
}

/* ---- the allowlist ---------------------------------------------- */

#define ALLOWLIST_MAX (64u << 20)

/* The allowlist, locked and checked to be the file at its name (a
 * rewriter may have renamed a new one over it while we waited). */
static int lock_allowlist(int dirfd, const char *name)
{
	for (int tries = 0; tries < 100; tries++) {
		struct stat a, b;
		int fd = openat(dirfd, name, O_RDONLY | O_CREAT | O_NOFOLLOW |
		                O_CLOEXEC, 0644);
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX) != 0 || fstat(fd, &a) != 0) {
			close(fd);
			return -1;
		}
		if (fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

static char *read_all(int fd, size_t *len)
{
	struct stat st;
	char *buf;

	if (fstat(fd, &st) != 0)
		return NULL;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > ALLOWLIST_MAX) {
		errno = EFBIG;
		return NULL;
	}
	if (!(buf = malloc((size_t)st.st_size + 1)))
		return NULL;
	*len = 0;
	while (*len < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + *len, (size_t)st.st_size - *len, (off_t)*len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	buf[*len] = '\0';
	return buf;
}

/* 1 if a line of text starts with prefix. */
static int has_line(const char *text, size_t len, const char *prefix)
{
	size_t plen = strlen(prefix);

	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		if (end - i >= plen && !memcmp(text + i, prefix, plen))
			return 1;
		i = end + 1;
	}
	return 0;
}

/* Writes old + line to a temporary beside the allowlist and renames it
 * over: a reader sees the old list or the new one, never half a line. */
static int rewrite(int dirfd, const char *name, const char *old, size_t len,
                   const char *line, mode_t mode)
{
	char tmp[300];
	int fd, ok;

	snprintf(tmp, sizeof tmp, ".%.200s.tmp-%ld", name, (long)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	            O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	ok = (!len || write(fd, old, len) == (ssize_t)len) &&
	     (!len || old[len - 1] == '\n' || write(fd, "\n", 1) == 1) &&
	     write(fd, line, strlen(line)) == (ssize_t)strlen(line) &&
	     fchmod(fd, mode) == 0 && fsync(fd) == 0;
	if (close(fd) != 0 || !ok || renameat(dirfd, tmp, dirfd, name) != 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	return vg_q_fsync_dir(dirfd);
}

vigil_error vigil_quarantine_allow(vigil_quarantine *q, const char *id,
                                   const char *allowlist)
{
	char full[VIGIL_QUARANTINE_ID_SIZE], why[512], prefix[100], line[200];
	const char *path = allowlist ? allowlist : VIGIL_DEFAULT_ALLOWLIST;
	vigil_quarantine_item it;
	const char *name;
	vigil_error err;
	struct stat st;
	size_t len = 0;
	char *old = NULL;
	int dirfd = -1, lockfd = -1;

	if (!vg_q_ok(q))
		return VIGIL_EINVAL;
	q->errmsg[0] = '\0';
	if ((err = vg_qitem_find(q, id, full)) != VIGIL_OK ||
	    (err = vg_qitem_load(q, full, &it)) != VIGIL_OK)
		return err;
	if (vg_q_make_parents(path) != 0 ||
	    (err = vg_open_parent(path, &dirfd, &name, why, sizeof why)) != VIGIL_OK) {
		err = err ? vg_q_fail(q, err, "allowlist %s: %s", path, why)
		          : vg_q_fail_errno(q, errno, "allowlist %s", path);
		goto out;
	}
	if ((lockfd = lock_allowlist(dirfd, name)) < 0 ||
	    !(old = read_all(lockfd, &len)) || fstat(lockfd, &st) != 0) {
		err = vg_q_fail_errno(q, errno, "allowlist %s", path);
		goto out;
	}
	/* ClamAV's .sfp line: SHA-256, size, a name for the entry */
	snprintf(prefix, sizeof prefix, "%s:%llu:", it.rec.sha256,
	         (unsigned long long)it.rec.size);
	snprintf(line, sizeof line, "%svigil.restored.%s\n", prefix, full);
	if (!has_line(old, len, prefix) &&
	    rewrite(dirfd, name, old, len, line, st.st_mode & 0777 ? st.st_mode & 0777 : 0644) != 0)
		err = vg_q_fail_errno(q, errno, "allowlist %s: cannot write", path);
out:
	free(old);
	if (lockfd >= 0)
		close(lockfd);
	if (dirfd >= 0)
		close(dirfd);
	vg_qitem_clear(&it);
	return err;
}
