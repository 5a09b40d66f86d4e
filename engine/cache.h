/*
 * cache.h - the verdict cache: results of complete scans, keyed by a
 * 128-bit key and the engine's signature generation.
 */
#ifndef VIGIL_CACHE_H
#define VIGIL_CACHE_H

#include <stdint.h>

#include "engine/vg.h"
#include "engine/attrs.h"

typedef struct vg_cache vg_cache;

/* entries == 0 gives *out = NULL: every look-up misses. */
VG_MUST_CHECK
vigil_error vg_cache_new(uint64_t entries, vg_cache **out);
void vg_cache_free(vg_cache *c);

/* A fresh copy of the stored result, or NULL on a miss. */
vigil_result *vg_cache_get(vg_cache *c, const uint64_t key[2], uint64_t gen);

/* Stores a copy of r (silently skipped when memory is short). */
void vg_cache_put(vg_cache *c, const uint64_t key[2], uint64_t gen,
                  const vigil_result *r);

#endif
