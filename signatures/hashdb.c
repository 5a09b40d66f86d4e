/*
 * hashdb.c - compact, sorted hash sets (the text reader is in
 * hashdb_load.c).
 *
 * Each hash kind keeps one flat array of records, stride = digest length
 * + 8: the digest bytes, then the size and the name's offset in the
 * string pool, both 32-bit. No pointers and no per-entry allocation, so
 * a million SHA-256 entries cost 40 bytes each plus their names, which
 * are stored once however many entries share them. At freeze a counting
 * sort on the digests' leading bits (uniform, so the buckets are tiny)
 * orders the array and yields an index of the first record of each
 * prefix; a look-up then binary-searches about four records.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "engine/vg.h"
#include "signatures/hashdb.h"
#include "signatures/hashdb_priv.h"

static const size_t hash_lens[VG_HASH_KINDS] = { 16, 20, 32 };
static const char *const kind_names[VG_HASH_KINDS] = { "md5", "sha1",
                                                       "sha256" };

size_t vg_hash_len(vg_hash_kind kind)
{
	return (unsigned)kind < VG_HASH_KINDS ? hash_lens[kind] : 0;
}

const char *vg_hash_kind_name(vg_hash_kind kind)
{
	return (unsigned)kind < VG_HASH_KINDS ? kind_names[kind] : "";
}

static size_t stride_of(vg_hash_kind kind)
{
	return hash_lens[kind] + 8;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

vg_hashdb *vg_hashdb_new(void)
{
	return calloc(1, sizeof(vg_hashdb));
}

static void kindset_free(struct kindset *ks)
{
	free(ks->rec);
	free(ks->sizes);
	free(ks->index);
}

void vg_hashdb_free(vg_hashdb *db)
{
	if (!db)
		return;
	/* a mapped set's arrays live in the bundle's mapping */
	for (int i = 0; i < VG_HASH_KINDS && !db->mapped; i++)
		kindset_free(&db->k[i]);
	if (!db->mapped)
		free(db->pool);
	free(db->names);
	free(db);
}

/* ------------------------------------------------------------------ */
/* The name pool                                                       */
/* ------------------------------------------------------------------ */

static int pool_name_eq(const vg_hashdb *db, uint32_t off, const char *name,
                        size_t len)
{
	return db->pool_len - off > len && memcmp(db->pool + off, name, len) == 0
	       && db->pool[off + len] == '\0';
}

/* Doubles the name set, keeping it at most half full. */
static int names_grow(vg_hashdb *db)
{
	size_t ncap = db->names_cap ? db->names_cap * 2 : 1024;
	struct name_slot *nt = calloc(ncap, sizeof *nt);

	if (!nt)
		return -1;
	for (size_t i = 0; i < db->names_cap; i++) {
		struct name_slot sl = db->names[i];
		if (!sl.off1)
			continue;
		size_t h = sl.hash & (ncap - 1);
		while (nt[h].off1)
			h = (h + 1) & (ncap - 1);
		nt[h] = sl;
	}
	free(db->names);
	db->names = nt;
	db->names_cap = ncap;
	return 0;
}

/* The pool offset of name, adding it if new; -1 on ENOMEM. */
static int64_t pool_intern(vg_hashdb *db, const char *name, size_t len)
{
	uint32_t hash;
	size_t h, mask;

	/* lists often repeat one name for a run of entries */
	if (db->last_off1 && pool_name_eq(db, db->last_off1 - 1, name, len))
		return db->last_off1 - 1;
	if (2 * (db->names_used + 1) > db->names_cap && names_grow(db))
		return -1;
	hash = (uint32_t)XXH3_64bits(name, len);
	mask = db->names_cap - 1;
	for (h = hash & mask; db->names[h].off1; h = (h + 1) & mask) {
		const struct name_slot *sl = &db->names[h];
		if (sl->hash == hash && pool_name_eq(db, sl->off1 - 1, name, len)) {
			db->last_off1 = sl->off1;
			return sl->off1 - 1;
		}
	}

	/* offsets are 32-bit and stored + 1 in the set */
	if (len + 1 > UINT32_MAX - 1 - db->pool_len)
		return -1;
	if (db->pool_len + len + 1 > db->pool_cap) {
		size_t ncap = db->pool_cap ? db->pool_cap : 4096;
		while (ncap < db->pool_len + len + 1)
			ncap *= 2;
		char *np = realloc(db->pool, ncap);
		if (!np)
			return -1;
		db->pool = np;
		db->pool_cap = ncap;
	}
	int64_t off = (int64_t)db->pool_len;
	memcpy(db->pool + off, name, len);
	db->pool[off + len] = '\0';
	db->pool_len += len + 1;
	db->names[h].hash = hash;
	db->names[h].off1 = (uint32_t)off + 1;
	db->names_used++;
	db->last_off1 = (uint32_t)off + 1;
	return off;
}

/* ------------------------------------------------------------------ */
/* Adding and freezing                                                 */
/* ------------------------------------------------------------------ */

vigil_error vg_hashdb_add(vg_hashdb *db, vg_hash_kind kind,
                          const uint8_t *hash, uint64_t size,
                          const char *name, size_t name_len)
{
	struct kindset *ks;
	size_t stride;
	uint32_t size32, name_off;
	int64_t off;

	if (!db || db->frozen || (unsigned)kind >= VG_HASH_KINDS || !hash ||
	    (!name && name_len) ||
	    (size != VG_HASH_ANY_SIZE && size > VG_HASH_MAX_SIZE))
		return VIGIL_EINVAL;
	ks = &db->k[kind];
	stride = stride_of(kind);
	if (ks->n == ks->cap) {
		size_t ncap = ks->cap ? ks->cap * 2 : 256;
		if (ncap > UINT32_MAX - 1)
			return VIGIL_ENOMEM;
		uint8_t *nr = realloc(ks->rec, ncap * stride);
		if (!nr)
			return VIGIL_ENOMEM;
		ks->rec = nr;
		ks->cap = ncap;
	}
	if ((off = pool_intern(db, name ? name : "", name_len)) < 0)
		return VIGIL_ENOMEM;
	size32 = size == VG_HASH_ANY_SIZE ? ANY32 : (uint32_t)size;
	name_off = (uint32_t)off;
	uint8_t *r = ks->rec + ks->n * stride;
	memcpy(r, hash, hash_lens[kind]);
	memcpy(r + hash_lens[kind], &size32, 4);
	memcpy(r + hash_lens[kind] + 4, &name_off, 4);
	ks->n++;
	return VIGIL_OK;
}

/* Orders records by digest, then size ("*" last), then name. */
static int rec_cmp(const void *a, const void *b, void *arg)
{
	size_t len = *(const size_t *)arg;
	int c = memcmp(a, b, len);
	if (c)
		return c;
	uint32_t sa = rd32((const uint8_t *)a + len);
	uint32_t sb = rd32((const uint8_t *)b + len);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	uint32_t na = rd32((const uint8_t *)a + len + 4);
	uint32_t nb = rd32((const uint8_t *)b + len + 4);
	return na < nb ? -1 : na > nb;
}

/* Sorts one prefix bucket: insertion sort for the usual handful of
 * records, qsort when a list piles many into one prefix. */
static void sort_bucket(uint8_t *rec, size_t n, size_t len)
{
	size_t stride = len + 8;
	uint8_t tmp[40];

	if (n > 16) {
		qsort_r(rec, n, stride, rec_cmp, &len);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		size_t j = i;
		if (rec_cmp(rec + (j - 1) * stride, rec + j * stride, &len) <= 0)
			continue;
		memcpy(tmp, rec + i * stride, stride);
		while (j > 0 && rec_cmp(rec + (j - 1) * stride, tmp, &len) > 0) {
			memcpy(rec + j * stride, rec + (j - 1) * stride, stride);
			j--;
		}
		memcpy(rec + j * stride, tmp, stride);
	}
}

/* The leading bits of a digest that pick its index slot. */
static uint32_t prefix_of(const uint8_t *hash, unsigned bits)
{
	return bits ? (((uint32_t)hash[0] << 8 | hash[1]) >> (16 - bits)) : 0;
}

/*
 * Sorts the records and builds the prefix index in one go: a counting
 * sort on the leading bits (digests are uniform, so buckets are small),
 * then each bucket sorted and its exact duplicates dropped.
 */
static vigil_error sort_and_index(struct kindset *ks, size_t len)
{
	size_t stride = len + 8, nslots, out = 0, lo = 0;
	uint32_t *cursor;
	uint8_t *sorted;

	/* about four records per slot */
	ks->bits = 0;
	while (ks->bits < MAX_INDEX_BITS && ((size_t)4 << ks->bits) < ks->n)
		ks->bits++;
	nslots = (size_t)1 << ks->bits;
	if (!(ks->index = calloc(nslots + 1, sizeof *ks->index)))
		return VIGIL_ENOMEM;
	for (size_t i = 0; i < ks->n; i++)
		ks->index[prefix_of(ks->rec + i * stride, ks->bits) + 1]++;
	for (size_t p = 0; p < nslots; p++)
		ks->index[p + 1] += ks->index[p];

	cursor = malloc(nslots * sizeof *cursor);
	sorted = malloc(ks->n * stride);
	if (!cursor || !sorted) {
		free(cursor);
		free(sorted);
		return VIGIL_ENOMEM;
	}
	memcpy(cursor, ks->index, nslots * sizeof *cursor);
	for (size_t i = 0; i < ks->n; i++) {
		const uint8_t *r = ks->rec + i * stride;
		memcpy(sorted + (size_t)cursor[prefix_of(r, ks->bits)]++ * stride,
		       r, stride);
	}
	free(cursor);
	free(ks->rec);
	ks->rec = sorted;

	for (size_t p = 0; p < nslots; p++) {
		size_t hi = ks->index[p + 1];
		sort_bucket(ks->rec + lo * stride, hi - lo, len);
		ks->index[p] = (uint32_t)out;
		/* drop exact duplicates, which merged feeds have */
		for (size_t i = lo; i < hi; i++) {
			const uint8_t *r = ks->rec + i * stride;
			if (out > ks->index[p] &&
			    memcmp(ks->rec + (out - 1) * stride, r, stride) == 0)
				continue;
			if (out != i)
				memcpy(ks->rec + out * stride, r, stride);
			out++;
		}
		lo = hi;
	}
	ks->index[nslots] = (uint32_t)out;
	ks->n = ks->cap = out;
	uint8_t *shrunk = realloc(ks->rec, out * stride);
	if (shrunk)
		ks->rec = shrunk;
	return VIGIL_OK;
}

/* Sorts 32-bit values: two radix passes of 16 bits. */
static int sort_u32(uint32_t *a, size_t n)
{
	uint32_t *tmp, *count;

	if (n < 2)
		return 0;
	tmp = malloc(n * sizeof *tmp);
	count = malloc(65536 * sizeof *count);
	if (!tmp || !count) {
		free(tmp);
		free(count);
		return -1;
	}
	for (unsigned shift = 0; shift < 32; shift += 16) {
		uint32_t *src = shift ? tmp : a, *dst = shift ? a : tmp;
		uint32_t sum = 0;
		memset(count, 0, 65536 * sizeof *count);
		for (size_t i = 0; i < n; i++)
			count[(src[i] >> shift) & 0xffff]++;
		for (size_t d = 0; d < 65536; d++) {
			uint32_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & 0xffff]++] = src[i];
	}
	free(tmp);
	free(count);
	return 0;
}

/* The distinct sizes in use, for the digests hook. Not for SHA-256:
 * cheap with the CPU's SHA extensions, it is asked for whenever a set
 * holds any, and the sizes would cost 4 bytes an entry. */
static vigil_error build_sizes(struct kindset *ks, vg_hash_kind kind)
{
	size_t len = hash_lens[kind], stride = len + 8, m = 0;

	for (size_t i = 0; i < ks->n; i++)
		if (rd32(ks->rec + i * stride + len) == ANY32)
			ks->any_size = 1;
	if (kind == VG_HASH_SHA256)
		return VIGIL_OK;
	if (!(ks->sizes = malloc(ks->n * sizeof *ks->sizes)))
		return VIGIL_ENOMEM;
	for (size_t i = 0; i < ks->n; i++) {
		uint32_t s = rd32(ks->rec + i * stride + len);
		if (s != ANY32)
			ks->sizes[m++] = s;
	}
	if (sort_u32(ks->sizes, m))
		return VIGIL_ENOMEM;
	ks->nsizes = 0;
	for (size_t i = 0; i < m; i++)
		if (ks->nsizes == 0 || ks->sizes[ks->nsizes - 1] != ks->sizes[i])
			ks->sizes[ks->nsizes++] = ks->sizes[i];
	if (ks->nsizes == 0) {
		free(ks->sizes);
		ks->sizes = NULL;
	} else {
		uint32_t *ns = realloc(ks->sizes, ks->nsizes * sizeof *ns);
		if (ns)
			ks->sizes = ns;
	}
	return VIGIL_OK;
}

static vigil_error kindset_freeze(struct kindset *ks, vg_hash_kind kind)
{
	vigil_error err;

	if (ks->n == 0) {
		free(ks->rec);
		ks->rec = NULL;
		ks->cap = 0;
		return VIGIL_OK;
	}
	if ((err = sort_and_index(ks, hash_lens[kind])) != VIGIL_OK)
		return err;
	return build_sizes(ks, kind);
}

vigil_error vg_hashdb_freeze(vg_hashdb *db)
{
	if (!db)
		return VIGIL_EINVAL;
	if (db->frozen)
		return VIGIL_OK;
	for (int i = 0; i < VG_HASH_KINDS; i++) {
		vigil_error err = kindset_freeze(&db->k[i], (vg_hash_kind)i);
		if (err != VIGIL_OK)
			return err;
	}
	/* the name set only serves loading */
	free(db->names);
	db->names = NULL;
	db->names_cap = db->names_used = 0;
	db->last_off1 = 0;
	if (db->pool_len && db->pool_len < db->pool_cap) {
		char *np = realloc(db->pool, db->pool_len);
		if (np) {
			db->pool = np;
			db->pool_cap = db->pool_len;
		}
	}
	db->frozen = 1;
	return VIGIL_OK;
}

/* ------------------------------------------------------------------ */
/* Look-ups                                                            */
/* ------------------------------------------------------------------ */

/* The name at a pool offset; the pool ends in a NUL (checked when an
 * image is mapped), so any offset inside it is a string. */
static const char *name_at(const vg_hashdb *db, uint32_t off)
{
	return off < db->pool_len ? db->pool + off : "(damaged name)";
}

/* First record in [lo, hi) not below (hash, size32). */
static size_t lower_bound(const struct kindset *ks, size_t len, size_t lo,
                          size_t hi, const uint8_t *hash, uint32_t size32)
{
	size_t stride = len + 8;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const uint8_t *r = ks->rec + mid * stride;
		int c = memcmp(r, hash, len);
		if (c == 0) {
			uint32_t s = rd32(r + len);
			c = s < size32 ? -1 : s > size32;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const char *vg_hashdb_lookup(const vg_hashdb *db, vg_hash_kind kind,
                             const uint8_t *hash, uint64_t size)
{
	const struct kindset *ks;
	size_t len, stride, lo, hi, at;
	uint32_t p;

	if (!db || !db->frozen || (unsigned)kind >= VG_HASH_KINDS)
		return NULL;
	ks = &db->k[kind];
	if (ks->n == 0)
		return NULL;
	len = hash_lens[kind];
	stride = len + 8;
	p = prefix_of(hash, ks->bits);
	lo = ks->index[p];
	hi = ks->index[p + 1];
	/* a mapped image is checked here rather than at load, which then
	 * touches no page of it: a damaged index finds nothing */
	if (lo > hi || hi > ks->n)
		return NULL;
	/* an exact size first, then "*", which sorts last */
	if (size <= VG_HASH_MAX_SIZE) {
		at = lower_bound(ks, len, lo, hi, hash, (uint32_t)size);
		if (at < hi && memcmp(ks->rec + at * stride, hash, len) == 0 &&
		    rd32(ks->rec + at * stride + len) == (uint32_t)size)
			return name_at(db, rd32(ks->rec + at * stride + len + 4));
	}
	if (!ks->any_size)
		return NULL;
	at = lower_bound(ks, len, lo, hi, hash, ANY32);
	if (at < hi && memcmp(ks->rec + at * stride, hash, len) == 0)
		return name_at(db, rd32(ks->rec + at * stride + len + 4));
	return NULL;
}

static int has_size(const struct kindset *ks, uint64_t size)
{
	size_t lo = 0, hi = ks->nsizes;

	if (ks->any_size)
		return 1;
	if (size > VG_HASH_MAX_SIZE)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ks->sizes[mid] < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ks->nsizes && ks->sizes[lo] == size;
}

unsigned vg_hashdb_digests(const vg_hashdb *db, uint64_t size)
{
	unsigned need = 0;

	if (!db || !db->frozen)
		return 0;
	if (db->k[VG_HASH_MD5].n && has_size(&db->k[VG_HASH_MD5], size))
		need |= VG_DIGEST_MD5;
	if (db->k[VG_HASH_SHA1].n && has_size(&db->k[VG_HASH_SHA1], size))
		need |= VG_DIGEST_SHA1;
	if (db->k[VG_HASH_SHA256].n)
		need |= VG_DIGEST_SHA256;
	return need;
}

uint64_t vg_hashdb_count(const vg_hashdb *db)
{
	uint64_t n = 0;

	if (!db)
		return 0;
	for (int i = 0; i < VG_HASH_KINDS; i++)
		n += db->k[i].n;
	return n;
}

size_t vg_hashdb_memory(const vg_hashdb *db)
{
	size_t m;

	if (!db)
		return 0;
	if (db->mapped)
		return sizeof *db;
	m = sizeof *db + db->pool_cap + db->names_cap * sizeof *db->names;
	for (int i = 0; i < VG_HASH_KINDS; i++) {
		const struct kindset *ks = &db->k[i];
		m += ks->cap * stride_of((vg_hash_kind)i);
		m += ks->nsizes * sizeof *ks->sizes;
		if (ks->index)
			m += (((size_t)1 << ks->bits) + 1) * sizeof *ks->index;
	}
	return m;
}

vg_hashdb_mark vg_hashdb_checkpoint(const vg_hashdb *db)
{
	vg_hashdb_mark m;

	for (int i = 0; i < VG_HASH_KINDS; i++)
		m.n[i] = db->k[i].n;
	return m;
}

void vg_hashdb_roll_back(vg_hashdb *db, const vg_hashdb_mark *m)
{
	/* names added since stay in the pool: harmless, and still valid
	 * for the name set */
	if (db->frozen)
		return;
	for (int i = 0; i < VG_HASH_KINDS; i++)
		if (m->n[i] <= db->k[i].n)
			db->k[i].n = m->n[i];
}
