/*
 * store_redis.c - the shared store: a redis-server (or anything that
 * speaks its protocol, such as kvrocks) holds everything, so any number
 * of vigil-cloudd nodes serve one fleet and keep no state themselves.
 *
 * Keys (scope is a tenant name or "global"):
 *   vg:v:<scope>:<sha256>   hash  v (verdict), n (name), f (first seen)
 *   vg:m:<tenant>:<sha256>  hash  machine -> first seen (HLEN: prevalence)
 *   vg:s:<tenant>:<sha256>  hash  f (first seen), l (last seen)
 *   vg:k:<key hash>         hash  t (tenant), a (admin)
 * A batch is one pipelined round trip.
 */
#include "config.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cloud/store.h"

/* Replies are awaited this long before the connection counts as lost. */
#define REDIS_TIMEOUT_MS 2000

typedef struct impl {
	char host[256];
	int port;
	int db;
	vg_pool pool;
} impl;

static void conn_drop(void *c)
{
	redisFree(c);
}

static void *conn_make(void *arg, char *err, size_t errlen)
{
	const impl *im = arg;
	struct timeval tv = { REDIS_TIMEOUT_MS / 1000,
	                      (REDIS_TIMEOUT_MS % 1000) * 1000 };
	redisContext *c = redisConnectWithTimeout(im->host, im->port, tv);

	if (!c || c->err) {
		snprintf(err, errlen, "redis %s:%d: %s", im->host, im->port,
		         c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	if (im->db) {
		redisReply *r = redisCommand(c, "SELECT %d", im->db);
		int bad = !r || r->type == REDIS_REPLY_ERROR;
		if (r)
			freeReplyObject(r);
		if (bad) {
			snprintf(err, errlen, "redis: cannot select db %d", im->db);
			redisFree(c);
			return NULL;
		}
	}
	return c;
}

static redisContext *take(vg_store *s)
{
	impl *im = s->impl;
	return vg_pool_take(&im->pool, s->errmsg, sizeof s->errmsg);
}

/* Reads n pipelined replies into r[]; -1 if the connection broke. */
static int replies(vg_store *s, redisContext *c, redisReply **r, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		r[i] = NULL;
		if (rc == 0 && redisGetReply(c, (void **)&r[i]) != REDIS_OK) {
			snprintf(s->errmsg, sizeof s->errmsg, "redis: %s",
			         c->errstr[0] ? c->errstr : "no reply");
			rc = -1;
		} else if (r[i] && r[i]->type == REDIS_REPLY_ERROR) {
			snprintf(s->errmsg, sizeof s->errmsg, "redis: %.*s",
			         (int)r[i]->len, r[i]->str);
			rc = -2;   /* the server said no; the connection is fine */
		}
	}
	return rc;
}

static void free_replies(redisReply **r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r[i])
			freeReplyObject(r[i]);
}

/* Gives the connection back and maps rc to the interface's 0 / -1. */
static int give(vg_store *s, redisContext *c, int rc)
{
	impl *im = s->impl;
	vg_pool_give(&im->pool, c, rc == -1 || c->err);
	return rc < 0 ? -1 : 0;
}

static int rd_open(vg_store *s, const char *where)
{
	impl *im = calloc(1, sizeof *im);
	const char *colon, *slash;
	redisContext *c;
	size_t hl;

	if (!im) {
		snprintf(s->errmsg, sizeof s->errmsg, "out of memory");
		return -1;
	}
	colon = strrchr(where, ':');
	slash = strchr(where, '/');
	hl = colon ? (size_t)(colon - where) : slash ? (size_t)(slash - where)
	                                             : strlen(where);
	if (hl == 0 || hl >= sizeof im->host) {
		snprintf(s->errmsg, sizeof s->errmsg, "bad redis host");
		free(im);
		return -1;
	}
	memcpy(im->host, where, hl);
	im->port = colon ? atoi(colon + 1) : 6379;
	im->db = slash ? atoi(slash + 1) : 0;
	if (im->port <= 0 || im->port > 65535 || im->db < 0) {
		snprintf(s->errmsg, sizeof s->errmsg, "bad redis port or db");
		free(im);
		return -1;
	}
	if (vg_pool_init(&im->pool, conn_make, conn_drop, im) != 0) {
		free(im);
		snprintf(s->errmsg, sizeof s->errmsg, "out of memory");
		return -1;
	}
	s->impl = im;
	if (!(c = take(s))) {
		vg_pool_fini(&im->pool);
		free(im);
		return -1;
	}
	give(s, c, 0);
	return 0;
}

static void rd_close(vg_store *s)
{
	impl *im = s->impl;
	vg_pool_fini(&im->pool);
	free(im);
}

static int64_t int_of(const redisReply *r)
{
	if (!r)
		return 0;
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return strtoll(r->str, NULL, 10);
	return 0;
}

/* Fills a from an HMGET v n f reply; 1 when there was a verdict. */
static int verdict_of(const redisReply *r, vg_answer *a)
{
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return 0;
	a->verdict = (vg_cverdict)int_of(r->element[0]);
	if (a->verdict != VG_CV_MALICIOUS && a->verdict != VG_CV_CLEAN)
		a->verdict = VG_CV_UNKNOWN;
	if (r->element[1]->type == REDIS_REPLY_STRING)
		snprintf(a->name, sizeof a->name, "%.*s", (int)r->element[1]->len,
		         r->element[1]->str);
	a->first_seen = int_of(r->element[2]);
	return 1;
}

#define PER_HASH 4

static int rd_lookup(vg_store *s, const char *tenant, const char (*sha)[65],
                     size_t n, vg_answer *out)
{
	redisContext *c = take(s);
	redisReply **r;
	int rc;

	if (!c)
		return -1;
	if (!(r = calloc(n * PER_HASH + 1, sizeof *r)))
		return give(s, c, -2);
	for (size_t i = 0; i < n; i++) {
		redisAppendCommand(c, "HMGET vg:v:%s:%s v n f", tenant, sha[i]);
		redisAppendCommand(c, "HMGET vg:v:%s:%s v n f", VG_SCOPE_GLOBAL,
		                   sha[i]);
		redisAppendCommand(c, "HLEN vg:m:%s:%s", tenant, sha[i]);
		redisAppendCommand(c, "HMGET vg:s:%s:%s f l", tenant, sha[i]);
	}
	rc = replies(s, c, r, n * PER_HASH);
	for (size_t i = 0; i < n && rc == 0; i++) {
		vg_answer *a = &out[i];
		redisReply **h = &r[i * PER_HASH];
		memset(a, 0, sizeof *a);
		if (!verdict_of(h[0], a))
			verdict_of(h[1], a);
		a->prevalence = (uint64_t)int_of(h[2]);
		if (h[3] && h[3]->type == REDIS_REPLY_ARRAY && h[3]->elements == 2) {
			int64_t first = int_of(h[3]->element[0]);
			if (first && (!a->first_seen || first < a->first_seen))
				a->first_seen = first;
			a->last_seen = int_of(h[3]->element[1]);
		}
	}
	free_replies(r, n * PER_HASH);
	free(r);
	return give(s, c, rc);
}

static int rd_put(vg_store *s, const char *scope, const vg_import_entry *e,
                  size_t n, int64_t now)
{
	redisContext *c = take(s);
	redisReply **r;
	int rc;

	if (!c)
		return -1;
	if (!(r = calloc(n * 2 + 1, sizeof *r)))
		return give(s, c, -2);
	for (size_t i = 0; i < n; i++) {
		long long first = e[i].first_seen ? e[i].first_seen : now;
		/* first seen only ever moves back: HSETNX keeps an older one */
		redisAppendCommand(c, "HSET vg:v:%s:%s v %d n %s", scope,
		                   e[i].sha256, (int)e[i].verdict, e[i].name);
		redisAppendCommand(c, "HSETNX vg:v:%s:%s f %lld", scope,
		                   e[i].sha256, first);
	}
	rc = replies(s, c, r, n * 2);
	free_replies(r, n * 2);
	free(r);
	return give(s, c, rc);
}

static int rd_del(vg_store *s, const char *scope, const char *sha)
{
	redisContext *c = take(s);
	redisReply *r;
	int rc, gone;

	if (!c)
		return -1;
	redisAppendCommand(c, "DEL vg:v:%s:%s", scope, sha);
	rc = replies(s, c, &r, 1);
	gone = rc == 0 && int_of(r) > 0;
	free_replies(&r, 1);
	if (give(s, c, rc) < 0)
		return -1;
	return gone;
}

static int rd_sighting(vg_store *s, const char *tenant, const char *machine,
                       const char (*sha)[65], size_t n, int64_t now)
{
	redisContext *c = take(s);
	redisReply **r;
	int rc;

	if (!c)
		return -1;
	if (!(r = calloc(n * 3 + 1, sizeof *r)))
		return give(s, c, -2);
	for (size_t i = 0; i < n; i++) {
		redisAppendCommand(c, "HSETNX vg:m:%s:%s %s %lld", tenant, sha[i],
		                   machine, (long long)now);
		redisAppendCommand(c, "HSETNX vg:s:%s:%s f %lld", tenant, sha[i],
		                   (long long)now);
		redisAppendCommand(c, "HSET vg:s:%s:%s l %lld", tenant, sha[i],
		                   (long long)now);
	}
	rc = replies(s, c, r, n * 3);
	free_replies(r, n * 3);
	free(r);
	return give(s, c, rc);
}

static int rd_key_add(vg_store *s, const char *keyhash, const vg_key_info *k,
                      int64_t now)
{
	redisContext *c = take(s);
	redisReply *r;
	int rc;

	if (!c)
		return -1;
	redisAppendCommand(c, "HSET vg:k:%s t %s a %d c %lld", keyhash,
	                   k->tenant, k->admin, (long long)now);
	rc = replies(s, c, &r, 1);
	free_replies(&r, 1);
	return give(s, c, rc);
}

static int rd_key_find(vg_store *s, const char *keyhash, vg_key_info *out)
{
	redisContext *c = take(s);
	redisReply *r;
	int rc, found = 0;

	if (!c)
		return -1;
	redisAppendCommand(c, "HMGET vg:k:%s t a", keyhash);
	rc = replies(s, c, &r, 1);
	if (rc == 0 && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING) {
		snprintf(out->tenant, sizeof out->tenant, "%.*s",
		         (int)r->element[0]->len, r->element[0]->str);
		out->admin = int_of(r->element[1]) != 0;
		found = 1;
	}
	free_replies(&r, 1);
	if (give(s, c, rc) < 0)
		return -1;
	return found;
}

static int rd_ping(vg_store *s)
{
	redisContext *c = take(s);
	redisReply *r;
	int rc;

	if (!c)
		return -1;
	redisAppendCommand(c, "PING");
	rc = replies(s, c, &r, 1);
	free_replies(&r, 1);
	return give(s, c, rc);
}

const vg_store_ops vg_store_redis_ops = {
	.scheme = "redis",
	.open = rd_open,
	.close = rd_close,
	.lookup = rd_lookup,
	.put = rd_put,
	.del = rd_del,
	.sighting = rd_sighting,
	.key_add = rd_key_add,
	.key_find = rd_key_find,
	.ping = rd_ping,
};
