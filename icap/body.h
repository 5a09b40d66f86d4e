/*
 * body.h - an HTTP body held for scanning: in memory up to a size, then
 * in an unlinked temporary file. Memory grows by doubling from the
 * announced Content-Length, so chunks are not copied again and again.
 */
#ifndef VIGIL_ICAP_BODY_H
#define VIGIL_ICAP_BODY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vg_body {
	char *mem;          /* the bytes, while in memory */
	size_t cap;         /* allocated size of mem */
	size_t mem_limit;   /* past this the body moves to a file */
	int fd;             /* the temporary file, or -1 */
	const char *tmpdir; /* where the file goes (borrowed) */
	uint64_t size;      /* bytes stored */
	uint64_t punched;   /* file bytes before this were given back */
};

/* Sets an empty body up; hint is the expected size (0: unknown). */
void vg_body_init(struct vg_body *b, size_t mem_limit, const char *tmpdir,
                  uint64_t hint);
void vg_body_free(struct vg_body *b);

/* Appends bytes. 0, or -1 with errno (ENOMEM, ENOSPC, ...). */
int vg_body_append(struct vg_body *b, const void *buf, size_t len);

/* Copies up to len bytes from offset off; returns the count (0 at the end), -1 on error. */
ssize_t vg_body_read(struct vg_body *b, uint64_t off, void *buf, size_t len);

/* 1 when the bytes are in memory (then b->mem holds b->size bytes). */
static inline int vg_body_in_mem(const struct vg_body *b)
{
	return b->fd < 0;
}

/*
 * Gives back the disk space of a file body before off (bytes already
 * sent and no longer needed); reads before off then fail.
 */
void vg_body_discard_before(struct vg_body *b, uint64_t off);

#endif
