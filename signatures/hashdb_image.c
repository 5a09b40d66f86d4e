/*
 * hashdb_image.c - a frozen hash set as one flat image, the form a
 * bundle stores (doc/bundle.md, "Hash set parts"). The image holds the
 * set's own arrays, so loading it is mapping it: no parsing, no
 * sorting, no copy, and the pages are shared by every process that
 * maps the same bundle.
 *
 * Layout (little-endian, arrays 64-byte aligned from the image start):
 *   0   "VGHS", u32 image version (1)
 *   8   u64 pool offset, u64 pool length (NUL-terminated names)
 *   24  per kind (MD5, SHA-1, SHA-256), 48 bytes each:
 *       u64 records, u32 index bits, u32 any-size flag, u64 sizes,
 *       u64 record array offset, u64 index offset, u64 sizes offset
 *   168 the arrays
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bytes.h"
#include "signatures/hashdb.h"
#include "signatures/hashdb_priv.h"

#define IMAGE_MAGIC "VGHS"
#define IMAGE_VERSION 1
#define HEAD_SIZE (24 + VG_HASH_KINDS * 48)
#define ALIGN 64

static uint64_t align_up(uint64_t v)
{
	return (v + ALIGN - 1) / ALIGN * ALIGN;
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static size_t index_len(const struct kindset *ks)
{
	return ks->n ? (((size_t)1 << ks->bits) + 1) * 4 : 0;
}

/* Offsets of each array, in writing order; returns the image size. */
static uint64_t plan(const vg_hashdb *db, uint64_t off[VG_HASH_KINDS][3],
                     uint64_t *pool_off)
{
	uint64_t at = align_up(HEAD_SIZE);

	for (int k = 0; k < VG_HASH_KINDS; k++) {
		const struct kindset *ks = &db->k[k];
		off[k][0] = at;
		at = align_up(at + ks->n * (vg_hash_len((vg_hash_kind)k) + 8));
		off[k][1] = at;
		at = align_up(at + index_len(ks));
		off[k][2] = at;
		at = align_up(at + ks->nsizes * 4);
	}
	*pool_off = at;
	return at + db->pool_len;
}

vigil_error vg_hashdb_write_image(const vg_hashdb *db, vg_image_write_fn fn,
                                  void *ud)
{
	static const uint8_t zeros[ALIGN];
	uint8_t head[HEAD_SIZE] = { 0 };
	uint64_t off[VG_HASH_KINDS][3], pool_off, at;
	vigil_error err;

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	return VIGIL_EINVAL; /* records hold host-order sizes */
#endif
	if (!db || !db->frozen)
		return VIGIL_EINVAL;
	plan(db, off, &pool_off);
	memcpy(head, IMAGE_MAGIC, 4);
	le32(head + 4, IMAGE_VERSION);
	le64(head + 8, pool_off);
	le64(head + 16, db->pool_len);
	for (int k = 0; k < VG_HASH_KINDS; k++) {
		const struct kindset *ks = &db->k[k];
		uint8_t *h = head + 24 + 48 * k;
		le64(h, ks->n);
		le32(h + 8, ks->bits);
		le32(h + 12, (uint32_t)ks->any_size);
		le64(h + 16, ks->nsizes);
		le64(h + 24, off[k][0]);
		le64(h + 32, off[k][1]);
		le64(h + 40, off[k][2]);
	}
	if ((err = fn(ud, head, sizeof head)) != VIGIL_OK)
		return err;
	at = sizeof head;
	for (int k = 0; k < VG_HASH_KINDS; k++) {
		const struct kindset *ks = &db->k[k];
		const void *arr[3] = { ks->rec, ks->index, ks->sizes };
		size_t len[3] = { ks->n * (vg_hash_len((vg_hash_kind)k) + 8),
		                  index_len(ks), ks->nsizes * 4 };
		for (int a = 0; a < 3; a++) {
			if (at < off[k][a] &&
			    (err = fn(ud, zeros, (size_t)(off[k][a] - at))) != VIGIL_OK)
				return err;
			at = off[k][a];
			if (len[a] && (err = fn(ud, arr[a], len[a])) != VIGIL_OK)
				return err;
			at += len[a];
		}
	}
	if (at < pool_off && (err = fn(ud, zeros, (size_t)(pool_off - at))))
		return err;
	if (db->pool_len)
		return fn(ud, db->pool, db->pool_len);
	return VIGIL_OK;
}

/* The array of count elements of width bytes at off, or NULL. */
static const uint8_t *array_at(const uint8_t *img, size_t size, uint64_t off,
                               uint64_t count, size_t width)
{
	if (off % 4 || count > SIZE_MAX / width)
		return NULL;
	return vg_at(img, size, (size_t)off, (size_t)(count * width));
}

static int map_kind(vg_hashdb *db, int k, const uint8_t *img, size_t size,
                    char *why, size_t whylen)
{
	const uint8_t *h = img + 24 + 48 * k;
	struct kindset *ks = &db->k[k];
	size_t stride = vg_hash_len((vg_hash_kind)k) + 8;
	uint64_t n, nsizes, ro, io, so;
	uint32_t bits, any;
	const uint8_t *rec, *index, *sizes;

	vg_u64le(h, 48, 0, &n);
	vg_u32le(h, 48, 8, &bits);
	vg_u32le(h, 48, 12, &any);
	vg_u64le(h, 48, 16, &nsizes);
	vg_u64le(h, 48, 24, &ro);
	vg_u64le(h, 48, 32, &io);
	vg_u64le(h, 48, 40, &so);
	if (n == 0) /* look-ups stop at n == 0: nothing else is read */
		return 0;
	if (n > UINT32_MAX - 1 || bits > MAX_INDEX_BITS ||
	    !(rec = array_at(img, size, ro, n, stride)) ||
	    !(index = array_at(img, size, io, ((uint64_t)1 << bits) + 1, 4)) ||
	    !(sizes = array_at(img, size, so, nsizes, 4))) {
		snprintf(why, whylen, "%s records out of bounds",
		         vg_hash_kind_name((vg_hash_kind)k));
		return -1;
	}
	/* aligned: offsets are multiples of 4 from a page-aligned image */
	ks->rec = (uint8_t *)rec;
	ks->n = ks->cap = (size_t)n;
	ks->index = (uint32_t *)(void *)index;
	ks->bits = bits;
	ks->sizes = nsizes ? (uint32_t *)(void *)sizes : NULL;
	ks->nsizes = (size_t)nsizes;
	ks->any_size = any != 0;
	return 0;
}

vigil_error vg_hashdb_map_image(const uint8_t *img, size_t size,
                                vg_hashdb **out, char *why, size_t whylen)
{
	uint64_t pool_off, pool_len;
	uint32_t version;
	const uint8_t *pool;
	vg_hashdb *db;

	*out = NULL;
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	snprintf(why, whylen, "hash set images need a little-endian host");
	return VIGIL_EDATABASE;
#endif
	if (((uintptr_t)img & 3) != 0 || size < HEAD_SIZE ||
	    !vg_match(img, size, 0, IMAGE_MAGIC, 4)) {
		snprintf(why, whylen, "not a hash set image");
		return VIGIL_EDATABASE;
	}
	vg_u32le(img, size, 4, &version);
	vg_u64le(img, size, 8, &pool_off);
	vg_u64le(img, size, 16, &pool_len);
	if (version != IMAGE_VERSION) {
		snprintf(why, whylen, "hash set image version %u, not %d", version,
		         IMAGE_VERSION);
		return VIGIL_EDATABASE;
	}
	if (pool_len > UINT32_MAX ||
	    !(pool = vg_at(img, size, (size_t)pool_off, (size_t)pool_len)) ||
	    (pool_len && pool[pool_len - 1] != '\0')) {
		snprintf(why, whylen, "name pool out of bounds or not terminated");
		return VIGIL_EDATABASE;
	}
	if (!(db = vg_hashdb_new())) {
		snprintf(why, whylen, "out of memory");
		return VIGIL_ENOMEM;
	}
	db->mapped = 1;
	db->frozen = 1;
	db->pool = (char *)pool;
	db->pool_len = (size_t)pool_len;
	for (int k = 0; k < VG_HASH_KINDS; k++) {
		if (map_kind(db, k, img, size, why, whylen) != 0) {
			vg_hashdb_free(db);
			return VIGIL_EDATABASE;
		}
	}
	*out = db;
	return VIGIL_OK;
}
