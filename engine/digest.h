/*
 * digest.h - one pass over a layer's bytes for every digest it needs.
 */
#ifndef VIGIL_DIGEST_H
#define VIGIL_DIGEST_H

#include <stddef.h>
#include <stdint.h>

enum {
	VG_DIGEST_MD5 = 1u << 0,  /* only when a loaded set needs it */
	VG_DIGEST_SHA1 = 1u << 1, /* likewise */
};

typedef struct vg_digest {
	unsigned have;            /* VG_DIGEST_* computed besides the two below */
	uint64_t xxh128[2];       /* low, high: always (cache key) */
	uint8_t sha256[32];       /* always */
	uint8_t md5[16];
	uint8_t sha1[20];
} vg_digest;

/*
 * Computes XXH3-128 and SHA-256 and, as flags ask, MD5 and SHA-1, in
 * one pass of cache-sized blocks. Returns 0, or -1 if libcrypto fails.
 */
int vg_digest_compute(const uint8_t *data, size_t size, unsigned flags,
                      vg_digest *out);

/* Writes 2*len lower-case hex digits and a NUL into out. */
void vg_hex(const uint8_t *bin, size_t len, char *out);

#endif
