/*
 * stage_yara.c - the YARA stage: scans each layer's bytes, already in
 * memory, with every loaded rule set through one YR_SCANNER per set and
 * per vigil scanner, setting the external variables for each object.
 * An MZ set is skipped for objects not starting "MZ", a not-MZ set for
 * the others (yara_gate.h).
 * Loading and compiling live in yara_rules.c; see doc/yara.md.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/bundle.h"
#include "signatures/yara_externals.h"
#include "signatures/yara_gate.h"
#include "signatures/yara_rules.h"

/* Per vigil scanner: one YR_SCANNER per rule set, and the object being
 * scanned, for the callback. */
typedef struct yara_scan {
	const vg_yara *y;
	vg_ctx *ctx;                 /* the scan in progress */
	const vg_layer *layer;
	const vg_yara_set *set;      /* the set being scanned */
	vigil_error err;             /* first error met in the callback */
	double tmal, tsus;           /* YARA score thresholds, for reasons */
	char *ext;                   /* the extension external, reused */
	size_t ext_cap;
	size_t nscanners;
	YR_SCANNER *scanners[];
} yara_scan;

static int on_rule_match(yara_scan *s, const YR_RULE *rule)
{
	char name[512], detail[1024], reason[160];
	const vg_yara_set *set = s->set;
	size_t idx = (size_t)(rule - set->rules->rules_table);
	const vg_yara_sev *sev;
	const char *tag, *desc;
	size_t n;

	if (idx >= set->rules->num_rules)
		return CALLBACK_ERROR; /* not a rule of this set: cannot be */
	/* the rule's metadata was read once, at freeze */
	sev = &set->sev[idx];
	desc = sev->description;
	n = (size_t)snprintf(detail, sizeof detail, "%s", desc);
	yr_rule_tags_foreach(rule, tag) {
		const char *sep = tag == rule->tags ? (*desc ? " [tags: " : "[tags: ")
		                                    : " ";
		if (n < sizeof detail)
			n += (size_t)snprintf(detail + n, sizeof detail - n, "%s%s",
			                      sep, tag);
	}
	if (rule->tags && *rule->tags && n < sizeof detail)
		snprintf(detail + n, sizeof detail - n, "]");
	snprintf(name, sizeof name, "%s:%s", rule->ns->name, rule->identifier);
	vg_yara_reason(sev, s->tmal, s->tsus, reason, sizeof reason);

	s->err = vg_report_why(s->ctx, s->layer, "yara", name,
	                       (vigil_verdict)sev->verdict, vg_yara_score(sev),
	                       detail, reason);
	if (s->err != VIGIL_OK)
		return CALLBACK_ERROR;
	return s->ctx->stop ? CALLBACK_ABORT : CALLBACK_CONTINUE;
}

/* A string matched more often than libyara keeps (YR_MAX_STRING_MATCHES):
 * later matches of that string are dropped, as the yara command does, and
 * the result says it is incomplete. */
static int on_too_many_matches(yara_scan *s, const YR_STRING *str)
{
	const YR_RULE *rule = &s->set->rules->rules_table[str->rule_idx];
	char reason[512];

	snprintf(reason, sizeof reason,
	         "string %s of YARA rule %s:%s matched more than %d times; "
	         "later matches were skipped", str->identifier, rule->ns->name,
	         rule->identifier, YR_MAX_STRING_MATCHES);
	s->err = vg_limit_hit(s->ctx, s->layer, "Limit.YaraTooManyMatches",
	                      reason);
	if (s->err != VIGIL_OK)
		return CALLBACK_ERROR;
	return s->ctx->stop ? CALLBACK_ABORT : CALLBACK_CONTINUE;
}

static int on_yara_msg(YR_SCAN_CONTEXT *context, int message, void *data,
                       void *user_data)
{
	(void)context;
	switch (message) {
	case CALLBACK_MSG_RULE_MATCHING:
		return on_rule_match(user_data, data);
	case CALLBACK_MSG_TOO_MANY_MATCHES:
		return on_too_many_matches(user_data, data);
	default:
		return CALLBACK_CONTINUE;
	}
}

/* VIGIL_LIMIT_YARA_TIMEOUT_MS in libyara's whole seconds, rounded up;
 * 0 keeps YARA unlimited (the per-object VIGIL_LIMIT_MAX_SCAN_MS still
 * holds between stages). */
static int timeout_seconds(const vigil_engine *e)
{
	uint64_t ms = e->limits[VIGIL_LIMIT_YARA_TIMEOUT_MS];
	uint64_t s = ms / 1000 + (ms % 1000 != 0);

	if (ms == 0)
		return 0;
	return s > INT_MAX ? INT_MAX : (int)s;
}

static void yara_scanner_free(void *state)
{
	yara_scan *s = state;

	if (!s)
		return;
	for (size_t i = 0; i < s->nscanners; i++)
		if (s->scanners[i])
			yr_scanner_destroy(s->scanners[i]);
	free(s->ext);
	free(s);
}

static vigil_error yara_scanner_new(const vigil_engine *e, void **state)
{
	const vg_yara *y = e->stage_state[VG_STAGE_yara];
	yara_scan *s;

	*state = NULL;
	if (!y || y->nsets == 0)
		return VIGIL_OK;
	s = calloc(1, sizeof *s + y->nsets * sizeof s->scanners[0]);
	if (!s)
		return VIGIL_ENOMEM;
	s->y = y;
	s->nscanners = y->nsets;
	s->tmal = vigil_engine_get_threshold(e, VIGIL_THRESHOLD_YARA_MALICIOUS);
	s->tsus = vigil_engine_get_threshold(e, VIGIL_THRESHOLD_YARA_SUSPICIOUS);
	for (size_t i = 0; i < y->nsets; i++) {
		if (yr_scanner_create(y->sets[i].rules, &s->scanners[i])
		    != ERROR_SUCCESS) {
			yara_scanner_free(s);
			return VIGIL_ENOMEM;
		}
		yr_scanner_set_callback(s->scanners[i], on_yara_msg, s);
		yr_scanner_set_timeout(s->scanners[i], timeout_seconds(e));
		/* Only matching rules call back: with thousands of rules,
		 * a call per rule that did not match costs real time. */
		yr_scanner_set_flags(s->scanners[i], SCAN_FLAGS_REPORT_RULES_MATCHING);
	}
	*state = s;
	return VIGIL_OK;
}

/* Sets the externals set i declares to this object's values. */
static vigil_error set_externals(yara_scan *s, size_t i,
                                 const char *const values[VG_YX_COUNT])
{
	unsigned mask = s->y->sets[i].externals;

	for (unsigned v = 0; v < VG_YX_COUNT; v++) {
		int rc;
		if (!(mask & (1u << v)))
			continue;
		rc = yr_scanner_define_string_variable(s->scanners[i],
		                                       vg_yx_names[v], values[v]);
		if (rc == ERROR_INSUFFICIENT_MEMORY)
			return VIGIL_ENOMEM;
		if (rc != ERROR_SUCCESS)
			return VIGIL_EYARA;
	}
	return VIGIL_OK;
}

/* The extension of the layer's name, in the scanner's reusable buffer. */
static const char *extension_of(yara_scan *s, const char *name)
{
	size_t need = strlen(name) + 1;

	if (need > s->ext_cap) {
		size_t cap = need < 64 ? 64 : need;
		char *p = realloc(s->ext, cap);
		if (!p)
			return NULL;
		s->ext = p;
		s->ext_cap = cap;
	}
	vg_yx_extension(name, s->ext, s->ext_cap);
	return s->ext;
}

static vigil_error yara_scan_layer(vg_ctx *ctx, const vg_layer *layer,
                                   void *state)
{
	yara_scan *s = state;
	const char *name = layer->name ? layer->name : "";
	const char *values[VG_YX_COUNT];
	int mz;

	if (!s)
		return VIGIL_OK;
	values[VG_YX_FILENAME] = name;
	values[VG_YX_FILEPATH] = layer->path ? layer->path : "";
	values[VG_YX_EXTENSION] = extension_of(s, name);
	values[VG_YX_FILETYPE] = vg_yx_filetype(layer->type);
	values[VG_YX_OWNER] = layer->owner ? layer->owner : "";
	if (!values[VG_YX_EXTENSION])
		return VIGIL_ENOMEM;

	s->ctx = ctx;
	s->layer = layer;
	mz = vg_yara_is_mz(layer->data, layer->size);
	for (size_t i = 0; i < s->nscanners && !ctx->stop; i++) {
		vigil_error err;
		int rc;

		/* none of this set's rules can match, or an MZ set holds
		 * them too (yara_gate.h) */
		if ((s->y->sets[i].gate == VG_GATE_MZ && !mz) ||
		    (s->y->sets[i].gate == VG_GATE_NOT_MZ && mz))
			continue;
		if ((err = set_externals(s, i, values)) != VIGIL_OK)
			return err;
		s->set = &s->y->sets[i];
		s->err = VIGIL_OK;
		rc = yr_scanner_scan_mem(s->scanners[i], layer->data, layer->size);
		if (s->err != VIGIL_OK)
			return s->err;
		switch (rc) {
		case ERROR_SUCCESS:
			break;
		case ERROR_SCAN_TIMEOUT:
			/* keep what the other sets found; this one is unknown */
			err = vg_limit_hit(ctx, layer, "Limit.YaraTimeout",
			                   "YARA rules ran past the time limit "
			                   "per object");
			if (err != VIGIL_OK)
				return err;
			break;
		case ERROR_TOO_MANY_MATCHES:
			err = vg_limit_hit(ctx, layer, "Limit.YaraTooManyMatches",
			                   "a YARA string matched too many times");
			if (err != VIGIL_OK)
				return err;
			break;
		case ERROR_INSUFFICIENT_MEMORY:
			return VIGIL_ENOMEM;
		default:
			return VIGIL_EYARA;
		}
	}
	return VIGIL_OK;
}

/* ------------------------------------------------------------------ */
/* Engine hooks                                                        */
/* ------------------------------------------------------------------ */

static vigil_error yara_load(vigil_engine *e, const char *path)
{
	const char *dot = strrchr(path, '.');
	vg_yara *y = vg_yara_get(e);

	if (!y)
		return vg_engine_fail(e, VIGIL_ENOMEM,
		                      "%s: cannot set up libyara", path);
	if (dot && strcasecmp(dot, ".yarc") == 0)
		return vg_yara_add_compiled(e, y, path);
	return vg_yara_add_source(e, y, path);
}

static vigil_error yara_freeze(vigil_engine *e)
{
	vg_yara *y = e->stage_state[VG_STAGE_yara];

	return y ? vg_yara_freeze(e, y) : VIGIL_OK;
}

static void yara_engine_free(vigil_engine *e)
{
	vg_yara_free(e->stage_state[VG_STAGE_yara]);
	e->stage_state[VG_STAGE_yara] = NULL;
}

static uint64_t yara_count(const vigil_engine *e)
{
	return vg_yara_count(e->stage_state[VG_STAGE_yara]);
}

static vigil_error yara_load_part(vigil_engine *e, const vg_bundle_part *p,
                                  const char *bundle)
{
	vg_yara *y = vg_yara_get(e);
	char what[4200];

	if (!y)
		return vg_engine_fail(e, VIGIL_ENOMEM,
		                      "%s: cannot set up libyara", bundle);
	snprintf(what, sizeof what, "%s: part %s", bundle, p->name);
	return vg_yara_add_image(e, y, p->data, (size_t)p->size, what,
	                         (p->flags & VG_PART_MZ_ONLY) ? VG_GATE_MZ
	                         : (p->flags & VG_PART_NOT_MZ) ? VG_GATE_NOT_MZ
	                         : 0, p->digest);
}

static vigil_error yara_save(vigil_engine *e, vg_bundle_writer *w)
{
	return vg_yara_save(e->stage_state[VG_STAGE_yara], w);
}

static const char *const yara_extensions[] = { ".yar", ".yara", ".yarc", NULL };

const vg_stage vg_stage_yara = {
	.name = "yara",
	.extensions = yara_extensions,
	.load = yara_load,
	.freeze = yara_freeze,
	.engine_free = yara_engine_free,
	.scanner_new = yara_scanner_new,
	.scanner_free = yara_scanner_free,
	.scan = yara_scan_layer,
	.count = yara_count,
	.load_part = yara_load_part,
	.save = yara_save,
};
