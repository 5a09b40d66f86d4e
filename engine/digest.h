/*
 * digest.h - one pass over a layer's bytes for every digest it needs.
 */
#ifndef VIGIL_DIGEST_H
#define VIGIL_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include "engine/attrs.h"

enum {
	VG_DIGEST_MD5 = 1u << 0,    /* only when a loaded set needs it */
	VG_DIGEST_SHA1 = 1u << 1,   /* likewise */
	VG_DIGEST_SHA256 = 1u << 2, /* top level always, members on demand */
	VG_DIGEST_XXH128 = 1u << 3, /* top level (the cache key) */
};

typedef struct vg_digest {
	unsigned have;            /* VG_DIGEST_* computed */
	uint64_t xxh128[2];       /* low, high */
	uint8_t sha256[32];
	uint8_t md5[16];
	uint8_t sha1[20];
} vg_digest;

/*
 * Computes the digests flags ask for (VG_DIGEST_*) in one pass of
 * cache-sized blocks, and sets out->have to them. Returns 0, or -1 if
 * libcrypto fails.
 */
VG_MUST_CHECK
int vg_digest_compute(const uint8_t *data, size_t size, unsigned flags,
                      vg_digest *out);

/* Writes 2*len lower-case hex digits and a NUL into out. */
void vg_hex(const uint8_t *bin, size_t len, char *out);

#endif
