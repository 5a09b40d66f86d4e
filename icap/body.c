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
#include <sys/mman.h>
#include <unistd.h>

#include "icap/body.h"

/* First allocation when the size is not announced. */
#define VG_BODY_FIRST 65536
/* Disk space is given back in steps of this much. */
#define VG_BODY_PUNCH_STEP (1 << 20)
/* File writes gather this much: 40 writes for 10 MB instead of 2560. */
#define VG_BODY_STAGE (256 * 1024)
/* Writes end on page boundaries, so none rewrites a partial page. */
#define VG_BODY_ALIGN 4096

void vg_body_init(struct vg_body *b, size_t mem_limit, const char *tmpdir,
                  uint64_t hint)
{
	memset(b, 0, sizeof *b);
	b->fd = -1;
	b->mem_limit = mem_limit;
	b->tmpdir = tmpdir && *tmpdir ? tmpdir : "/tmp";
	if (hint && hint <= mem_limit)
		b->cap = (size_t)hint; /* the first allocation fits exactly */
	else if (hint > mem_limit)
		b->to_file = 1; /* no use growing memory only to spill it */
}

void vg_body_free(struct vg_body *b)
{
	if (b->map)
		munmap(b->map, b->map_len);
	b->map = NULL;
	free(b->mem);
	b->mem = NULL;
	free(b->stage);
	b->stage = NULL;
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

/* Moves the body (possibly empty) from memory to a new unlinked file. */
static int spill(struct vg_body *b)
{
	char path[PATH_MAX];
	char *stage;
	int fd;

	if (snprintf(path, sizeof path, "%s/vigil-icap-XXXXXX", b->tmpdir) >=
	    (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!(stage = malloc(VG_BODY_STAGE))) {
		errno = ENOMEM;
		return -1;
	}
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0) {
		free(stage);
		return -1;
	}
	unlink(path);
	if (write_all(fd, b->mem, (size_t)b->size) != 0) {
		int e = errno;
		close(fd);
		free(stage);
		errno = e;
		return -1;
	}
	free(b->mem);
	b->mem = NULL;
	b->cap = 0;
	b->fd = fd;
	b->stage = stage;
	b->written = b->size;
	return 0;
}

/* Writes the staged bytes to the file. */
static int flush(struct vg_body *b)
{
	if (b->staged == 0)
		return 0;
	if (write_all(b->fd, b->stage, b->staged) != 0)
		return -1;
	b->written += b->staged;
	b->staged = 0;
	return 0;
}

/* Appends to a file body through the staging buffer. */
static int append_file(struct vg_body *b, const char *p, size_t len)
{
	while (len > 0) {
		/* the first block after a spill ends on a page boundary */
		size_t room = VG_BODY_STAGE - (size_t)(b->written % VG_BODY_ALIGN);
		size_t n = room - b->staged < len ? room - b->staged : len;
		memcpy(b->stage + b->staged, p, n);
		b->staged += n;
		b->size += n;
		p += n;
		len -= n;
		if (b->staged == room && flush(b) != 0)
			return -1;
	}
	return 0;
}

int vg_body_append(struct vg_body *b, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (b->map || (b->fd >= 0 && !b->stage)) {
		errno = EINVAL; /* sealed */
		return -1;
	}
	if (b->fd < 0 && (b->to_file || b->size + len > b->mem_limit) &&
	    spill(b) != 0)
		return -1;
	if (b->fd >= 0)
		return append_file(b, buf, len);
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
	const char *data = vg_body_data(b);

	if (off >= b->size)
		return 0;
	if (len > b->size - off)
		len = (size_t)(b->size - off);
	if (data) {
		memcpy(buf, data + off, len);
		return (ssize_t)len;
	}
	if (off < b->punched) {
		errno = EINVAL;
		return -1;
	}
	if (off >= b->written) { /* still in the staging buffer */
		memcpy(buf, b->stage + (off - b->written), len);
		return (ssize_t)len;
	}
	if (len > b->written - off)
		len = (size_t)(b->written - off);
	for (;;) {
		ssize_t n = pread(b->fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

int vg_body_fd(struct vg_body *b)
{
	if (b->fd < 0) {
		errno = EINVAL;
		return -1;
	}
	return flush(b) != 0 ? -1 : b->fd;
}

int vg_body_seal(struct vg_body *b)
{
	void *p;

	if (b->fd < 0 || b->map)
		return 0;
	if (flush(b) != 0)
		return -1;
	free(b->stage);
	b->stage = NULL;
	if (b->size == 0 || b->size > SIZE_MAX || b->punched)
		return 0;
	/* Shared and read-only: the scan and the echo read the page cache
	 * the writes filled, with no copy. Only this process holds the
	 * unlinked file and nothing truncates it, so no access can fault
	 * past its end (SIGBUS). */
	p = mmap(NULL, (size_t)b->size, PROT_READ, MAP_SHARED | MAP_POPULATE,
	         b->fd, 0);
	if (p == MAP_FAILED)
		return 0;
	b->map = p;
	b->map_len = (size_t)b->size;
	return 0;
}

void vg_body_discard_before(struct vg_body *b, uint64_t off)
{
#ifdef FALLOC_FL_PUNCH_HOLE
	uint64_t to = off & ~(uint64_t)(VG_BODY_PUNCH_STEP - 1);
	if (to > b->written)
		to = b->written & ~(uint64_t)(VG_BODY_PUNCH_STEP - 1);
	if (b->fd < 0 || b->map || to <= b->punched)
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
