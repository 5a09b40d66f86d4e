/*
 * stage_ml.c - the ML stage: scores every PE layer (top level or pulled
 * out of an archive) with the gradient-boosted tree model and reports
 * ML.PE.Malicious / ML.PE.Suspicious with the score and the features
 * that pushed it up most. Also the exported ML API of vigil/ml.h.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/vg.h"
#include "engine/bundle.h"
#include "ml/features.h"
#include "vigil/ml.h"
#include "ml/model.h"

/* Largest model file read: far above any real model. */
#define ML_MAX_MODEL_FILE (64u << 20)
/* Features named in an explanation (one line). */
#define ML_EXPLAIN_TOP 3

typedef struct ml_state {
	vg_ml_model *loaded;          /* from vigil_engine_load, or NULL */
	uint8_t *raw;                 /* its file, for bundles */
	size_t raw_len;
	int frozen;                   /* groups below is known */
	unsigned groups;              /* costly feature groups the model reads */
} ml_state;

static int engine_ok(const vigil_engine *e)
{
	return e && e->magic == VG_ENGINE_MAGIC;
}

static ml_state *state_of(const vigil_engine *e)
{
	return e ? e->stage_state[VG_STAGE_ml] : NULL;
}

static ml_state *state_get(vigil_engine *e)
{
	if (!e->stage_state[VG_STAGE_ml])
		e->stage_state[VG_STAGE_ml] = calloc(1, sizeof(ml_state));
	return e->stage_state[VG_STAGE_ml];
}

static const vg_ml_model *model_of(const vigil_engine *e)
{
	const ml_state *st = state_of(e);
	return st && st->loaded ? st->loaded : &vg_ml_builtin_model;
}

/* The model's own thresholds, for those vigil_engine_set_threshold did
 * not set (engine.c). */
double vg_ml_threshold_default(const vigil_engine *e, vigil_threshold which)
{
	const vg_ml_model *m = model_of(e);

	return which == VIGIL_THRESHOLD_ML_MALICIOUS ? m->threshold_malicious
	                                             : m->threshold_suspicious;
}

/* ------------------------------------------------------------------ */
/* Explanations                                                        */
/* ------------------------------------------------------------------ */

static void explain(const vg_ml_model *m, const double *x, char *out,
                    size_t size)
{
	double contrib[VG_ML_NFEATURES] = { 0 };
	int top[ML_EXPLAIN_TOP];
	int ntop = 0;
	size_t len;

	(void)vg_ml_contributions(m, x, contrib);
	/* The few largest positive contributions, largest first. */
	for (int k = 0; k < ML_EXPLAIN_TOP; k++) {
		int best = -1;
		for (int i = 0; i < VG_ML_NFEATURES; i++) {
			int used = 0;
			for (int j = 0; j < ntop; j++)
				used |= top[j] == i;
			if (!used && contrib[i] > 0.005 &&
			    (best < 0 || contrib[i] > contrib[best]))
				best = i;
		}
		if (best < 0)
			break;
		top[ntop++] = best;
	}
	len = (size_t)snprintf(out, size, "model %s; up:", m->version);
	if (ntop == 0 && len < size)
		len += (size_t)snprintf(out + len, size - len, " (none)");
	for (int j = 0; j < ntop && len < size; j++) {
		char what[96];
		vg_ml_describe(top[j], x[top[j]], what, sizeof what);
		len += (size_t)snprintf(out + len, size - len, "%s %s (+%.2f)",
		                        j ? "," : "", what, contrib[top[j]]);
	}
}

/* ------------------------------------------------------------------ */
/* The stage                                                           */
/* ------------------------------------------------------------------ */

/* Parses a model image and makes it the engine's; what names it. */
static vigil_error install_model(vigil_engine *e, const uint8_t *buf,
                                 size_t n, const char *what)
{
	vg_ml_model *m = NULL;
	char why[128];
	ml_state *st;
	uint8_t *raw;

	if (vg_ml_model_parse(buf, n, &m, why, sizeof why) != 0)
		return vg_engine_fail(e, VIGIL_EMODEL, "%s: %s", what, why);
	if (m->nfeatures != VG_ML_NFEATURES ||
	    m->feature_hash != vg_ml_feature_hash()) {
		vigil_error err = vg_engine_fail(e, VIGIL_EMODEL,
			"%s: model %s was built for another feature list "
			"(hash %016llx, this vigil %016llx)", what, m->version,
			(unsigned long long)m->feature_hash,
			(unsigned long long)vg_ml_feature_hash());
		vg_ml_model_free(m);
		return err;
	}
	if (!(st = state_get(e)) || !(raw = malloc(n ? n : 1))) {
		vg_ml_model_free(m);
		return vg_engine_fail(e, VIGIL_ENOMEM, "out of memory");
	}
	memcpy(raw, buf, n);
	vg_ml_model_free(st->loaded);
	free(st->raw);
	st->loaded = m;
	st->raw = raw;
	st->raw_len = n;
	return VIGIL_OK;
}

static vigil_error ml_load(vigil_engine *e, const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n = -1;
	vigil_error err;

	if (!fp)
		return vg_engine_fail(e, VIGIL_EIO, "%s: cannot open model", path);
	if (fseek(fp, 0, SEEK_END) == 0)
		n = ftell(fp);
	if (n < 0 || n > (long)ML_MAX_MODEL_FILE || fseek(fp, 0, SEEK_SET) != 0 ||
	    !(buf = malloc(n ? (size_t)n : 1)) ||
	    fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		fclose(fp);
		free(buf);
		return vg_engine_fail(e, VIGIL_EIO, "%s: cannot read model", path);
	}
	fclose(fp);
	err = install_model(e, buf, (size_t)n, path);
	free(buf);
	return err;
}

static vigil_error ml_load_part(vigil_engine *e, const vg_bundle_part *p,
                                const char *bundle)
{
	char what[4200];

	snprintf(what, sizeof what, "%s: part %s", bundle, p->name);
	if (p->size > ML_MAX_MODEL_FILE)
		return vg_engine_fail(e, VIGIL_EMODEL, "%s: model too large", what);
	return install_model(e, p->data, (size_t)p->size, what);
}

/* The model loaded (not the built-in one), as it was read. */
static vigil_error ml_save(vigil_engine *e, vg_bundle_writer *w)
{
	const ml_state *st = state_of(e);
	vigil_error err;

	if (!st || !st->loaded)
		return VIGIL_OK;
	if ((err = vg_bundle_part_begin(w, VG_PART_MODEL, 0, "model.vgm")) ||
	    (err = vg_bundle_part_write(w, st->raw, st->raw_len)))
		return err;
	return vg_bundle_part_end(w, 1);
}

static vigil_error ml_freeze(vigil_engine *e)
{
	unsigned char used[VG_ML_NFEATURES] = { 0 };
	ml_state *st = state_get(e);
	if (!st)
		return vg_engine_fail(e, VIGIL_ENOMEM, "out of memory");
	/* a loaded model reads exactly vigil's features (ml_load checks) */
	vg_ml_used_features(model_of(e), used);
	st->groups = vg_ml_groups_of(used);
	st->frozen = 1;
	return VIGIL_OK;
}

static void ml_engine_free(vigil_engine *e)
{
	ml_state *st = e->stage_state[VG_STAGE_ml];
	if (!st)
		return;
	vg_ml_model_free(st->loaded);
	free(st->raw);
	free(st);
	e->stage_state[VG_STAGE_ml] = NULL;
}

static vigil_error ml_scan(vg_ctx *ctx, const vg_layer *layer, void *state)
{
	const vigil_engine *e = ctx->engine;
	const vg_ml_model *m = model_of(e);
	const ml_state *st = state_of(e);
	double x[VG_ML_NFEATURES], score, tmal, tsus;
	char detail[512];
	const char *name;
	vigil_verdict v;

	(void)state;
	if (layer->type != VG_FT_PE || e->options[VIGIL_OPT_NO_ML])
		return VIGIL_OK;
	/* Only the feature groups the model reads: a scan pays for no
	 * entropy it does not score. */
	if (vg_ml_extract_some(layer->data, layer->size, x,
	                       st && st->frozen ? st->groups
	                                        : VG_ML_ALL_FEATURES) != 0)
		return VIGIL_OK;
	score = vg_ml_score(m, x);
	ctx->ml_score = score;
	tmal = vigil_engine_get_threshold(e, VIGIL_THRESHOLD_ML_MALICIOUS);
	tsus = vigil_engine_get_threshold(e, VIGIL_THRESHOLD_ML_SUSPICIOUS);
	if (score >= tmal) {
		name = "ML.PE.Malicious";
		v = VIGIL_MALICIOUS;
	} else if (score >= tsus) {
		name = "ML.PE.Suspicious";
		v = VIGIL_SUSPICIOUS;
	} else {
		return VIGIL_OK;
	}
	{
		int n = snprintf(detail, sizeof detail, "score %.4f (threshold %.4f); ",
		                 score, v == VIGIL_MALICIOUS ? tmal : tsus);
		explain(m, x, detail + n, sizeof detail - (size_t)n);
	}
	return vg_report(ctx, layer, "ml", name, v, score, detail);
}

static const char *const ml_extensions[] = { ".vgm", NULL };

const vg_stage vg_stage_ml = {
	.name = "ml",
	.extensions = ml_extensions,
	.load = ml_load,
	.freeze = ml_freeze,
	.engine_free = ml_engine_free,
	.scan = ml_scan,
	.load_part = ml_load_part,
	.save = ml_save,
};

/* ------------------------------------------------------------------ */
/* Exported API (vigil/ml.h)                                              */
/* ------------------------------------------------------------------ */

VIGIL_API size_t vigil_ml_feature_count(void)
{
	return VG_ML_NFEATURES;
}

VIGIL_API const char *vigil_ml_feature_name(size_t i)
{
	return i < VG_ML_NFEATURES ? vg_ml_feature_names[i] : NULL;
}

VIGIL_API vigil_error vigil_ml_features(const void *data, size_t size,
                                        double *out)
{
	if (!out || (!data && size))
		return VIGIL_EINVAL;
	return vg_ml_extract(data, size, out) == 0 ? VIGIL_OK : VIGIL_EFORMAT;
}

/* ClaMP_Integrated's flag columns that reuse a raw field's name. */
static const char *const integrated_flags[][2] = {
	{ "ImageBase", "ImageBase_std" },
	{ "SectionAlignment", "SectionAlignment_ok" },
	{ "FileAlignment", "FileAlignment_ok" },
	{ "SizeOfImage", "SizeOfImage_ok" },
	{ "SizeOfHeaders", "SizeOfHeaders_ok" },
	{ "LoaderFlags", "LoaderFlags_zero" },
	{ "CreationYear", "CreationYear_ok" },
};

VIGIL_API size_t vigil_ml_map_columns(const char *const *cols, size_t n,
                                      int *map)
{
	int integrated = 0;
	size_t mapped = 0;

	if (!cols || !map)
		return 0;
	for (size_t i = 0; i < n; i++)
		integrated |= cols[i] && strcmp(cols[i], "FH_char0") == 0;
	for (size_t i = 0; i < n; i++) {
		const char *c = cols[i] ? cols[i] : "";
		if (integrated)
			for (size_t k = 0; k < sizeof integrated_flags /
			                           sizeof integrated_flags[0]; k++)
				if (strcmp(c, integrated_flags[k][0]) == 0)
					c = integrated_flags[k][1];
		map[i] = vg_ml_feature_index(c);
		mapped += map[i] >= 0;
	}
	return mapped;
}

VIGIL_API vigil_error vigil_ml_score_row(const vigil_engine *e,
                                         const double *row, double *score,
                                         char *explain_out, size_t size)
{
	double x[VG_ML_NFEATURES];
	const vg_ml_model *m;

	if (!row || !score || (e && !engine_ok(e)))
		return VIGIL_EINVAL;
	m = model_of(e);
	memcpy(x, row, sizeof x);
	vg_ml_derive(x);
	*score = vg_ml_score(m, x);
	if (explain_out && size)
		explain(m, x, explain_out, size);
	return VIGIL_OK;
}

VIGIL_API const char *vigil_ml_model_version(const vigil_engine *e)
{
	if (e && !engine_ok(e))
		return "";
	return model_of(e)->version;
}
