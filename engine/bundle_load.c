/*
 * bundle_load.c - bundles and engines: loading a bundle into an engine
 * (check, map, hand each part to its stage), writing an engine out as a
 * bundle, and the engine's bundle settings of vigil.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "engine/bundle.h"

#ifndef VIGIL_TRUST_DIR
#define VIGIL_TRUST_DIR "/etc/vigil/trusted-keys"
#endif

static int engine_ok(const vigil_engine *e)
{
	return e && e->magic == VG_ENGINE_MAGIC;
}

/* The stage that owns a part kind. */
static const vg_stage *stage_of_kind(uint32_t kind)
{
	switch (kind) {
	case VG_PART_HASHES:
	case VG_PART_ALLOWLIST: return vg_stages[VG_STAGE_hash];
	case VG_PART_YARA: return vg_stages[VG_STAGE_yara];
	case VG_PART_CLAMAV: return vg_stages[VG_STAGE_clamav];
	case VG_PART_MODEL: return vg_stages[VG_STAGE_ml];
	}
	return NULL;
}

/* Checks signature (or, for an allowed unsigned bundle, the parts'
 * digests) and version. */
static vg_bundle_status check(vigil_engine *e, const vg_bundle *b,
                              unsigned flags, char *why, size_t whylen)
{
	const char *trust = e->trust_dir ? e->trust_dir : VIGIL_TRUST_DIR;
	int allow = e->options[VIGIL_OPT_ALLOW_UNSIGNED];
	vg_bundle_status st;

	if (b->sig_alg != VG_BUNDLE_UNSIGNED || !allow) {
		st = vg_bundle_verify(b, trust, why, whylen);
		if (st == VG_BUNDLE_UNTRUSTED && allow)
			st = VG_BUNDLE_OK;
	} else {
		st = (flags & VG_BUNDLE_LOAD_NO_DIGESTS) ? VG_BUNDLE_OK
		     : vg_bundle_check_parts(b, why, whylen);
	}
	if (st != VG_BUNDLE_OK)
		return st;
	if (b->version < e->min_bundle_version) {
		snprintf(why, whylen, "bundle version %llu is older than version "
		         "%llu, the one in use: refusing to roll back",
		         (unsigned long long)b->version,
		         (unsigned long long)e->min_bundle_version);
		return VG_BUNDLE_ROLLBACK;
	}
	return VG_BUNDLE_OK;
}

vigil_error vg_bundle_load(vigil_engine *e, const char *path, unsigned flags)
{
	char why[VG_ERRMSG_MAX];
	vg_bundle_status st;
	vg_bundle_map *m;
	vigil_error err = VIGIL_OK;
	vg_bundle b;

	st = vg_bundle_open(&b, path, why, sizeof why);
	if (st == VG_BUNDLE_OK)
		st = check(e, &b, flags, why, sizeof why);
	if (st != VG_BUNDLE_OK) {
		vg_bundle_close(&b);
		return vg_engine_fail(e, vg_bundle_error(st), "%s: %s", path, why);
	}
	/* the stages read from the mapping until the engine is freed */
	if (!(m = calloc(1, sizeof *m))) {
		vg_bundle_close(&b);
		return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory", path);
	}
	m->image = b.image;
	m->size = b.size;
	m->next = e->bundles;
	e->bundles = m;
	vg_bundle_keep_image(&b);
	for (uint32_t i = 0; i < b.nparts && err == VIGIL_OK; i++) {
		const vg_stage *stage = stage_of_kind(b.parts[i].kind);
		if ((flags & VG_BUNDLE_LOAD_OWN_PARTS) &&
		    (b.parts[i].kind == VG_PART_YARA ||
		     b.parts[i].kind == VG_PART_CLAMAV))
			continue;
		if (!stage || !stage->load_part)
			err = vg_engine_fail(e, VIGIL_EDATABASE, "%s: part %s: no "
			                     "stage loads kind %u", path,
			                     b.parts[i].name, b.parts[i].kind);
		else
			err = stage->load_part(e, &b.parts[i], path);
	}
	if (err == VIGIL_OK && b.version > e->bundle_version)
		e->bundle_version = b.version;
	vg_bundle_close(&b);
	return err;
}

vigil_error vg_bundle_save(vigil_engine *e, const char *path,
                           uint64_t version)
{
	char why[VG_ERRMSG_MAX];
	vg_bundle_writer *w;
	vigil_error err;

	if ((err = vg_bundle_writer_open(path, &w, why, sizeof why)))
		return vg_engine_fail(e, err, "%s", why);
	for (int i = 0; i < VG_STAGE_COUNT; i++) {
		if (!vg_stages[i]->save)
			continue;
		if ((err = vg_stages[i]->save(e, w)) != VIGIL_OK) {
			vg_bundle_writer_abort(w);
			if (!e->errmsg[0])
				vg_engine_fail(e, err, "%s: %s", path, vigil_strerror(err));
			return err;
		}
	}
	if (!version)
		version = (uint64_t)time(NULL);
	if ((err = vg_bundle_writer_finish(w, version, why, sizeof why)))
		return vg_engine_fail(e, err, "%s", why);
	return VIGIL_OK;
}

void vg_bundle_maps_free(vigil_engine *e)
{
	vg_bundle_map *m = e->bundles, *next;

	for (; m; m = next) {
		next = m->next;
		munmap((void *)m->image, m->size);
		free(m);
	}
	e->bundles = NULL;
}

/* ------------------------------------------------------------------ */
/* The engine's bundle settings (vigil.h)                              */
/* ------------------------------------------------------------------ */

VIGIL_API const char *vigil_default_trust_dir(void)
{
	return VIGIL_TRUST_DIR;
}

VIGIL_API vigil_error vigil_engine_set_trust_dir(vigil_engine *e,
                                                 const char *dir)
{
	char *copy = NULL;

	if (!engine_ok(e))
		return VIGIL_EINVAL;
	if (e->frozen)
		return vg_engine_fail(e, VIGIL_EFROZEN,
		                      "the trust store cannot change after freeze");
	if (dir && !(copy = strdup(dir)))
		return VIGIL_ENOMEM;
	free(e->trust_dir);
	e->trust_dir = copy;
	return VIGIL_OK;
}

VIGIL_API vigil_error vigil_engine_set_min_bundle_version(vigil_engine *e,
                                                          uint64_t version)
{
	if (!engine_ok(e))
		return VIGIL_EINVAL;
	if (e->frozen)
		return vg_engine_fail(e, VIGIL_EFROZEN,
		                      "the minimum version cannot change after freeze");
	e->min_bundle_version = version;
	return VIGIL_OK;
}

VIGIL_API uint64_t vigil_engine_bundle_version(const vigil_engine *e)
{
	return engine_ok(e) ? e->bundle_version : 0;
}

VIGIL_API vigil_error vigil_engine_save_bundle(vigil_engine *e,
                                               const char *path,
                                               uint64_t version)
{
	if (!engine_ok(e) || !path)
		return VIGIL_EINVAL;
	if (!e->frozen)
		return vg_engine_fail(e, VIGIL_ENOTFROZEN,
		                      "freeze the engine before writing a bundle");
	e->errmsg[0] = '\0';
	return vg_bundle_save(e, path, version);
}
