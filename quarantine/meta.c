/*
 * meta.c - reading and applying file metadata (see meta.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "quarantine/meta.h"

/* The list of attribute names, NUL-separated; NULL with errno. */
static char *list_names(int fd, ssize_t *len)
{
	for (int tries = 0; tries < 4; tries++) {
		ssize_t n = flistxattr(fd, NULL, 0);
		char *buf;
		if (n <= 0) {
			*len = 0;
			/* no support for attributes: there are none to keep */
			if (n == 0 || errno == ENOTSUP)
				return calloc(1, 1);
			return NULL;
		}
		if (!(buf = malloc((size_t)n)))
			return NULL;
		if ((*len = flistxattr(fd, buf, (size_t)n)) >= 0)
			return buf;
		free(buf);
		if (errno != ERANGE)  /* else it grew in between: again */
			return NULL;
	}
	errno = EAGAIN;
	return NULL;
}

static int read_value(int fd, const char *name, vg_qxattr *x)
{
	for (int tries = 0; tries < 4; tries++) {
		ssize_t n = fgetxattr(fd, name, NULL, 0);
		if (n < 0)
			return -1;
		if (n > VG_QRECORD_XATTR_VALUE_MAX) {
			errno = E2BIG;
			return -1;
		}
		if (!(x->value = malloc((size_t)n + 1)))
			return -1;
		if ((n = fgetxattr(fd, name, x->value, (size_t)n)) >= 0) {
			x->len = (size_t)n;
			return 0;
		}
		free(x->value);
		x->value = NULL;
		if (errno != ERANGE)
			return -1;
	}
	errno = EAGAIN;
	return -1;
}

int vg_meta_read(int fd, const struct stat *st, vg_qrecord *r)
{
	ssize_t len;
	size_t count = 0;
	char *names;

	r->uid = st->st_uid;
	r->gid = st->st_gid;
	r->mode = st->st_mode & 07777;
	r->atime = st->st_atim;
	r->mtime = st->st_mtim;
	r->dev = st->st_dev;
	r->ino = st->st_ino;
	r->nlink = st->st_nlink;
	if (!(names = list_names(fd, &len)))
		return -1;
	for (ssize_t i = 0; i < len; i += (ssize_t)strlen(names + i) + 1)
		count++;
	if (count > VG_QRECORD_MAX_XATTRS) {
		free(names);
		errno = E2BIG;
		return -1;
	}
	if (count && !(r->xattrs = calloc(count, sizeof *r->xattrs))) {
		free(names);
		return -1;
	}
	for (ssize_t i = 0; i < len; i += (ssize_t)strlen(names + i) + 1) {
		vg_qxattr *x = &r->xattrs[r->nxattrs];
		if (!names[i] || strlen(names + i) > VG_QRECORD_XATTR_NAME_MAX)
			continue;
		if (read_value(fd, names + i, x) != 0) {
			if (errno == ENODATA)  /* removed since the list: gone */
				continue;
			free(names);
			return -1;
		}
		if (!(x->name = strdup(names + i))) {
			free(x->value);
			x->value = NULL;
			free(names);
			return -1;
		}
		r->nxattrs++;
	}
	free(names);
	return 0;
}

int vg_meta_apply(int fd, const vg_qrecord *r, const char **what)
{
	struct timespec times[2] = { r->atime, r->mtime };

	*what = "owner";
	if (fchown(fd, r->uid, r->gid) != 0)
		return -1;
	for (size_t i = 0; i < r->nxattrs; i++) {
		*what = r->xattrs[i].name;
		if (fsetxattr(fd, r->xattrs[i].name, r->xattrs[i].value,
		              r->xattrs[i].len, 0) != 0)
			return -1;
	}
	/* after the owner (chown clears set-ID bits) and the ACL (whose mask
	 * the group bits are: both say the same) */
	*what = "mode";
	if (fchmod(fd, r->mode) != 0)
		return -1;
	*what = "times";
	if (futimens(fd, times) != 0)
		return -1;
	return 0;
}
