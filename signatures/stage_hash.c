/*
 * stage_hash.c - the first stage: allowlists, hash sets and the built-in
 * test signatures.
 *
 * .hdb/.hsb files fill the signature set, .fp/.sfp files the allowlist
 * (signatures/hashdb.c reads both). An allowlisted object is clean: the
 * stage sets ctx->allowlisted and the pipeline skips every later stage
 * and the unpackers for that layer. The digests hook asks for MD5 and
 * SHA-1 only for sizes some entry has, so most objects get neither.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/vg.h"
#include "engine/bundle.h"
#include "signatures/builtin.h"
#include "signatures/hashdb.h"

/* Hash sets mapped from bundles, at most this many per engine. */
#define MAX_MAPPED 16

struct hash_state {
	vg_hashdb *sigs;  /* .hdb .hsb: findings */
	vg_hashdb *allow; /* .fp .sfp: clean */
	int builtins;     /* built-in test signatures on; set at freeze */
	/* from bundles, used in place: findings, then allowlists */
	vg_hashdb *msigs[MAX_MAPPED], *mallow[MAX_MAPPED];
	size_t nmsigs, nmallow;
};

static const char *const hash_extensions[] = { ".hdb", ".hsb", ".fp",
                                               ".sfp", NULL };

/* Checked strongest first: a SHA-256 hit is named over an MD5 one. */
static const vg_hash_kind kind_order[VG_HASH_KINDS] = {
	VG_HASH_SHA256, VG_HASH_SHA1, VG_HASH_MD5
};

static struct hash_state *state_of(const vigil_engine *e)
{
	return e->stage_state[VG_STAGE_hash];
}

static struct hash_state *state_get(vigil_engine *e)
{
	if (!e->stage_state[VG_STAGE_hash])
		e->stage_state[VG_STAGE_hash] = calloc(1, sizeof(struct hash_state));
	return e->stage_state[VG_STAGE_hash];
}

static int is_allowlist(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot && (strcasecmp(dot, ".fp") == 0 || strcasecmp(dot, ".sfp") == 0);
}

static vigil_error hash_load(vigil_engine *e, const char *path)
{
	struct hash_state *st = state_get(e);
	vg_hashdb **db;

	if (!st)
		return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory", path);
	db = is_allowlist(path) ? &st->allow : &st->sigs;
	if (!*db && !(*db = vg_hashdb_new()))
		return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory", path);
	return vg_hashdb_load(*db, e, path);
}

static vigil_error hash_freeze(vigil_engine *e)
{
	struct hash_state *st = state_get(e);

	if (!st)
		return vg_engine_fail(e, VIGIL_ENOMEM, "hash sets: out of memory");
	st->builtins = !e->options[VIGIL_OPT_NO_DEFAULT_SIGNATURES];
	if ((st->sigs && vg_hashdb_freeze(st->sigs) != VIGIL_OK) ||
	    (st->allow && vg_hashdb_freeze(st->allow) != VIGIL_OK))
		return vg_engine_fail(e, VIGIL_ENOMEM, "hash sets: out of memory");
	return VIGIL_OK;
}

static void hash_engine_free(vigil_engine *e)
{
	struct hash_state *st = state_of(e);

	if (!st)
		return;
	vg_hashdb_free(st->sigs);
	vg_hashdb_free(st->allow);
	for (size_t i = 0; i < st->nmsigs; i++)
		vg_hashdb_free(st->msigs[i]);
	for (size_t i = 0; i < st->nmallow; i++)
		vg_hashdb_free(st->mallow[i]);
	free(st);
	e->stage_state[VG_STAGE_hash] = NULL;
}

/* The digest of this kind if the pipeline computed it, else NULL. */
static const uint8_t *digest_of(const vg_digest *d, vg_hash_kind kind)
{
	switch (kind) {
	case VG_HASH_MD5: return (d->have & VG_DIGEST_MD5) ? d->md5 : NULL;
	case VG_HASH_SHA1: return (d->have & VG_DIGEST_SHA1) ? d->sha1 : NULL;
	case VG_HASH_SHA256: return (d->have & VG_DIGEST_SHA256) ? d->sha256 : NULL;
	}
	return NULL;
}

static int allowlisted_in(const vg_hashdb *allow, const vg_layer *layer)
{
	for (int i = 0; i < VG_HASH_KINDS; i++) {
		const uint8_t *h = digest_of(&layer->digest, kind_order[i]);
		if (h && vg_hashdb_lookup(allow, kind_order[i], h, layer->size))
			return 1;
	}
	return 0;
}

static int allowlisted(const struct hash_state *st, const vg_layer *layer)
{
	if (st->allow && allowlisted_in(st->allow, layer))
		return 1;
	for (size_t i = 0; i < st->nmallow; i++)
		if (allowlisted_in(st->mallow[i], layer))
			return 1;
	return 0;
}

static vigil_error scan_builtins(vg_ctx *ctx, const vg_layer *layer)
{
	const char *name;

	if (vg_builtin_is_eicar(layer->data, layer->size))
		return vg_report(ctx, layer, "builtin", VG_BUILTIN_EICAR_NAME,
		                 VIGIL_MALICIOUS, 1.0, "EICAR test file");
	if ((name = vg_builtin_hash_match(&layer->digest, layer->size)))
		return vg_report(ctx, layer, "builtin", name, VIGIL_MALICIOUS,
		                 1.0, "sha256");
	return VIGIL_OK;
}

/* One finding per distinct name, whichever digests (and sets) match. */
static vigil_error scan_sigs(vg_ctx *ctx, const vg_layer *layer,
                             const vg_hashdb *const *sets, size_t nsets)
{
	const char *seen[VG_HASH_KINDS * (MAX_MAPPED + 1)];
	size_t nseen = 0;

	for (size_t si = 0; si < nsets * VG_HASH_KINDS && !ctx->stop; si++) {
		vg_hash_kind kind = kind_order[si % VG_HASH_KINDS];
		const vg_hashdb *sigs = sets[si / VG_HASH_KINDS];
		const uint8_t *h = digest_of(&layer->digest, kind);
		const char *name;
		size_t j;

		if (!h || !(name = vg_hashdb_lookup(sigs, kind, h, layer->size)))
			continue;
		for (j = 0; j < nseen && strcmp(seen[j], name) != 0; j++)
			;
		if (j < nseen)
			continue;
		seen[nseen++] = name;
		vigil_error err = vg_report(ctx, layer, "hash", name,
		                            VIGIL_MALICIOUS, 1.0,
		                            vg_hash_kind_name(kind));
		if (err != VIGIL_OK)
			return err;
	}
	return VIGIL_OK;
}

static vigil_error hash_scan(vg_ctx *ctx, const vg_layer *layer, void *unused)
{
	const struct hash_state *st = state_of(ctx->engine);
	vigil_error err;

	if (!st)
		return VIGIL_OK;
	if ((st->allow || st->nmallow) && allowlisted(st, layer)) {
		ctx->allowlisted = 1;
		return VIGIL_OK;
	}
	if (st->builtins) {
		if ((err = scan_builtins(ctx, layer)) != VIGIL_OK || ctx->stop)
			return err;
	}
	if (st->sigs && (err = scan_sigs(ctx, layer,
	                                 (const vg_hashdb *const *)&st->sigs, 1)))
		return err;
	if (st->nmsigs && !ctx->stop)
		return scan_sigs(ctx, layer, (const vg_hashdb *const *)st->msigs,
		                 st->nmsigs);
	return VIGIL_OK;
}

static uint64_t hash_count(const vigil_engine *e)
{
	const struct hash_state *st = state_of(e);

	if (!st)
		return 0;
	uint64_t n = vg_hashdb_count(st->sigs) + vg_hashdb_count(st->allow) +
	             (st->builtins ? vg_builtin_count() : 0);
	for (size_t i = 0; i < st->nmsigs; i++)
		n += vg_hashdb_count(st->msigs[i]);
	for (size_t i = 0; i < st->nmallow; i++)
		n += vg_hashdb_count(st->mallow[i]);
	return n;
}

static unsigned hash_digests(const vigil_engine *e, uint64_t size)
{
	const struct hash_state *st = state_of(e);

	if (!st)
		return 0;
	unsigned need = vg_hashdb_digests(st->sigs, size) |
	                vg_hashdb_digests(st->allow, size) |
	                (st->builtins ? vg_builtin_digests(size) : 0);
	for (size_t i = 0; i < st->nmsigs; i++)
		need |= vg_hashdb_digests(st->msigs[i], size);
	for (size_t i = 0; i < st->nmallow; i++)
		need |= vg_hashdb_digests(st->mallow[i], size);
	return need;
}

/* ------------------------------------------------------------------ */
/* Bundles                                                             */
/* ------------------------------------------------------------------ */

/* A hash set part, used in place from the bundle's mapping. */
static vigil_error hash_load_part(vigil_engine *e, const vg_bundle_part *p,
                                  const char *bundle)
{
	struct hash_state *st = state_get(e);
	int allow = p->kind == VG_PART_ALLOWLIST;
	size_t *n;
	vg_hashdb *db;
	char why[256];
	vigil_error err;

	if (!st)
		return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory", bundle);
	n = allow ? &st->nmallow : &st->nmsigs;
	if (*n == MAX_MAPPED)
		return vg_engine_fail(e, VIGIL_EDATABASE, "%s: more than %d %s "
		                      "sets loaded from bundles", bundle, MAX_MAPPED,
		                      allow ? "allowlist" : "hash");
	if ((err = vg_hashdb_map_image(p->data, (size_t)p->size, &db, why,
	                               sizeof why)) != VIGIL_OK)
		return vg_engine_fail(e, err, "%s: part %s: %s", bundle, p->name,
		                      why);
	(allow ? st->mallow : st->msigs)[(*n)++] = db;
	return VIGIL_OK;
}

static vigil_error write_to_part(void *w, const void *p, size_t n)
{
	return vg_bundle_part_write(w, p, n);
}

static vigil_error save_set(vg_bundle_writer *w, const vg_hashdb *db,
                            vg_part_kind kind, const char *name)
{
	vigil_error err;

	if (!db || vg_hashdb_count(db) == 0)
		return VIGIL_OK;
	if ((err = vg_bundle_part_begin(w, kind, 0, name)) ||
	    (err = vg_hashdb_write_image(db, write_to_part, w)))
		return err;
	return vg_bundle_part_end(w, vg_hashdb_count(db));
}

/* Each set its own part: the loose files' (sorted at freeze) and any
 * mapped from bundles loaded before, so a bundle can extend another. */
static vigil_error hash_save(vigil_engine *e, vg_bundle_writer *w)
{
	const struct hash_state *st = state_of(e);
	vigil_error err;
	char name[32];

	if (!st)
		return VIGIL_OK;
	if ((err = save_set(w, st->sigs, VG_PART_HASHES, "hashes")) ||
	    (err = save_set(w, st->allow, VG_PART_ALLOWLIST, "allowlist")))
		return err;
	for (size_t i = 0; i < st->nmsigs; i++) {
		snprintf(name, sizeof name, "hashes-%zu", i + 1);
		if ((err = save_set(w, st->msigs[i], VG_PART_HASHES, name)))
			return err;
	}
	for (size_t i = 0; i < st->nmallow; i++) {
		snprintf(name, sizeof name, "allowlist-%zu", i + 1);
		if ((err = save_set(w, st->mallow[i], VG_PART_ALLOWLIST, name)))
			return err;
	}
	return VIGIL_OK;
}

const vg_stage vg_stage_hash = {
	.name = "hash",
	.extensions = hash_extensions,
	.load = hash_load,
	.freeze = hash_freeze,
	.engine_free = hash_engine_free,
	.scan = hash_scan,
	.count = hash_count,
	.digests = hash_digests,
	.load_part = hash_load_part,
	.save = hash_save,
};
