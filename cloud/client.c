/*
 * client.c - the cloud client (see client.h): a queue of pending
 * lookups drained by a few sender threads, each with its own libcurl
 * handle (kept-alive connection), an answer cache and a circuit breaker,
 * all under one mutex: lookups are few next to the work of a scan.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cloud/client.h"
#include "engine/vg.h"

#define CACHE_WAYS 4

typedef struct entry {
	char sha[65];
	uint64_t size;
	const char *type;        /* static string */
	double ml;
	uint64_t queued_us;
	int done;
	vg_cloud_status status;
	vg_cloud_answer ans;
	char why[96];
	int refs;                /* waiters + the queue or a sender */
	struct entry *next;      /* in the queue, then in the sender's batch */
	struct entry *inflight_next;
} entry;

typedef struct cslot {
	vg_cloud_answer ans;
	uint64_t expires_us;
	uint64_t used;           /* LRU stamp, 0 = empty */
} cslot;

struct vg_cloud_client {
	vg_cloud_conf conf;
	char lookup_url[1024];
	char auth[VG_ERRMSG_MAX];
	pthread_mutex_t lock;
	pthread_cond_t work;     /* the queue changed, or stop */
	pthread_cond_t done;     /* some entry is done */
	entry *head, *tail;      /* the queue */
	size_t queued;
	entry *inflight;         /* every entry not yet done */
	int stop;
	unsigned scanners;       /* that may look up (vg_cloud_client_scanners) */
	unsigned waiting;        /* lookups waiting for an answer */
	pthread_t *threads;
	unsigned nthreads;
	/* cache */
	cslot *slots;
	uint64_t nsets, clock;
	/* breaker */
	unsigned failures;       /* failed requests in a row */
	uint64_t open_until_us;  /* 0: closed */
	int probing;
	vigil_cloud_stats st;
};

/* ------------------------------------------------------------------ */
/* Cache                                                               */
/* ------------------------------------------------------------------ */

static cslot *cache_set(vg_cloud_client *c, const char *sha)
{
	uint64_t h = 0;
	for (int i = 0; i < 16; i++)
		h = (h << 4) | (uint64_t)(sha[i] <= '9' ? sha[i] - '0'
		                                         : sha[i] - 'a' + 10);
	return &c->slots[(h & (c->nsets - 1)) * CACHE_WAYS];
}

/* The cached answer for sha (fresh only unless stale_ok). */
static int cache_get(vg_cloud_client *c, const char *sha, int stale_ok,
                     vg_cloud_answer *out)
{
	cslot *set;

	if (!c->slots)
		return 0;
	set = cache_set(c, sha);
	for (int w = 0; w < CACHE_WAYS; w++) {
		cslot *s = &set[w];
		if (!s->used || memcmp(s->ans.sha256, sha, 64) != 0)
			continue;
		if (vg_now_us() >= s->expires_us && !stale_ok)
			return 0;
		s->used = ++c->clock;
		*out = s->ans;
		out->stale = vg_now_us() >= s->expires_us;
		return 1;
	}
	return 0;
}

static void cache_put(vg_cloud_client *c, const vg_cloud_answer *a)
{
	cslot *set, *victim;

	if (!c->slots || a->ttl == 0)
		return;
	set = cache_set(c, a->sha256);
	victim = &set[0];
	for (int w = 0; w < CACHE_WAYS; w++) {
		if (set[w].used && memcmp(set[w].ans.sha256, a->sha256, 64) == 0) {
			victim = &set[w];
			break;
		}
		if (set[w].used < victim->used)
			victim = &set[w];
	}
	victim->ans = *a;
	victim->ans.stale = 0;
	victim->expires_us = vg_now_us() + (uint64_t)a->ttl * 1000000u;
	victim->used = ++c->clock;
}

/* ------------------------------------------------------------------ */
/* Breaker                                                             */
/* ------------------------------------------------------------------ */

/* 1 when a request may go out now (taking the probe when half-open). */
static int breaker_allows(vg_cloud_client *c)
{
	if (!c->open_until_us)
		return 1;
	if (vg_now_us() < c->open_until_us || c->probing)
		return 0;
	c->probing = 1;
	return 1;
}

static void breaker_result(vg_cloud_client *c, int ok, unsigned retry_s)
{
	uint64_t wait = (uint64_t)c->conf.breaker_retry_ms * 1000u;

	if (ok) {
		c->failures = 0;
		c->open_until_us = 0;
		c->probing = 0;
		return;
	}
	c->failures++;
	if (c->probing || c->failures >= c->conf.breaker_failures || retry_s) {
		/* a server that says when to come back is believed, within
		 * ten times the configured wait */
		if (retry_s && (uint64_t)retry_s * 1000000u > wait)
			wait = (uint64_t)retry_s * 1000000u < wait * 10
			           ? (uint64_t)retry_s * 1000000u : wait * 10;
		if (!c->open_until_us || c->probing)
			c->st.breaker_opens++;
		c->open_until_us = vg_now_us() + wait;
		c->probing = 0;
	}
}

/* ------------------------------------------------------------------ */
/* Entries                                                             */
/* ------------------------------------------------------------------ */

static void entry_release(vg_cloud_client *c, entry *e)
{
	if (--e->refs > 0)
		return;
	/* off the in-flight list (it is done, so it was taken off already,
	 * unless it never was sent) */
	for (entry **p = &c->inflight; *p; p = &(*p)->inflight_next)
		if (*p == e) {
			*p = e->inflight_next;
			break;
		}
	free(e);
}

static void entry_finish(vg_cloud_client *c, entry *e, vg_cloud_status st,
                         const vg_cloud_answer *a, const char *why)
{
	for (entry **p = &c->inflight; *p; p = &(*p)->inflight_next)
		if (*p == e) {
			*p = e->inflight_next;
			break;
		}
	e->inflight_next = NULL;
	e->done = 1;
	e->status = st;
	if (a)
		e->ans = *a;
	snprintf(e->why, sizeof e->why, "%s", why ? why : "");
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */
/* ------------------------------------------------------------------ */

typedef struct body {
	char *s;
	size_t len, cap;
	int too_big;
} body;

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	body *b = ud;
	size_t len = size * n;

	if (b->len + len > VG_CLOUD_RESPONSE_MAX) {
		b->too_big = 1;
		return 0;
	}
	if (b->len + len + 1 > b->cap) {
		size_t ncap = (b->cap ? b->cap * 2 : 8192) + len;
		char *ns = realloc(b->s, ncap);
		if (!ns)
			return 0;
		b->s = ns;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, p, len);
	b->len += len;
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	unsigned *retry = ud;
	size_t len = size * n;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		unsigned long v = strtoul(p + 12, NULL, 10);
		*retry = v > 86400 ? 86400 : (unsigned)v;
	}
	return len;
}

/* The request body for a batch; NULL when out of memory. */
static char *request_json(const vg_cloud_client *c, entry *batch)
{
	json_t *objs = json_array(), *root;
	char *s;

	for (entry *e = batch; e; e = e->next) {
		json_t *o = json_pack("{s:s, s:I, s:s}", "sha256", e->sha,
		                      "size", (json_int_t)e->size, "type", e->type);
		if (o && e->ml >= 0)
			json_object_set_new(o, "ml_score", json_real(e->ml));
		json_array_append_new(objs, o);
	}
	root = json_pack("{s:o}", "objects", objs);
	if (root && c->conf.machine && *c->conf.machine)
		json_object_set_new(root, "machine", json_string(c->conf.machine));
	s = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	return s;
}

/* Sends one batch; fills answers[]/found[]; 0, or -1 with why. */
static int send_batch(vg_cloud_client *c, CURL *h, entry *batch, size_t n,
                      vg_cloud_answer *ans, int *found, unsigned *retry,
                      char *why, size_t whylen)
{
	char (*want)[65] = malloc(n * sizeof *want);
	struct curl_slist *hdr = NULL;
	body b = { 0 };
	char *req = request_json(c, batch);
	long status = 0;
	CURLcode cc;
	size_t i = 0;
	int rc = -1;

	if (!want || !req) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (entry *e = batch; e; e = e->next)
		memcpy(want[i++], e->sha, 65);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if (c->auth[0])
		hdr = curl_slist_append(hdr, c->auth);
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, c->lookup_url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, req);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, retry);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK)
		snprintf(why, whylen, "%s", b.too_big ? "answer too large"
		                                      : curl_easy_strerror(cc));
	else if (status != 200)
		snprintf(why, whylen, "HTTP %ld", status);
	else if (vg_cloud_parse_response(b.s, b.len, want, n, ans, found) != 0)
		snprintf(why, whylen, "malformed answer");
	else
		rc = 0;
out:
	curl_slist_free_all(hdr);
	free(b.s);
	free(req);
	free(want);
	return rc;
}

/* 1 when no scanner is left to add a lookup to the batch. */
static int all_waiting(const vg_cloud_client *c)
{
	return c->scanners && c->waiting >= c->scanners;
}

/* Takes up to batch_max queued entries once the batch is full, its
 * oldest entry has waited batch_wait_ms, or every scanner waits for an
 * answer (waiting longer only delays them). Called with the lock held. */
static entry *take_batch(vg_cloud_client *c, size_t *n)
{
	entry *batch = NULL, **tail = &batch;

	while (!c->stop) {
		uint64_t ripe;
		struct timespec ts;
		if (!c->head) {
			pthread_cond_wait(&c->work, &c->lock);
			continue;
		}
		ripe = c->head->queued_us + (uint64_t)c->conf.batch_wait_ms * 1000u;
		if (c->queued >= c->conf.batch_max || vg_now_us() >= ripe ||
		    all_waiting(c))
			break;
		ts.tv_sec = (time_t)(ripe / 1000000u);
		ts.tv_nsec = (long)(ripe % 1000000u) * 1000;
		pthread_cond_timedwait(&c->work, &c->lock, &ts);
	}
	*n = 0;
	while (c->head && *n < c->conf.batch_max) {
		entry *e = c->head;
		c->head = e->next;
		c->queued--;
		e->next = NULL;
		*tail = e;
		tail = &e->next;
		(*n)++;
	}
	if (!c->head)
		c->tail = NULL;
	return batch;
}

static void *sender(void *arg)
{
	vg_cloud_client *c = arg;
	CURL *h = curl_easy_init();

	if (h) {
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->conf.timeout_ms);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
		                 (long)c->conf.timeout_ms);
		curl_easy_setopt(h, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION_STRING);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	}
	pthread_mutex_lock(&c->lock);
	for (;;) {
		size_t n;
		entry *batch = take_batch(c, &n);
		vg_cloud_answer *ans;
		int *found, allowed, rc = -1;
		unsigned retry = 0;
		char why[96] = "";

		if (!batch)
			break;          /* stopping, queue drained */
		allowed = !c->stop && h && breaker_allows(c);
		pthread_mutex_unlock(&c->lock);
		ans = calloc(n, sizeof *ans);
		found = calloc(n, sizeof *found);
		if (!allowed)
			snprintf(why, sizeof why, "%s", c->stop ? "client stopping"
			                                        : "circuit open");
		else if (!ans || !found)
			snprintf(why, sizeof why, "out of memory");
		else
			rc = send_batch(c, h, batch, n, ans, found, &retry, why,
			                sizeof why);
		pthread_mutex_lock(&c->lock);
		if (allowed) {
			c->st.requests++;
			c->st.hashes_sent += n;
			breaker_result(c, rc == 0, retry);
		}
		for (size_t i = 0; batch; i++) {
			entry *e = batch;
			vg_cloud_answer stale;
			batch = e->next;
			e->next = NULL;
			if (rc == 0 && found[i]) {
				cache_put(c, &ans[i]);
				entry_finish(c, e, VG_CLOUD_ANSWER, &ans[i], NULL);
			} else if (cache_get(c, e->sha, 1, &stale)) {
				entry_finish(c, e, VG_CLOUD_ANSWER, &stale, NULL);
			} else {
				entry_finish(c, e, rc == 0 ? VG_CLOUD_FAILED
				                   : allowed ? VG_CLOUD_FAILED : VG_CLOUD_OPEN,
				             NULL, rc == 0 ? "hash missing from the answer"
				                           : why);
			}
			entry_release(c, e);
		}
		pthread_cond_broadcast(&c->done);
		free(ans);
		free(found);
	}
	pthread_mutex_unlock(&c->lock);
	curl_easy_cleanup(h);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Life cycle and lookups                                              */
/* ------------------------------------------------------------------ */

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

vg_cloud_client *vg_cloud_client_new(const vg_cloud_conf *conf, char *err,
                                     size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	vg_cloud_client *c = calloc(1, sizeof *c);
	pthread_condattr_t ca;
	size_t ul;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* curl_global_init is not thread-safe in every libcurl */
	pthread_once(&once, curl_init_once);
	c->conf = *conf;
	ul = strlen(conf->url);
	while (ul && conf->url[ul - 1] == '/')
		ul--;
	if (snprintf(c->lookup_url, sizeof c->lookup_url, "%.*s/v1/lookup",
	             (int)ul, conf->url) >= (int)sizeof c->lookup_url ||
	    (conf->key && snprintf(c->auth, sizeof c->auth,
	                           "Authorization: Bearer %s", conf->key)
	                      >= (int)sizeof c->auth)) {
		snprintf(err, errlen, "cloud URL or key too long");
		free(c);
		return NULL;
	}
	c->conf.url = c->conf.key = c->conf.machine = NULL;
	if (conf->machine && !(c->conf.machine = strdup(conf->machine)))
		goto nomem;
	if (conf->cache_entries) {
		c->nsets = 1;
		while (c->nsets * CACHE_WAYS < conf->cache_entries)
			c->nsets <<= 1;
		if (!(c->slots = calloc(c->nsets * CACHE_WAYS, sizeof *c->slots)))
			goto nomem;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->work, &ca);
	pthread_cond_init(&c->done, &ca);
	pthread_condattr_destroy(&ca);
	if (!(c->threads = calloc(conf->connections, sizeof *c->threads)))
		goto nomem_locks;
	for (; c->nthreads < conf->connections; c->nthreads++)
		if (pthread_create(&c->threads[c->nthreads], NULL, sender, c) != 0)
			break;
	if (c->nthreads == 0) {
		snprintf(err, errlen, "cannot start the cloud client's threads");
		vg_cloud_client_free(c);
		return NULL;
	}
	return c;
nomem_locks:
	vg_cloud_client_free(c);
	snprintf(err, errlen, "out of memory");
	return NULL;
nomem:
	free(c->conf.machine);
	free(c->slots);
	free(c);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

void vg_cloud_client_free(vg_cloud_client *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = 1;
	pthread_cond_broadcast(&c->work);
	pthread_mutex_unlock(&c->lock);
	for (unsigned i = 0; i < c->nthreads; i++)
		pthread_join(c->threads[i], NULL);
	/* nobody waits any more: scanners are freed before their engine */
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->work);
	pthread_cond_destroy(&c->done);
	free(c->threads);
	free(c->slots);
	free(c->conf.machine);
	free(c);
}

static entry *find_inflight(vg_cloud_client *c, const char *sha)
{
	for (entry *e = c->inflight; e; e = e->inflight_next)
		if (memcmp(e->sha, sha, 64) == 0)
			return e;
	return NULL;
}

vg_cloud_status vg_cloud_lookup(vg_cloud_client *c, const char sha256[65],
                                uint64_t size, const char *type,
                                double ml_score, uint64_t deadline_us,
                                vg_cloud_answer *out, char *why,
                                size_t whylen)
{
	vg_cloud_status st;
	struct timespec ts;
	entry *e;

	why[0] = '\0';
	pthread_mutex_lock(&c->lock);
	c->st.lookups++;
	if (cache_get(c, sha256, 0, out)) {
		c->st.cache_hits++;
		pthread_mutex_unlock(&c->lock);
		return VG_CLOUD_ANSWER;
	}
	/* an open breaker answers at once, from the cache if it can */
	if (c->open_until_us && (vg_now_us() < c->open_until_us || c->probing)) {
		c->st.failures++;
		st = cache_get(c, sha256, 1, out) ? VG_CLOUD_ANSWER : VG_CLOUD_OPEN;
		pthread_mutex_unlock(&c->lock);
		if (st != VG_CLOUD_ANSWER)
			snprintf(why, whylen, "circuit open");
		return st;
	}
	if (!(e = find_inflight(c, sha256))) {
		if (!(e = calloc(1, sizeof *e))) {
			pthread_mutex_unlock(&c->lock);
			snprintf(why, whylen, "out of memory");
			return VG_CLOUD_FAILED;
		}
		memcpy(e->sha, sha256, 65);
		e->size = size;
		e->type = type;
		e->ml = ml_score;
		e->queued_us = vg_now_us();
		e->refs = 1;            /* the queue's (then the sender's) */
		e->inflight_next = c->inflight;
		c->inflight = e;
		if (c->tail)
			c->tail->next = e;
		else
			c->head = e;
		c->tail = e;
		c->queued++;
		pthread_cond_signal(&c->work);
	}
	e->refs++;
	c->waiting++;
	if (all_waiting(c))
		pthread_cond_signal(&c->work);
	ts.tv_sec = (time_t)(deadline_us / 1000000u);
	ts.tv_nsec = (long)(deadline_us % 1000000u) * 1000;
	while (!e->done && vg_now_us() < deadline_us)
		if (pthread_cond_timedwait(&c->done, &c->lock, &ts) == ETIMEDOUT)
			break;
	c->waiting--;
	if (e->done) {
		st = e->status;
		if (st == VG_CLOUD_ANSWER)
			*out = e->ans;
		else
			snprintf(why, whylen, "%s", e->why);
	} else if (cache_get(c, sha256, 1, out)) {
		st = VG_CLOUD_ANSWER;   /* stale beats nothing */
	} else {
		st = VG_CLOUD_TIMEOUT;
		snprintf(why, whylen, "no answer within the deadline");
	}
	if (st != VG_CLOUD_ANSWER || out->stale)
		c->st.failures++;
	entry_release(c, e);
	pthread_mutex_unlock(&c->lock);
	return st;
}

void vg_cloud_client_scanners(vg_cloud_client *c, int delta)
{
	pthread_mutex_lock(&c->lock);
	c->scanners += (unsigned)delta;
	if (all_waiting(c))
		pthread_cond_signal(&c->work);
	pthread_mutex_unlock(&c->lock);
}

void vg_cloud_client_stats(vg_cloud_client *c, vigil_cloud_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->st;
	out->breaker_state = !c->open_until_us ? 0
	                   : c->probing || vg_now_us() >= c->open_until_us ? 2 : 1;
	pthread_mutex_unlock(&c->lock);
}
