/*
 * body.h - an HTTP body held for scanning: in memory up to a size, then
 * in an unlinked temporary file. Memory grows by doubling from the
 * announced Content-Length, so chunks are not copied again and again.
 *
 * A file body is written in large page-aligned blocks through a staging
 * buffer (c-icap hands over 4 KB at a time), and once complete it is
 * mapped: the scan reads the page cache in place and the echo copies
 * from the mapping, so the bytes are written once and never read back
 * through read(2).
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
	int to_file;        /* announced larger than mem_limit: file at once */
	const char *tmpdir; /* where the file goes (borrowed) */
	uint64_t size;      /* bytes stored (written + staged) */
	uint64_t written;   /* bytes written to the file */
	uint64_t punched;   /* file bytes before this were given back */
	char *stage;        /* file bytes not written yet */
	size_t staged;
	char *map;          /* the sealed file, mapped, or NULL */
	size_t map_len;
};

/* Sets an empty body up; hint is the expected size (0: unknown). */
void vg_body_init(struct vg_body *b, size_t mem_limit, const char *tmpdir,
                  uint64_t hint);
void vg_body_free(struct vg_body *b);

/* Appends bytes. 0, or -1 with errno (ENOMEM, ENOSPC, ...). */
int vg_body_append(struct vg_body *b, const void *buf, size_t len);

/*
 * Copies up to len bytes from offset off; returns the count (0 at the
 * end; may be short of len before the end), -1 on error.
 */
ssize_t vg_body_read(struct vg_body *b, uint64_t off, void *buf, size_t len);

/*
 * Says no more bytes will come: writes what is staged and maps a file
 * body (a failed mapping only means reads go through pread). 0, or -1
 * with errno when the staged bytes cannot be written.
 */
int vg_body_seal(struct vg_body *b);

/* All b->size bytes in memory (held or mapped), or NULL for a file
 * read with pread (then vg_body_fd gives the file). */
static inline const char *vg_body_data(const struct vg_body *b)
{
	return b->fd < 0 ? b->mem : b->map;
}

/* The file with every byte stored written to it, or -1 with errno. */
int vg_body_fd(struct vg_body *b);

/*
 * Gives back the disk space of a file body before off (bytes already
 * sent and no longer needed); reads before off then fail.
 */
void vg_body_discard_before(struct vg_body *b, uint64_t off);

#endif
