/*
 * body.c - see body.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "icap/body.h"

/* First allocation when the size is not announced. */
#define VG_BODY_FIRST 65536
/* Disk space is given back in steps of this much. */
#define VG_BODY_PUNCH_STEP (1 << 20)

void vg_body_init(struct vg_body *b, size_t mem_limit, const char *tmpdir,
                  uint64_t hint)
{
	memset(b, 0, sizeof *b);
	b->fd = -1;
	b->mem_limit = mem_limit;
	b->tmpdir = tmpdir && *tmpdir ? tmpdir : "/tmp";
	if (hint && hint <= mem_limit)
		b->cap = (size_t)hint; /* the first allocation fits exactly */
}

void vg_body_free(struct vg_body *b)
{
	free(b->mem);
	b->mem = NULL;
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Moves the body from memory to a new unlinked file in tmpdir. */
static int spill(struct vg_body *b)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof path, "%s/vigil-icap-XXXXXX", b->tmpdir) >=
	    (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
		return -1;
	unlink(path);
	if (write_all(fd, b->mem, (size_t)b->size) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	free(b->mem);
	b->mem = NULL;
	b->cap = 0;
	b->fd = fd;
	return 0;
}

int vg_body_append(struct vg_body *b, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (b->fd < 0 && b->size + len > b->mem_limit && spill(b) != 0)
		return -1;
	if (b->fd >= 0) {
		if (write_all(b->fd, buf, len) != 0)
			return -1;
		b->size += len;
		return 0;
	}
	if (b->size + len > b->cap || !b->mem) {
		size_t cap = b->cap ? b->cap : VG_BODY_FIRST;
		char *p;
		while (cap < b->size + len)
			cap *= 2;
		if (cap > b->mem_limit)
			cap = b->mem_limit;
		if (!(p = realloc(b->mem, cap))) {
			errno = ENOMEM;
			return -1;
		}
		b->mem = p;
		b->cap = cap;
	}
	memcpy(b->mem + b->size, buf, len);
	b->size += len;
	return 0;
}

ssize_t vg_body_read(struct vg_body *b, uint64_t off, void *buf, size_t len)
{
	if (off >= b->size)
		return 0;
	if (len > b->size - off)
		len = (size_t)(b->size - off);
	if (b->fd < 0) {
		memcpy(buf, b->mem + off, len);
		return (ssize_t)len;
	}
	if (off < b->punched) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		ssize_t n = pread(b->fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

void vg_body_discard_before(struct vg_body *b, uint64_t off)
{
#ifdef FALLOC_FL_PUNCH_HOLE
	uint64_t to = off & ~(uint64_t)(VG_BODY_PUNCH_STEP - 1);
	if (b->fd < 0 || to <= b->punched)
		return;
	/* best effort: a file system without holes keeps the bytes */
	if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	              (off_t)b->punched, (off_t)(to - b->punched)) == 0)
		b->punched = to;
#else
	(void)b;
	(void)off;
#endif
}
