/*
 * result.c - scan results and their findings.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine/vg.h"

vigil_result *vg_result_new(void)
{
	vigil_result *r = calloc(1, sizeof *r);
	if (r)
		r->type = "BINARY";
	return r;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

vigil_error vg_result_add(vigil_result *r, const char *stage,
                          const char *name, const char *layer,
                          vigil_verdict v, double score,
                          const char *detail, const char *reason)
{
	vigil_finding *f;

	if (r->nfindings == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 4;
		vigil_finding *nf = realloc(r->findings, ncap * sizeof *nf);
		if (!nf)
			return VIGIL_ENOMEM;
		r->findings = nf;
		r->cap = ncap;
	}
	f = &r->findings[r->nfindings];
	f->stage = stage;
	f->verdict = v;
	f->score = score;
	f->name = dup_or_empty(name);
	f->layer = dup_or_empty(layer);
	f->detail = dup_or_empty(detail);
	f->reason = dup_or_empty(reason);
	if (!f->name || !f->layer || !f->detail || !f->reason) {
		free(f->name);
		free(f->layer);
		free(f->detail);
		free(f->reason);
		return VIGIL_ENOMEM;
	}
	r->nfindings++;
	if (v > r->verdict)
		r->verdict = v;
	return VIGIL_OK;
}

vigil_result *vg_result_clone(const vigil_result *src)
{
	vigil_result *r = vg_result_new();

	if (!r)
		return NULL;
	for (size_t i = 0; i < src->nfindings; i++) {
		const vigil_finding *f = &src->findings[i];
		if (vg_result_add(r, f->stage, f->name, f->layer, f->verdict,
		                  f->score, f->detail, f->reason) != VIGIL_OK) {
			vigil_result_free(r);
			return NULL;
		}
	}
	r->verdict = src->verdict;
	memcpy(r->sha256, src->sha256, sizeof r->sha256);
	r->type = src->type;
	r->size = src->size;
	r->bytes_scanned = src->bytes_scanned;
	r->time_us = src->time_us;
	r->cached = src->cached;
	r->expires_us = src->expires_us;
	return r;
}

void vigil_result_free(vigil_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfindings; i++) {
		free(r->findings[i].name);
		free(r->findings[i].layer);
		free(r->findings[i].detail);
		free(r->findings[i].reason);
	}
	free(r->findings);
	free(r);
}

vigil_verdict vigil_result_verdict(const vigil_result *r)
{
	return r ? r->verdict : VIGIL_CLEAN;
}

size_t vigil_result_finding_count(const vigil_result *r)
{
	return r ? r->nfindings : 0;
}

const vigil_finding *vigil_result_finding(const vigil_result *r, size_t i)
{
	return r && i < r->nfindings ? &r->findings[i] : NULL;
}

const char *vigil_result_sha256(const vigil_result *r)
{
	return r ? r->sha256 : "";
}

const char *vigil_result_type(const vigil_result *r)
{
	return r ? r->type : "";
}

uint64_t vigil_result_size(const vigil_result *r)
{
	return r ? r->size : 0;
}

uint64_t vigil_result_bytes_scanned(const vigil_result *r)
{
	return r ? r->bytes_scanned : 0;
}

uint64_t vigil_result_time_us(const vigil_result *r)
{
	return r ? r->time_us : 0;
}

int vigil_result_cached(const vigil_result *r)
{
	return r ? r->cached : 0;
}

const char *vigil_finding_stage(const vigil_finding *f)
{
	return f ? f->stage : "";
}

const char *vigil_finding_name(const vigil_finding *f)
{
	return f ? f->name : "";
}

const char *vigil_finding_layer(const vigil_finding *f)
{
	return f ? f->layer : "";
}

vigil_verdict vigil_finding_verdict(const vigil_finding *f)
{
	return f ? f->verdict : VIGIL_CLEAN;
}

double vigil_finding_score(const vigil_finding *f)
{
	return f ? f->score : 0.0;
}

const char *vigil_finding_detail(const vigil_finding *f)
{
	return f ? f->detail : "";
}

const char *vigil_finding_reason(const vigil_finding *f)
{
	return f ? f->reason : "";
}

/* Stage names are static strings in a result: a caller's name is
 * matched to one of these. */
static const char *const known_stages[] = {
	"hash", "yara", "clamav", "ml", "limit", "unpack", "builtin", "cloud",
	"allowlist", "daemon", "onaccess",
};

static int is_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

vigil_result *vigil_result_new(vigil_verdict verdict, const char *sha256,
                               uint64_t size)
{
	vigil_result *r;

	if ((unsigned)verdict > VIGIL_MALICIOUS ||
	    (sha256 && *sha256 && !is_hex64(sha256)))
		return NULL;
	if (!(r = vg_result_new()))
		return NULL;
	r->verdict = verdict;
	if (sha256)
		memcpy(r->sha256, sha256, strlen(sha256) + 1);
	r->size = size;
	return r;
}

vigil_error vigil_result_add_finding(vigil_result *r, const char *stage,
                                     const char *name, const char *layer,
                                     vigil_verdict verdict, double score,
                                     const char *detail)
{
	const char *st = "external";

	if (!r || !name || (unsigned)verdict > VIGIL_MALICIOUS)
		return VIGIL_EINVAL;
	for (size_t i = 0; stage && i < sizeof known_stages / sizeof *known_stages; i++)
		if (!strcmp(stage, known_stages[i]))
			st = known_stages[i];
	if (!(score >= 0 && score <= 1))
		score = score > 1 ? 1 : 0;
	return vg_result_add(r, st, name, layer, verdict, score, detail, "");
}
