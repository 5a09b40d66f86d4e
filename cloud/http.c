/*
 * http.c - vigil-cloudd's HTTP API on libmicrohttpd (thread pool mode):
 * reads each body up to its limit, authenticates the bearer key, applies
 * the key's rate limit, answers in JSON, and records metrics and one
 * access-log line per request. The API is described in doc/cloud-api.md.
 */
#include "config.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cloud/cloudd.h"
#include "cloud/request.h"

/* Entries handed to the store per call during an import. */
#define IMPORT_CHUNK 2000

typedef struct req {
	double t0;
	char *body;
	size_t len, cap, limit;
	int too_large;
	int route_status;         /* 0 when the route parsed */
	char route_err[128];
	vg_route route;
	/* for the access log */
	char tenant[VG_TENANT_MAX];
	unsigned hashes, known;
	char *log_extra;          /* malloc'd, or NULL */
} req;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#if MHD_VERSION < 0x00097002
typedef int mhd_result;
#else
typedef enum MHD_Result mhd_result;
#endif

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

static mhd_result send_text(struct MHD_Connection *c, int status,
                            const char *type, char *text, unsigned retry)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(text), text, MHD_RESPMEM_MUST_FREE);
	mhd_result ok;

	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (retry) {
		char s[16];
		snprintf(s, sizeof s, "%u", retry);
		MHD_add_response_header(r, "Retry-After", s);
	}
	ok = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ok;
}

static mhd_result send_json(struct MHD_Connection *c, int status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!s)
		return MHD_NO;
	return send_text(c, status, "application/json", s, 0);
}

static mhd_result send_error(struct MHD_Connection *c, int status,
                             const char *msg, unsigned retry)
{
	char *s = json_dumps(json_pack("{s:s}", "error", msg), JSON_COMPACT);
	/* json_pack's result is leaked only if json_dumps fails, never */
	if (!s)
		return MHD_NO;
	return send_text(c, status, "application/json", s, retry);
}

/* ------------------------------------------------------------------ */
/* Access log                                                          */
/* ------------------------------------------------------------------ */

static void access_log(vg_cloudd *d, struct MHD_Connection *c, req *q,
                       const char *method, const char *url, int status,
                       double secs)
{
	const union MHD_ConnectionInfo *ci;
	char addr[INET6_ADDRSTRLEN] = "-", when[32];
	time_t t = time(NULL);
	struct tm tm;

	if (!d->log)
		return;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			          addr, sizeof addr);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
			          addr, sizeof addr);
	}
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* a single lookup's path names its hash: only a known one is kept */
	if (q->route_status == 0 && q->route.id == VG_R_LOOKUP_ONE &&
	    !q->known && !d->cfg.log_missed_hashes)
		url = "/v1/lookup/(missed)";
	pthread_mutex_lock(&d->log_lock);
	fprintf(d->log, "%s %s %s %s %s %d %.3fms hashes=%u known=%u%s%s\n",
	        when, addr, q->tenant[0] ? q->tenant : "-", method, url, status,
	        secs * 1e3, q->hashes, q->known, q->log_extra ? " " : "",
	        q->log_extra ? q->log_extra : "");
	fflush(d->log);
	pthread_mutex_unlock(&d->log_lock);
}

/* Appends "sha=verdict" words for the log (known hashes, and missed
 * ones only when LogMissedHashes is on). */
static void log_hashes(vg_cloudd *d, req *q, const vg_hash_req *hr,
                       const vg_answer *a)
{
	size_t cap = 0, len = 0;
	char *s = NULL;

	if (!d->log)
		return;
	for (size_t i = 0; i < hr->n; i++) {
		if (a[i].verdict == VG_CV_UNKNOWN && !d->cfg.log_missed_hashes)
			continue;
		if (len + 80 > cap) {
			char *ns = realloc(s, cap = cap * 2 + 4096);
			if (!ns) {
				free(s);
				return;
			}
			s = ns;
		}
		len += (size_t)snprintf(s + len, cap - len, "%s%s=%s", len ? "," : "",
		                        hr->sha[i], vg_cverdict_name(a[i].verdict));
	}
	q->log_extra = s;
}

/* ------------------------------------------------------------------ */
/* Endpoints                                                           */
/* ------------------------------------------------------------------ */

static json_t *answer_json(const vg_cloudd *d, const char *sha,
                           const vg_answer *a)
{
	unsigned ttl = a->verdict == VG_CV_MALICIOUS ? d->cfg.ttl_malicious
	             : a->verdict == VG_CV_CLEAN ? d->cfg.ttl_clean
	                                         : d->cfg.ttl_unknown;
	json_t *first = json_null();

	if (a->first_seen > 0) {
		char when[32];
		time_t t = (time_t)a->first_seen;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		first = json_string(when);
	}
	return json_pack("{s:s, s:s, s:s, s:I, s:o, s:I}", "sha256", sha,
	                 "verdict", vg_cverdict_name(a->verdict), "name", a->name,
	                 "prevalence", (json_int_t)a->prevalence, "first_seen",
	                 first, "ttl", (json_int_t)ttl);
}

static int store_failed(vg_cloudd *d)
{
	vg_metrics_store_error(d->metrics);
	fprintf(stderr, "vigil-cloudd: store: %s\n", d->store->errmsg);
	return 503;
}

static int do_lookup(vg_cloudd *d, req *q, const vg_hash_req *hr, int one,
                     json_t **out)
{
	vg_answer *a = calloc(hr->n, sizeof *a);
	json_t *results;

	if (!a)
		return 500;
	if (d->store->ops->lookup(d->store, q->tenant, hr->sha, hr->n, a) != 0) {
		free(a);
		return store_failed(d);
	}
	if (hr->machine[0] &&
	    d->store->ops->sighting(d->store, q->tenant, hr->machine, hr->sha,
	                            hr->n, (int64_t)time(NULL)) != 0) {
		free(a);
		return store_failed(d);
	}
	q->hashes = (unsigned)hr->n;
	results = json_array();
	for (size_t i = 0; i < hr->n; i++) {
		q->known += a[i].verdict != VG_CV_UNKNOWN;
		json_array_append_new(results, answer_json(d, hr->sha[i], &a[i]));
	}
	vg_metrics_tenant(d->metrics, q->tenant, q->hashes, q->known);
	log_hashes(d, q, hr, a);
	free(a);
	if (one) {
		*out = json_incref(json_array_get(results, 0));
		json_decref(results);
	} else {
		*out = json_pack("{s:o}", "results", results);
	}
	return *out ? 200 : 500;
}

/* The scope an admin key writes: its tenant's own, or the shared one
 * for keys of the global tenant. */
static const char *scope_of(const vg_key_info *k)
{
	return k->tenant;
}

typedef struct import_run {
	vg_cloudd *d;
	const char *scope;
	vg_import_entry *buf;
	size_t n;
	int failed;
} import_run;

static int import_flush(import_run *ir)
{
	if (ir->n && ir->d->store->ops->put(ir->d->store, ir->scope, ir->buf,
	                                     ir->n, (int64_t)time(NULL)) != 0)
		ir->failed = 1;
	ir->n = 0;
	return ir->failed;
}

static int import_one(void *ud, const vg_import_entry *e)
{
	import_run *ir = ud;

	ir->buf[ir->n++] = *e;
	return ir->n == IMPORT_CHUNK ? import_flush(ir) : 0;
}

static int do_import(vg_cloudd *d, struct MHD_Connection *c, req *q,
                     const vg_key_info *k, json_t **out)
{
	const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	                                              "format");
	const char *vs = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	                                             "verdict");
	const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	                                               "name");
	import_run ir = { .d = d, .scope = scope_of(k) };
	vg_feed_format ff;
	vg_cverdict v = VG_CV_MALICIOUS;
	vg_feed_stats st;

	if (!fmt || vg_feed_format_parse(fmt, &ff) != 0) {
		*out = json_pack("{s:s}", "error",
		                 "format must be hdb, hsb, sha256 or bazaar");
		return 400;
	}
	if ((vs && vg_cverdict_parse(vs, &v) != 0) ||
	    (name && !vg_name_valid(name, VG_NAME_MAX))) {
		*out = json_pack("{s:s}", "error", "bad verdict or name");
		return 400;
	}
	if (!(ir.buf = malloc(IMPORT_CHUNK * sizeof *ir.buf)))
		return 500;
	vg_feed_parse(q->body, q->len, ff, v, name, import_one, &ir, &st);
	if (!ir.failed)
		import_flush(&ir);
	free(ir.buf);
	if (ir.failed)
		return store_failed(d);
	*out = json_pack("{s:s, s:I, s:I, s:I}", "scope", ir.scope, "lines",
	                 (json_int_t)st.lines, "imported", (json_int_t)st.imported,
	                 "skipped", (json_int_t)st.skipped);
	return 200;
}

/* Authenticates; 0 with k filled, else the status to answer. */
static int authenticate(vg_cloudd *d, struct MHD_Connection *c,
                        vg_key_info *k, unsigned *retry)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_AUTHORIZATION);
	char key[VG_KEY_MAX], hash[65];
	int r;

	if (vg_bearer_parse(h, key, sizeof key) != 0)
		return 401;
	vg_key_hash(key, hash);
	r = d->store->ops->key_find(d->store, hash, k);
	if (r < 0)
		return store_failed(d);
	if (r == 0)
		return 401;
	if ((*retry = vg_ratelimit_take(d->rl, hash)))
		return 429;
	return 0;
}

static mhd_result route(vg_cloudd *d, struct MHD_Connection *c, req *q,
                        int *status)
{
	char err[256];
	vg_key_info k = { 0 };
	unsigned retry = 0;
	json_t *out = NULL;
	int st;

	if (q->route_status) {
		*status = q->route_status;
		return send_error(c, *status, q->route_err, 0);
	}
	if (q->too_large) {
		*status = 413;
		return send_error(c, 413, "request body too large", 0);
	}
	if (q->route.id == VG_R_HEALTHZ) {
		*status = d->store->ops->ping(d->store) == 0 ? 200 : store_failed(d);
		return send_text(c, *status, "text/plain",
		                 strdup(*status == 200 ? "ok\n" : "store down\n"), 0);
	}
	if (q->route.id != VG_R_METRICS || d->cfg.metrics_require_admin) {
		st = authenticate(d, c, &k, &retry);
		if (st == 0)
			snprintf(q->tenant, sizeof q->tenant, "%s", k.tenant);
		else {
			*status = st;
			return send_error(c, st, st == 401 ? "missing or unknown API key"
			                       : st == 429 ? "rate limit exceeded"
			                                   : "store unavailable", retry);
		}
	}
	switch (q->route.id) {
	case VG_R_METRICS:
		if (d->cfg.metrics_require_admin &&
		    !(k.admin && strcmp(k.tenant, VG_SCOPE_GLOBAL) == 0)) {
			*status = 403;
			return send_error(c, 403, "metrics need a global admin key", 0);
		}
		*status = 200;
		{
			char *text = vg_metrics_render(d->metrics);
			if (!text)
				return MHD_NO;
			return send_text(c, 200, "text/plain; version=0.0.4", text, 0);
		}
	case VG_R_LOOKUP:
	case VG_R_SIGHTINGS: {
		vg_hash_req hr;
		int sight = q->route.id == VG_R_SIGHTINGS;
		st = vg_parse_hashes(q->body, q->len, d->cfg.max_batch, sight, &hr,
		                     err, sizeof err);
		if (st) {
			*status = st;
			return send_error(c, st, err, 0);
		}
		if (!sight) {
			st = do_lookup(d, q, &hr, 0, &out);
		} else if (d->store->ops->sighting(d->store, k.tenant, hr.machine,
		                                   hr.sha, hr.n,
		                                   (int64_t)time(NULL)) != 0) {
			st = store_failed(d);
		} else {
			q->hashes = (unsigned)hr.n;
			out = json_pack("{s:I}", "recorded", (json_int_t)hr.n);
			st = 200;
		}
		vg_hash_req_free(&hr);
		break;
	}
	case VG_R_LOOKUP_ONE: {
		char one[1][65];
		vg_hash_req hr = { .n = 1, .sha = one };
		memcpy(one[0], q->route.sha256, 65);
		st = do_lookup(d, q, &hr, 1, &out);
		break;
	}
	case VG_R_VERDICT_PUT:
	case VG_R_VERDICT_DEL:
	case VG_R_IMPORT:
		if (!k.admin) {
			*status = 403;
			return send_error(c, 403, "an admin key is needed", 0);
		}
		if (q->route.id == VG_R_IMPORT) {
			st = do_import(d, c, q, &k, &out);
		} else if (q->route.id == VG_R_VERDICT_DEL) {
			int r = d->store->ops->del(d->store, scope_of(&k), q->route.sha256);
			st = r < 0 ? store_failed(d) : r ? 200 : 404;
			out = st == 200 ? json_pack("{s:s, s:s, s:b}", "sha256",
			                            q->route.sha256, "scope", scope_of(&k),
			                            "deleted", 1)
			    : st == 404 ? json_pack("{s:s}", "error",
			                            "no verdict for this hash in this scope")
			                : NULL;
		} else {
			vg_import_entry e;
			st = vg_parse_verdict(q->body, q->len, &e, err, sizeof err);
			if (st) {
				*status = st;
				return send_error(c, st, err, 0);
			}
			memcpy(e.sha256, q->route.sha256, 65);
			if (d->store->ops->put(d->store, scope_of(&k), &e, 1,
			                       (int64_t)time(NULL)) != 0)
				st = store_failed(d);
			else if ((st = 200))
				out = json_pack("{s:s, s:s, s:s, s:s}", "sha256", e.sha256,
				                "verdict", vg_cverdict_name(e.verdict),
				                "name", e.name, "scope", scope_of(&k));
		}
		break;
	default:
		st = 404;
	}
	*status = st;
	if (st == 503)
		return send_error(c, 503, "store unavailable", 1);
	if (!out)
		return send_error(c, st, st == 500 ? "out of memory" : "error", 0);
	return send_json(c, st, out);
}

/* ------------------------------------------------------------------ */
/* libmicrohttpd callbacks                                             */
/* ------------------------------------------------------------------ */

static mhd_result on_request(void *cls, struct MHD_Connection *c,
                             const char *url, const char *method,
                             const char *version, const char *upload,
                             size_t *upload_size, void **con_cls)
{
	vg_cloudd *d = cls;
	req *q = *con_cls;
	int status = 500;
	mhd_result ok;

	(void)version;
	if (!q) {
		const char *cl;
		if (!(q = calloc(1, sizeof *q)))
			return MHD_NO;
		q->t0 = now_s();
		q->route_status = vg_route_parse(method, url, &q->route, q->route_err,
		                                 sizeof q->route_err);
		q->limit = q->route.id == VG_R_IMPORT && !q->route_status
		               ? d->cfg.max_import_size : d->cfg.max_request_size;
		*con_cls = q;
		/* a declared length over the limit is refused before a byte of
		 * it is read */
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > q->limit) {
			q->too_large = 1;
			ok = route(d, c, q, &status);
			vg_metrics_request(d->metrics, q->route_status ? VG_R_COUNT
			                               : (int)q->route.id, status, 0);
			access_log(d, c, q, method, url, status, now_s() - q->t0);
			return ok;
		}
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (q->too_large)
			return MHD_YES;
		if (n > q->limit - q->len) {
			/* keep reading to the end, keeping nothing */
			q->too_large = 1;
			free(q->body);
			q->body = NULL;
			q->len = q->cap = 0;
			return MHD_YES;
		}
		if (q->len + n > q->cap) {
			size_t ncap = q->cap ? q->cap : 4096;
			char *nb;
			while (ncap < q->len + n)
				ncap *= 2;
			if (ncap > q->limit)
				ncap = q->limit;
			if (!(nb = realloc(q->body, ncap)))
				return MHD_NO;
			q->body = nb;
			q->cap = ncap;
		}
		memcpy(q->body + q->len, upload, n);
		q->len += n;
		return MHD_YES;
	}
	ok = route(d, c, q, &status);
	{
		double secs = now_s() - q->t0;
		vg_metrics_request(d->metrics, q->route_status ? VG_R_COUNT
		                               : (int)q->route.id, status, secs);
		access_log(d, c, q, method, url, status, secs);
	}
	return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
	req *q = *con_cls;

	(void)cls;
	(void)c;
	(void)why;
	if (!q)
		return;
	free(q->body);
	free(q->log_extra);
	free(q);
	*con_cls = NULL;
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss,
                        socklen_t *len)
{
	char host[256];
	const char *colon = strrchr(listen, ':'), *h = listen;
	size_t hl;
	struct addrinfo hints = { 0 }, *ai = NULL;

	if (!colon)
		return -1;
	hl = (size_t)(colon - listen);
	if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof host)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int vg_http_start(vg_cloudd *d, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
	const union MHD_DaemonInfo *di;
	int tls = d->tls_cert && d->tls_key;

	if (parse_listen(d->cfg.listen, &ss, &sl) != 0) {
		snprintf(err, errlen, "%s: ADDR:PORT expected (numeric)",
		         d->cfg.listen);
		return -1;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen, "this libmicrohttpd has no TLS support");
			return -1;
		}
		flags |= MHD_USE_TLS;
	}
	d->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, d,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, d->cfg.max_threads,
		MHD_OPTION_CONNECTION_LIMIT, d->cfg.max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, d->cfg.read_timeout,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, d,
		tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, d->tls_cert,
		MHD_OPTION_HTTPS_MEM_KEY, d->tls_key,
		MHD_OPTION_END);
	if (!d->mhd) {
		snprintf(err, errlen, "cannot listen on %s", d->cfg.listen);
		return -1;
	}
	di = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_BIND_PORT);
	d->port = di ? di->port : 0;
	return 0;
}

void vg_http_stop(vg_cloudd *d)
{
	if (d->mhd)
		MHD_stop_daemon(d->mhd);
	d->mhd = NULL;
}
