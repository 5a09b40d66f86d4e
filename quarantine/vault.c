/*
 * vault.c - the vault directory: creating and checking it, its key, its
 * lock, sweeping what dead writers left, and its size.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "engine/vg.h"
#include "quarantine/qv.h"

#define KEY_NAME "key"
#define KEY_TMP ".key.tmp"
#define LOCK_NAME "lock"

/* mkdir -p for the parents of dir (mode 0755), not dir itself. */
int vg_q_make_parents(const char *dir)
{
	char *copy = strdup(dir);
	int r = 0;

	if (!copy)
		return -1;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
			r = -1;
			break;
		}
		*p = '/';
	}
	free(copy);
	return r;
}

static int open_dir(const char *dir)
{
	return open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* The vault's own checks: a directory of ours that nobody else can
 * read, write or enter. */
static vigil_error check_dir(vigil_quarantine *q, int dfd)
{
	struct stat st;

	if (fstat(dfd, &st) != 0)
		return vg_q_fail_errno(q, errno, "vault %s", q->dir);
	if (st.st_uid != geteuid())
		return vg_q_fail(q, VIGIL_EVAULT,
		                 "vault %s is owned by uid %u; it must belong to "
		                 "uid %u, the user running vigil", q->dir,
		                 (unsigned)st.st_uid, (unsigned)geteuid());
	if ((st.st_mode & 0777) != 0700)
		return vg_q_fail(q, VIGIL_EVAULT,
		                 "vault %s has mode %04o; it must be 0700 "
		                 "(no access for group and others)", q->dir,
		                 (unsigned)(st.st_mode & 07777));
	return VIGIL_OK;
}

int vg_q_lock(vigil_quarantine *q)
{
	int fd = openat(q->dfd, LOCK_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		fd = openat(q->dfd, LOCK_NAME,
		            O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		vg_q_fail_errno(q, errno, "vault %s: lock file", q->dir);
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			vg_q_fail_errno(q, errno, "vault %s: lock", q->dir);
			close(fd);
			return -1;
		}
	}
	return fd;
}

void vg_q_unlock(int lockfd)
{
	if (lockfd >= 0)
		close(lockfd);  /* releases the flock */
}

/* Makes the key: a temporary, synced, renamed; under the lock. */
static vigil_error make_key(vigil_quarantine *q)
{
	uint8_t key[VG_Q_KEY_BYTES];
	int fd, e;

	randombytes_buf(key, sizeof key);
	fd = openat(q->dfd, KEY_TMP,
	            O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return vg_q_fail_errno(q, errno, "vault %s: cannot make its key",
		                       q->dir);
	if (write(fd, key, sizeof key) != (ssize_t)sizeof key || fsync(fd) != 0 ||
	    close(fd) != 0) {
		e = errno ? errno : EIO;
		sodium_memzero(key, sizeof key);
		unlinkat(q->dfd, KEY_TMP, 0);
		return vg_q_fail_errno(q, e, "vault %s: cannot write its key", q->dir);
	}
	sodium_memzero(key, sizeof key);
	if (renameat(q->dfd, KEY_TMP, q->dfd, KEY_NAME) != 0 ||
	    vg_q_fsync_dir(q->dfd) != 0) {
		e = errno;
		unlinkat(q->dfd, KEY_TMP, 0);
		return vg_q_fail_errno(q, e, "vault %s: cannot store its key", q->dir);
	}
	return VIGIL_OK;
}

static vigil_error read_key(vigil_quarantine *q)
{
	struct stat st;
	ssize_t n;
	int fd = openat(q->dfd, KEY_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return vg_q_fail_errno(q, errno, "vault %s: key", q->dir);
	if (fstat(fd, &st) != 0) {
		close(fd);
		return vg_q_fail_errno(q, errno, "vault %s: key", q->dir);
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) || st.st_size != VG_Q_KEY_BYTES) {
		close(fd);
		return vg_q_fail(q, VIGIL_EVAULT,
		                 "vault %s: its key must be a %d-byte file of uid "
		                 "%u with mode 0600", q->dir, VG_Q_KEY_BYTES,
		                 (unsigned)geteuid());
	}
	n = pread(fd, q->key, sizeof q->key, 0);
	close(fd);
	if (n != (ssize_t)sizeof q->key)
		return vg_q_fail(q, VIGIL_EVAULT, "vault %s: cannot read its key",
		                 q->dir);
	return VIGIL_OK;
}

int vg_q_dir_stream_fd(const vigil_quarantine *q)
{
	/* a new open file description: its own directory offset */
	return openat(q->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Removes temporaries whose writer died (nobody holds their flock);
 * called under the vault lock, so no writer is between creating its
 * temporary and locking it. Best effort: a read-only vault keeps them. */
static void sweep(vigil_quarantine *q)
{
	int dfd = vg_q_dir_stream_fd(q);
	struct dirent *de;
	DIR *d;

	if (dfd < 0)
		return;
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		int fd;
		if (strncmp(de->d_name, VG_Q_TMP_PREFIX, strlen(VG_Q_TMP_PREFIX)) != 0)
			continue;
		fd = openat(q->dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(q->dfd, de->d_name, 0);
		close(fd);
	}
	closedir(d);
	unlinkat(q->dfd, KEY_TMP, 0);
}

vigil_error vg_q_open(vigil_quarantine *q)
{
	vigil_error err;
	int dfd, lockfd;

	if (q->dfd >= 0)
		return VIGIL_OK;
	dfd = open_dir(q->dir);
	if (dfd < 0 && errno == ENOENT) {
		if (vg_q_make_parents(q->dir) != 0 ||
		    (mkdir(q->dir, 0700) != 0 && errno != EEXIST))
			return vg_q_fail_errno(q, errno, "cannot create vault %s", q->dir);
		dfd = open_dir(q->dir);
	}
	if (dfd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return vg_q_fail(q, VIGIL_EVAULT, "vault %s is not a directory "
			                 "(a symbolic link is refused)", q->dir);
		return vg_q_fail_errno(q, errno, "vault %s", q->dir);
	}
	if ((err = check_dir(q, dfd)) != VIGIL_OK) {
		close(dfd);
		return err;
	}
	q->dfd = dfd;
	if ((lockfd = vg_q_lock(q)) < 0) {
		err = vg_error_from_errno(errno);
		goto fail;
	}
	if (faccessat(dfd, KEY_NAME, F_OK, AT_SYMLINK_NOFOLLOW) != 0 &&
	    errno == ENOENT)
		err = make_key(q);
	if (err == VIGIL_OK)
		err = read_key(q);
	if (err == VIGIL_OK)
		sweep(q);
	vg_q_unlock(lockfd);
	if (err == VIGIL_OK)
		return VIGIL_OK;
fail:
	if (err == VIGIL_OK)
		err = VIGIL_EIO;
	close(dfd);
	q->dfd = -1;
	return err;
}

vigil_error vigil_quarantine_check(vigil_quarantine *q)
{
	if (!vg_q_ok(q))
		return VIGIL_EINVAL;
	q->errmsg[0] = '\0';
	return vg_q_open(q);
}

vigil_error vg_q_usage(vigil_quarantine *q, uint64_t *bytes, uint64_t *items)
{
	int dfd = vg_q_dir_stream_fd(q);
	uint64_t b = 0, n = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (dfd < 0 || !(d = fdopendir(dfd))) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		return vg_q_fail_errno(q, e, "vault %s", q->dir);
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		int item = len > 3 && !strcmp(de->d_name + len - 3, VG_Q_ITEM_SUFFIX);
		if (!item && strncmp(de->d_name, VG_Q_TMP_PREFIX,
		                     strlen(VG_Q_TMP_PREFIX)) != 0)
			continue;
		if (fstatat(q->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		b += (uint64_t)st.st_size;
		n += item;
	}
	closedir(d);
	*bytes = b;
	if (items)
		*items = n;
	return VIGIL_OK;
}

vigil_error vigil_quarantine_usage(vigil_quarantine *q, uint64_t *bytes,
                                   uint64_t *items)
{
	vigil_error err;
	uint64_t b, n;

	if (!vg_q_ok(q))
		return VIGIL_EINVAL;
	q->errmsg[0] = '\0';
	if ((err = vg_q_open(q)) != VIGIL_OK ||
	    (err = vg_q_usage(q, &b, &n)) != VIGIL_OK)
		return err;
	if (bytes)
		*bytes = b;
	if (items)
		*items = n;
	return VIGIL_OK;
}
