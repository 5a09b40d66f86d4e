/*
 * hashdb_priv.h - the layout of a hash set, shared by hashdb.c (building
 * and look-ups) and hashdb_image.c (the image a bundle maps).
 */
#ifndef VIGIL_HASHDB_PRIV_H
#define VIGIL_HASHDB_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "signatures/hashdb.h"

/* Size field value that stands for "*" in a record. */
#define ANY32 UINT32_MAX
/* Largest prefix index: 2^16 + 1 offsets, 256 KiB per kind. */
#define MAX_INDEX_BITS 16

struct kindset {
	uint8_t *rec;        /* n records of stride bytes */
	size_t n, cap;
	uint32_t *sizes;     /* sorted distinct sizes (not "*"), after freeze */
	size_t nsizes;
	int any_size;        /* some entry has size "*" */
	uint32_t *index;     /* (1 << bits) + 1 record numbers, after freeze */
	unsigned bits;
};

/* A slot of the name set: the name's hash beside its pool offset + 1
 * (0 = empty), so a probe touches the pool only on a likely match and
 * growing the set never rehashes a name. */
struct name_slot {
	uint32_t hash;
	uint32_t off1;
};

struct vg_hashdb {
	struct kindset k[VG_HASH_KINDS];
	char *pool;          /* NUL-terminated names, each stored once */
	size_t pool_len, pool_cap;
	struct name_slot *names; /* open-addressing set of the pool's names */
	size_t names_cap, names_used;
	uint32_t last_off1;  /* the name added last, offset + 1 */
	int frozen;
	int mapped;          /* arrays and pool point into a bundle */
};

#endif
