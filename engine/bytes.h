/*
 * bytes.h - the one way vigil reads untrusted bytes: every read names
 * the buffer's size and fails instead of running past it.
 */
#ifndef VIGIL_BYTES_H
#define VIGIL_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 1 when [off, off + len) lies inside a buffer of size bytes. */
static inline int vg_fits(size_t size, size_t off, size_t len)
{
	return off <= size && len <= size - off;
}

/* Pointer to len bytes at off, or NULL if they are not all there. */
static inline const uint8_t *vg_at(const uint8_t *buf, size_t size,
                                   size_t off, size_t len)
{
	return vg_fits(size, off, len) ? buf + off : NULL;
}

static inline int vg_u8(const uint8_t *b, size_t n, size_t off, uint8_t *v)
{
	if (!vg_fits(n, off, 1))
		return 0;
	*v = b[off];
	return 1;
}

static inline int vg_u16le(const uint8_t *b, size_t n, size_t off,
                           uint16_t *v)
{
	if (!vg_fits(n, off, 2))
		return 0;
	*v = (uint16_t)(b[off] | (b[off + 1] << 8));
	return 1;
}

static inline int vg_u32le(const uint8_t *b, size_t n, size_t off,
                           uint32_t *v)
{
	if (!vg_fits(n, off, 4))
		return 0;
	*v = (uint32_t)b[off] | ((uint32_t)b[off + 1] << 8) |
	     ((uint32_t)b[off + 2] << 16) | ((uint32_t)b[off + 3] << 24);
	return 1;
}

static inline int vg_u64le(const uint8_t *b, size_t n, size_t off,
                           uint64_t *v)
{
	uint32_t lo, hi;
	if (!vg_u32le(b, n, off, &lo) || !vg_u32le(b, n, off + 4, &hi))
		return 0;
	*v = ((uint64_t)hi << 32) | lo;
	return 1;
}

static inline int vg_u32be(const uint8_t *b, size_t n, size_t off,
                           uint32_t *v)
{
	if (!vg_fits(n, off, 4))
		return 0;
	*v = ((uint32_t)b[off] << 24) | ((uint32_t)b[off + 1] << 16) |
	     ((uint32_t)b[off + 2] << 8) | (uint32_t)b[off + 3];
	return 1;
}

/* 1 when the bytes at off equal the len bytes of lit. */
static inline int vg_match(const uint8_t *b, size_t n, size_t off,
                           const void *lit, size_t len)
{
	return vg_fits(n, off, len) && memcmp(b + off, lit, len) == 0;
}

#endif
