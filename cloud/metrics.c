/*
 * metrics.c - counters for /metrics in the Prometheus text format:
 * requests by endpoint and status, latency histograms by endpoint,
 * store errors, and per-tenant counts (up to MAX_TENANTS tenants; the
 * rest are summed under tenant="_other" so a flood of tenants cannot
 * grow the table).
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/service.h"

#define MAX_TENANTS 1024
#define NBUCKETS 13

static const double bucket_le[NBUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
	10
};
static const int statuses[] = { 200, 201, 204, 400, 401, 403, 404, 405, 413,
                                429, 500, 503 };
#define NSTATUS (sizeof statuses / sizeof statuses[0])

static const char *const route_names[VG_R_COUNT + 1] = {
	[VG_R_LOOKUP] = "lookup", [VG_R_LOOKUP_ONE] = "lookup_one",
	[VG_R_VERDICT_PUT] = "verdict_put", [VG_R_VERDICT_DEL] = "verdict_delete",
	[VG_R_SIGHTINGS] = "sightings", [VG_R_IMPORT] = "import",
	[VG_R_METRICS] = "metrics", [VG_R_HEALTHZ] = "healthz",
	[VG_R_COUNT] = "other",
};

typedef struct tenant_count {
	char name[VG_TENANT_MAX];
	uint64_t requests, hashes, known;
} tenant_count;

struct vg_metrics {
	atomic_uint_fast64_t requests[VG_R_COUNT + 1][NSTATUS + 1];
	atomic_uint_fast64_t hist[VG_R_COUNT + 1][NBUCKETS + 1];
	atomic_uint_fast64_t sum_us[VG_R_COUNT + 1];
	atomic_uint_fast64_t store_errors;
	pthread_mutex_t lock;
	tenant_count tenants[MAX_TENANTS + 1];   /* the last one: "_other" */
	size_t ntenants;
};

vg_metrics *vg_metrics_new(void)
{
	vg_metrics *m = calloc(1, sizeof *m);

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	snprintf(m->tenants[MAX_TENANTS].name, VG_TENANT_MAX, "_other");
	return m;
}

void vg_metrics_free(vg_metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void vg_metrics_request(vg_metrics *m, int route, int status, double secs)
{
	size_t s = NSTATUS, b = 0;

	if (route < 0 || route > VG_R_COUNT)
		route = VG_R_COUNT;
	for (size_t i = 0; i < NSTATUS; i++)
		if (statuses[i] == status)
			s = i;
	while (b < NBUCKETS && secs > bucket_le[b])
		b++;
	atomic_fetch_add(&m->requests[route][s], 1);
	atomic_fetch_add(&m->hist[route][b], 1);
	atomic_fetch_add(&m->sum_us[route], (uint64_t)(secs * 1e6));
}

void vg_metrics_store_error(vg_metrics *m)
{
	atomic_fetch_add(&m->store_errors, 1);
}

void vg_metrics_tenant(vg_metrics *m, const char *tenant, unsigned hashes,
                       unsigned known)
{
	tenant_count *t = NULL;

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->ntenants && !t; i++)
		if (strcmp(m->tenants[i].name, tenant) == 0)
			t = &m->tenants[i];
	if (!t && m->ntenants < MAX_TENANTS) {
		t = &m->tenants[m->ntenants++];
		snprintf(t->name, sizeof t->name, "%s", tenant);
	}
	if (!t)
		t = &m->tenants[MAX_TENANTS];
	t->requests++;
	t->hashes += hashes;
	t->known += known;
	pthread_mutex_unlock(&m->lock);
}

/* A growing text buffer; stays NULL after a failed allocation. */
typedef struct text {
	char *s;
	size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!t->s)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			free(t->s);
			t->s = NULL;
			return;
		}
		if ((size_t)n < t->cap - t->len)
			break;
		char *ns = realloc(t->s, t->cap * 2 + (size_t)n);
		if (!ns) {
			free(t->s);
			t->s = NULL;
			return;
		}
		t->s = ns;
		t->cap = t->cap * 2 + (size_t)n;
	}
	t->len += (size_t)n;
}

char *vg_metrics_render(vg_metrics *m)
{
	text t = { malloc(16384), 0, 16384 };

	put(&t, "# HELP vigil_cloudd_requests_total HTTP requests by endpoint "
	        "and status.\n# TYPE vigil_cloudd_requests_total counter\n");
	for (int r = 0; r <= VG_R_COUNT; r++)
		for (size_t s = 0; s <= NSTATUS; s++) {
			uint64_t v = atomic_load(&m->requests[r][s]);
			if (!v)
				continue;
			if (s < NSTATUS)
				put(&t, "vigil_cloudd_requests_total{endpoint=\"%s\","
				        "code=\"%d\"} %llu\n", route_names[r], statuses[s],
				    (unsigned long long)v);
			else
				put(&t, "vigil_cloudd_requests_total{endpoint=\"%s\","
				        "code=\"other\"} %llu\n", route_names[r],
				    (unsigned long long)v);
		}
	put(&t, "# HELP vigil_cloudd_request_duration_seconds Time from "
	        "request to response.\n"
	        "# TYPE vigil_cloudd_request_duration_seconds histogram\n");
	for (int r = 0; r <= VG_R_COUNT; r++) {
		uint64_t cum = 0;
		for (int b = 0; b <= NBUCKETS; b++) {
			cum += atomic_load(&m->hist[r][b]);
			if (b < NBUCKETS)
				put(&t, "vigil_cloudd_request_duration_seconds_bucket{"
				        "endpoint=\"%s\",le=\"%g\"} %llu\n", route_names[r],
				    bucket_le[b], (unsigned long long)cum);
		}
		put(&t, "vigil_cloudd_request_duration_seconds_bucket{endpoint=\"%s\","
		        "le=\"+Inf\"} %llu\n", route_names[r], (unsigned long long)cum);
		put(&t, "vigil_cloudd_request_duration_seconds_sum{endpoint=\"%s\"} "
		        "%.6f\n", route_names[r],
		    atomic_load(&m->sum_us[r]) / 1e6);
		put(&t, "vigil_cloudd_request_duration_seconds_count{endpoint=\"%s\"} "
		        "%llu\n", route_names[r], (unsigned long long)cum);
	}
	put(&t, "# HELP vigil_cloudd_store_errors_total Failed store calls.\n"
	        "# TYPE vigil_cloudd_store_errors_total counter\n"
	        "vigil_cloudd_store_errors_total %llu\n",
	    (unsigned long long)atomic_load(&m->store_errors));
	put(&t, "# HELP vigil_cloudd_tenant_requests_total Authenticated "
	        "requests per tenant.\n"
	        "# TYPE vigil_cloudd_tenant_requests_total counter\n"
	        "# HELP vigil_cloudd_tenant_hashes_total Hashes looked up per "
	        "tenant.\n# TYPE vigil_cloudd_tenant_hashes_total counter\n"
	        "# HELP vigil_cloudd_tenant_known_total Hashes answered with a "
	        "verdict per tenant.\n"
	        "# TYPE vigil_cloudd_tenant_known_total counter\n");
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i <= MAX_TENANTS; i++) {
		const tenant_count *c = &m->tenants[i];
		if (i >= m->ntenants && i < MAX_TENANTS)
			continue;
		if (!c->requests)
			continue;
		put(&t, "vigil_cloudd_tenant_requests_total{tenant=\"%s\"} %llu\n"
		        "vigil_cloudd_tenant_hashes_total{tenant=\"%s\"} %llu\n"
		        "vigil_cloudd_tenant_known_total{tenant=\"%s\"} %llu\n",
		    c->name, (unsigned long long)c->requests, c->name,
		    (unsigned long long)c->hashes, c->name,
		    (unsigned long long)c->known);
	}
	pthread_mutex_unlock(&m->lock);
	return t.s;
}
