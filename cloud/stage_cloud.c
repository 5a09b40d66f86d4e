/*
 * stage_cloud.c - the cloud stage: after the local stages, asks the
 * vigil-cloudd service about layers they left undecided (see
 * vigil_cloud_setting in vigil.h for which), and reports its answer as
 * Cloud.Malicious / Cloud.Clean, or Cloud.LookupFailed under the
 * configured policy. Also the exported cloud API of vigil.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/client.h"
#include "engine/vg.h"

#define DEFAULT_TYPES "PE,ELF,MACHO,SCRIPT,OLE2"

typedef struct cloud_state {
	vg_cloud_conf conf;
	int machine_set;
	int fail_closed, members, override_ml;
	uint64_t types;            /* bit per vg_filetype */
	double band_lo, band_hi;
	vg_cloud_client *client;   /* after freeze, when a URL is set */
} cloud_state;

typedef struct scan_state {
	uint64_t deadline_us;      /* of the current top-level object */
	vg_cloud_client *client;   /* told when this scanner goes */
} scan_state;

static int engine_ok(const vigil_engine *e)
{
	return e && e->magic == VG_ENGINE_MAGIC;
}

static cloud_state *state_of(const vigil_engine *e)
{
	return e->stage_state[VG_STAGE_cloud];
}

static int parse_types(const char *s, uint64_t *out)
{
	static const vg_filetype all[] = {
#define X(id, name) VG_FT_##id,
		VG_FILETYPES(X)
#undef X
	};
	uint64_t mask = 0;

	while (*s) {
		size_t n = strcspn(s, ",");
		int hit = 0;
		for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
			const char *name = vg_filetype_name(all[i]);
			if (n && strlen(name) == n && strncasecmp(name, s, n) == 0) {
				mask |= 1ull << all[i];
				hit = 1;
			}
		}
		if (!hit && n)
			return -1;
		s += n + (s[n] == ',');
	}
	*out = mask;
	return 0;
}

static cloud_state *state_get(vigil_engine *e)
{
	cloud_state *cs = e->stage_state[VG_STAGE_cloud];

	if (cs)
		return cs;
	if (!(cs = calloc(1, sizeof *cs)))
		return NULL;
	cs->conf.timeout_ms = 200;
	cs->conf.batch_max = 100;
	cs->conf.batch_wait_ms = 5;
	cs->conf.breaker_failures = 5;
	cs->conf.breaker_retry_ms = 30000;
	cs->conf.cache_entries = 65536;
	cs->conf.connections = 2;
	cs->members = 1;
	cs->band_lo = 0.05;
	cs->band_hi = 1.0;
	parse_types(DEFAULT_TYPES, &cs->types);
	e->stage_state[VG_STAGE_cloud] = cs;
	return cs;
}

/* SHA-256 of /etc/machine-id, cut to 32 hex digits, or NULL. */
static char *default_machine(void)
{
	static const char domain[] = "vigil-cloud-machine:";
	uint8_t buf[sizeof domain + 64];
	vg_digest d;
	char hex[65];
	FILE *f = fopen("/etc/machine-id", "r");
	size_t n;

	if (!f)
		return NULL;
	memcpy(buf, domain, sizeof domain - 1);
	n = fread(buf + sizeof domain - 1, 1, 64, f);
	fclose(f);
	while (n && (buf[sizeof domain - 2 + n] == '\n'))
		n--;
	if (n < 16 || vg_digest_compute(buf, sizeof domain - 1 + n,
	                                VG_DIGEST_SHA256, &d) != 0)
		return NULL;
	vg_hex(d.sha256, 16, hex);
	return strdup(hex);
}

static vigil_error cloud_freeze(vigil_engine *e)
{
	cloud_state *cs = state_of(e);
	char err[256];

	if (!cs || !cs->conf.url || !*cs->conf.url)
		return VIGIL_OK;
	if (!cs->machine_set)
		cs->conf.machine = default_machine();
	if (!(cs->client = vg_cloud_client_new(&cs->conf, err, sizeof err)))
		return vg_engine_fail(e, VIGIL_ENOMEM, "cloud: %s", err);
	return VIGIL_OK;
}

static void cloud_engine_free(vigil_engine *e)
{
	cloud_state *cs = state_of(e);

	if (!cs)
		return;
	vg_cloud_client_free(cs->client);
	free(cs->conf.url);
	free(cs->conf.key);
	free(cs->conf.machine);
	free(cs);
	e->stage_state[VG_STAGE_cloud] = NULL;
}

/* The client counts scanners: when all of them wait for answers, a
 * batch can grow no more and goes out at once. */
static vigil_error cloud_scanner_new(const vigil_engine *e, void **state)
{
	const cloud_state *cs = state_of(e);
	scan_state *ss;

	if (!cs || !cs->client)
		return VIGIL_OK;
	if (!(ss = calloc(1, sizeof *ss)))
		return VIGIL_ENOMEM;
	ss->client = cs->client;
	vg_cloud_client_scanners(ss->client, 1);
	*state = ss;
	return VIGIL_OK;
}

static void cloud_scanner_free(void *state)
{
	scan_state *ss = state;

	vg_cloud_client_scanners(ss->client, -1);
	free(ss);
}

/*
 * How the local stages left this layer: 1 when decided (a signature
 * hit, or any MALICIOUS finding); else *ml_only is the index of an ML
 * SUSPICIOUS finding, or -1.
 */
static int decided(const vigil_result *r, const char *layer, long *ml_only)
{
	*ml_only = -1;
	for (size_t i = 0; i < r->nfindings; i++) {
		const vigil_finding *f = &r->findings[i];
		if (strcmp(f->layer, layer) != 0 || f->verdict < VIGIL_SUSPICIOUS)
			continue;
		if (f->verdict == VIGIL_MALICIOUS || strcmp(f->stage, "ml") != 0)
			return 1;
		*ml_only = (long)i;
	}
	return 0;
}

/* A known-good answer clears an ML-only SUSPICIOUS finding. */
static void override_ml(vigil_result *r, size_t idx)
{
	vigil_finding *f = &r->findings[idx];
	static const char note[] = " (cleared: the cloud service knows it as clean)";
	char *d = realloc(f->detail, strlen(f->detail) + sizeof note);

	if (d) {
		strcat(d, note);
		f->detail = d;
	}
	f->verdict = VIGIL_CLEAN;
	r->verdict = VIGIL_CLEAN;
	for (size_t i = 0; i < r->nfindings; i++)
		if (r->findings[i].verdict > r->verdict)
			r->verdict = r->findings[i].verdict;
}

static void limit_expiry(vigil_result *r, uint64_t when)
{
	if (!r->expires_us || when < r->expires_us)
		r->expires_us = when ? when : 1;
}

static vigil_error report_answer(vg_ctx *ctx, const vg_layer *layer,
                                 const cloud_state *cs,
                                 const vg_cloud_answer *a, long ml_only)
{
	char detail[384];

	limit_expiry(ctx->result, a->stale ? 1
	             : vg_now_us() + (uint64_t)a->ttl * 1000000u);
	if (a->verdict == 0)
		return VIGIL_OK;        /* unknown: the local verdict stands */
	snprintf(detail, sizeof detail, "%s %s; prevalence %llu; first seen %s%s",
	         a->verdict == 1 ? "known-bad:" : "known-good:",
	         a->name[0] ? a->name : "(no name)",
	         (unsigned long long)a->prevalence,
	         a->first_seen[0] ? a->first_seen : "never",
	         a->stale ? "; stale answer, the service is unreachable" : "");
	if (a->verdict == 1)
		return vg_report(ctx, layer, "cloud", "Cloud.Malicious",
		                 VIGIL_MALICIOUS, 1.0, detail);
	if (ml_only >= 0 && cs->override_ml)
		override_ml(ctx->result, (size_t)ml_only);
	return vg_report(ctx, layer, "cloud", "Cloud.Clean", VIGIL_CLEAN, 1.0,
	                 detail);
}

static vigil_error cloud_scan(vg_ctx *ctx, const vg_layer *layer, void *state)
{
	const cloud_state *cs = state_of(ctx->engine);
	scan_state *ss = state;
	uint64_t deadline, now = vg_now_us();
	vg_cloud_answer a;
	vg_cloud_status st;
	const vg_digest *d;
	vg_digest tmp;
	char sha[65], why[128], detail[192];
	long ml_only;

	if (!cs || !cs->client || !ss)
		return VIGIL_OK;
	if (layer->depth == 0)
		ss->deadline_us = now + (uint64_t)cs->conf.timeout_ms * 1000u;
	if ((layer->depth > 0 && !cs->members) ||
	    decided(ctx->result, layer->layer_path, &ml_only))
		return VIGIL_OK;
	if (!(cs->types & (1ull << layer->type)) && ml_only < 0 &&
	    !(ctx->ml_score >= cs->band_lo && ctx->ml_score < cs->band_hi))
		return VIGIL_OK;
	deadline = ss->deadline_us;
	if (ctx->budget.deadline_us && ctx->budget.deadline_us < deadline)
		deadline = ctx->budget.deadline_us;
	/* the SHA-256 of only the layers asked about: most members of an
	 * archive never are, and the pipeline computes theirs only when
	 * another stage needs it */
	if (!(d = vg_layer_digests(layer, VG_DIGEST_SHA256, &tmp)))
		return VIGIL_EINTERNAL;
	vg_hex(d->sha256, 32, sha);
	if (now >= deadline) {
		st = VG_CLOUD_TIMEOUT;
		snprintf(why, sizeof why, "the object's cloud time is used up");
	} else {
		st = vg_cloud_lookup(cs->client, sha, layer->size,
		                     vg_filetype_name(layer->type), ctx->ml_score,
		                     deadline, &a, why, sizeof why);
	}
	if (st == VG_CLOUD_ANSWER)
		return report_answer(ctx, layer, cs, &a, ml_only);
	/* no answer: never remembered by the verdict cache */
	limit_expiry(ctx->result, 1);
	snprintf(detail, sizeof detail, "cloud lookup failed: %s; %s", why,
	         cs->fail_closed ? "policy closed" : "policy open, local verdict "
	                                             "stands");
	if (cs->fail_closed) {
		ctx->incomplete = 1;
		return vg_report(ctx, layer, "cloud", "Cloud.LookupFailed",
		                 VIGIL_INCOMPLETE, 0.0, detail);
	}
	return vg_report(ctx, layer, "cloud", "Cloud.LookupFailed", VIGIL_CLEAN,
	                 0.0, detail);
}

const vg_stage vg_stage_cloud = {
	.name = "cloud",
	.freeze = cloud_freeze,
	.engine_free = cloud_engine_free,
	.scanner_new = cloud_scanner_new,
	.scanner_free = cloud_scanner_free,
	.scan = cloud_scan,
};

/* ------------------------------------------------------------------ */
/* Exported API (vigil.h)                                              */
/* ------------------------------------------------------------------ */

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_yes(const char *s, int *out)
{
	if (!strcmp(s, "yes") || !strcmp(s, "1") || !strcmp(s, "true"))
		*out = 1;
	else if (!strcmp(s, "no") || !strcmp(s, "0") || !strcmp(s, "false"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int parse_band(const char *s, double *lo, double *hi)
{
	char *end;
	double a = strtod(s, &end), b;

	if (end == s || *end != ':')
		return -1;
	s = end + 1;
	b = strtod(s, &end);
	if (end == s || *end || !(a >= 0 && a <= b && b <= 1.0000001))
		return -1;
	*lo = a;
	*hi = b >= 1 ? 1.0000001 : b;   /* HIGH 1 takes a score of 1 too */
	return 0;
}

static int set_string(char **dst, const char *v)
{
	char *s = strdup(v);
	if (!s)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

VIGIL_API vigil_error vigil_engine_set_cloud(vigil_engine *e,
                                             vigil_cloud_setting which,
                                             const char *v)
{
	cloud_state *cs;
	vg_cloud_conf *c;
	int bad = 0;

	if (!engine_ok(e) || !v)
		return VIGIL_EINVAL;
	if (e->frozen)
		return vg_engine_fail(e, VIGIL_EFROZEN,
		                      "cloud settings cannot change after freeze");
	if (!(cs = state_get(e)))
		return vg_engine_fail(e, VIGIL_ENOMEM, "out of memory");
	c = &cs->conf;
	switch (which) {
	case VIGIL_CLOUD_URL:
		bad = (*v && strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) ||
		      strlen(v) > 900 || set_string(&c->url, v);
		break;
	case VIGIL_CLOUD_KEY:
		bad = strlen(v) > 256 || strpbrk(v, "\r\n") || set_string(&c->key, v);
		break;
	case VIGIL_CLOUD_MACHINE:
		bad = strlen(v) > 64 || strpbrk(v, "\"\\\r\n") ||
		      set_string(&c->machine, v);
		cs->machine_set = !bad;
		break;
	case VIGIL_CLOUD_TIMEOUT_MS:
		bad = parse_uint(v, 1, 600000, &c->timeout_ms);
		break;
	case VIGIL_CLOUD_POLICY:
		if (!strcmp(v, "open"))
			cs->fail_closed = 0;
		else if (!strcmp(v, "closed"))
			cs->fail_closed = 1;
		else
			bad = 1;
		break;
	case VIGIL_CLOUD_TYPES:
		bad = parse_types(v, &cs->types);
		break;
	case VIGIL_CLOUD_ML_BAND:
		bad = parse_band(v, &cs->band_lo, &cs->band_hi);
		break;
	case VIGIL_CLOUD_MEMBERS:
		bad = parse_yes(v, &cs->members);
		break;
	case VIGIL_CLOUD_BATCH_MAX:
		bad = parse_uint(v, 1, 1000, &c->batch_max);
		break;
	case VIGIL_CLOUD_BATCH_WAIT_MS:
		bad = parse_uint(v, 0, 10000, &c->batch_wait_ms);
		break;
	case VIGIL_CLOUD_BREAKER_FAILURES:
		bad = parse_uint(v, 1, 1000000, &c->breaker_failures);
		break;
	case VIGIL_CLOUD_BREAKER_RETRY_MS:
		bad = parse_uint(v, 1, 86400000, &c->breaker_retry_ms);
		break;
	case VIGIL_CLOUD_CACHE_ENTRIES:
		bad = parse_uint(v, 0, 1u << 26, &c->cache_entries);
		break;
	case VIGIL_CLOUD_OVERRIDE_ML:
		bad = parse_yes(v, &cs->override_ml);
		break;
	case VIGIL_CLOUD_CONNECTIONS:
		bad = parse_uint(v, 1, 16, &c->connections);
		break;
	default:
		return vg_engine_fail(e, VIGIL_EINVAL, "unknown cloud setting %d",
		                      (int)which);
	}
	if (bad)
		return vg_engine_fail(e, VIGIL_EINVAL, "bad value for cloud setting "
		                      "%d: '%.64s'", (int)which, v);
	return VIGIL_OK;
}

VIGIL_API vigil_error vigil_engine_cloud_stats(const vigil_engine *e,
                                               vigil_cloud_stats *out)
{
	const cloud_state *cs;

	if (!engine_ok(e) || !out)
		return VIGIL_EINVAL;
	memset(out, 0, sizeof *out);
	cs = state_of(e);
	if (cs && cs->client)
		vg_cloud_client_stats(cs->client, out);
	return VIGIL_OK;
}
