/*
 * hashdb.h - sets of whole-object hashes (MD5, SHA-1, SHA-256) with
 * sizes, read from ClamAV's .hdb/.hsb/.fp/.sfp text formats.
 *
 * Built for millions of entries: each hash kind is one array of
 * fixed-width records {hash, size, name offset}, sorted at freeze and
 * found by a prefix index plus binary search; names live once each in a
 * shared string pool. A sorted array of the sizes in use tells the
 * pipeline, per object size, whether MD5 or SHA-1 is worth computing.
 *
 * Life cycle: vg_hashdb_new -> vg_hashdb_load / vg_hashdb_add ->
 * vg_hashdb_freeze -> vg_hashdb_lookup / vg_hashdb_digests (read-only,
 * any number of threads) -> vg_hashdb_free.
 */
#ifndef VIGIL_HASHDB_H
#define VIGIL_HASHDB_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/vigil.h"
#include "engine/attrs.h"

typedef enum vg_hash_kind {
	VG_HASH_MD5 = 0,
	VG_HASH_SHA1 = 1,
	VG_HASH_SHA256 = 2
} vg_hash_kind;
#define VG_HASH_KINDS 3

/* Sizes are stored in 32 bits, as ClamAV does; this one means "*". */
#define VG_HASH_ANY_SIZE UINT64_MAX
/* Largest size an entry may name (ClamAV rejects >= 0xffffffff too). */
#define VG_HASH_MAX_SIZE 0xfffffffeu
/* Longest threat name accepted, in bytes. */
#define VG_HASH_MAX_NAME 512

typedef struct vg_hashdb vg_hashdb;

/* Digest length of a kind in bytes (16, 20, 32) and its name ("md5"). */
size_t vg_hash_len(vg_hash_kind kind);
const char *vg_hash_kind_name(vg_hash_kind kind);

/* An empty set, or NULL on ENOMEM. */
vg_hashdb *vg_hashdb_new(void);
/* Accepts NULL. */
void vg_hashdb_free(vg_hashdb *db);

/*
 * Adds one entry before freeze. size is a byte count up to
 * VG_HASH_MAX_SIZE, or VG_HASH_ANY_SIZE. The name (name_len bytes, no
 * NUL needed) is copied. VIGIL_OK, VIGIL_ENOMEM, or VIGIL_EINVAL (bad
 * size, frozen set).
 */
VG_MUST_CHECK
vigil_error vg_hashdb_add(vg_hashdb *db, vg_hash_kind kind,
                          const uint8_t *hash, uint64_t size,
                          const char *name, size_t name_len);

/*
 * Reads a hash list (signatures/hashdb_load.c): lines "HASH:SIZE:NAME[:MINFLEVEL[:MAXFLEVEL]]",
 * where HASH is 32, 40 or 64 hex digits (MD5, SHA-1, SHA-256) and SIZE
 * is a decimal byte count or "*". Blank lines and '#' comments are
 * skipped, CRLF endings accepted. A bad line fails the whole file
 * (VIGIL_EDATABASE, message "path:line: why" through vg_engine_fail on
 * e) and leaves the set as it was before the call.
 */
VG_MUST_CHECK
vigil_error vg_hashdb_load(vg_hashdb *db, vigil_engine *e, const char *path);

/* A point to roll back to before freeze: the entry count of each kind. */
typedef struct vg_hashdb_mark {
	size_t n[VG_HASH_KINDS];
} vg_hashdb_mark;

vg_hashdb_mark vg_hashdb_checkpoint(const vg_hashdb *db);
/* Forgets the entries added since the mark (a file that failed). */
void vg_hashdb_roll_back(vg_hashdb *db, const vg_hashdb_mark *mark);

/* Sorts, drops exact duplicates, builds the indexes; frees load-only
 * state. VIGIL_OK or VIGIL_ENOMEM. */
VG_MUST_CHECK
vigil_error vg_hashdb_freeze(vg_hashdb *db);

/*
 * The name of an entry of this kind whose hash matches and whose size is
 * size or "*", or NULL. Only on a frozen set. The name lives as long as
 * the set.
 */
const char *vg_hashdb_lookup(const vg_hashdb *db, vg_hash_kind kind,
                             const uint8_t *hash, uint64_t size);

/*
 * VG_DIGEST_MD5 / VG_DIGEST_SHA1 when some entry of that kind could
 * match an object of this size: the pipeline computes those digests
 * only then. Only on a frozen set; NULL gives 0.
 */
unsigned vg_hashdb_digests(const vg_hashdb *db, uint64_t size);

/* Entries held (after freeze: without exact duplicates). NULL gives 0. */
uint64_t vg_hashdb_count(const vg_hashdb *db);

/* Bytes of heap the set holds now, for tests and statistics. */
size_t vg_hashdb_memory(const vg_hashdb *db);

#endif
