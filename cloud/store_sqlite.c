/*
 * store_sqlite.c - the embedded store: one SQLite file in WAL mode, so
 * readers never wait for the writer. Hashes are kept as 32-byte blobs.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/store.h"

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE IF NOT EXISTS verdicts(scope TEXT NOT NULL,"
	" sha256 BLOB NOT NULL, verdict INTEGER NOT NULL, name TEXT NOT NULL,"
	" first_seen INTEGER NOT NULL, updated INTEGER NOT NULL,"
	" PRIMARY KEY(scope, sha256)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS sightings(tenant TEXT NOT NULL,"
	" sha256 BLOB NOT NULL, machine TEXT NOT NULL,"
	" first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
	" PRIMARY KEY(tenant, sha256, machine)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS keys(hash TEXT PRIMARY KEY NOT NULL,"
	" tenant TEXT NOT NULL, admin INTEGER NOT NULL,"
	" created INTEGER NOT NULL) WITHOUT ROWID;";

enum { Q_VERDICT, Q_SIGHT, Q_PUT, Q_DEL, Q_SIGHT_ADD, Q_KEY_ADD, Q_KEY_FIND,
       Q_BEGIN, Q_BEGIN_W, Q_COMMIT, Q_ROLLBACK, Q_COUNT };

static const char *const sql[Q_COUNT] = {
	[Q_VERDICT] = "SELECT verdict, name, first_seen FROM verdicts"
	              " WHERE scope = ?1 AND sha256 = ?2",
	[Q_SIGHT] = "SELECT count(*), min(first_seen), max(last_seen)"
	            " FROM sightings WHERE tenant = ?1 AND sha256 = ?2",
	[Q_PUT] = "INSERT INTO verdicts VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
	          " ON CONFLICT(scope, sha256) DO UPDATE SET"
	          " verdict = excluded.verdict, name = excluded.name,"
	          " first_seen = min(first_seen, excluded.first_seen),"
	          " updated = excluded.updated",
	[Q_DEL] = "DELETE FROM verdicts WHERE scope = ?1 AND sha256 = ?2",
	[Q_SIGHT_ADD] = "INSERT INTO sightings VALUES(?1, ?2, ?3, ?4, ?4)"
	                " ON CONFLICT(tenant, sha256, machine) DO UPDATE SET"
	                " last_seen = excluded.last_seen",
	[Q_KEY_ADD] = "INSERT INTO keys VALUES(?1, ?2, ?3, ?4)",
	[Q_KEY_FIND] = "SELECT tenant, admin FROM keys WHERE hash = ?1",
	[Q_BEGIN] = "BEGIN",
	[Q_BEGIN_W] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
};

typedef struct conn {
	sqlite3 *db;
	sqlite3_stmt *q[Q_COUNT];
} conn;

typedef struct impl {
	char *path;
	vg_pool pool;
} impl;

static void conn_drop(void *p)
{
	conn *c = p;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(c->q[i]);
	sqlite3_close(c->db);
	free(c);
}

static void *conn_make(void *arg, char *err, size_t errlen)
{
	const impl *im = arg;
	conn *c = calloc(1, sizeof *c);

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(im->path, &c->db, SQLITE_OPEN_READWRITE |
	                    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
	    != SQLITE_OK)
		goto fail;
	/* writers queue behind each other for a bounded time */
	sqlite3_busy_timeout(c->db, 5000);
	if (sqlite3_exec(c->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL)
	        != SQLITE_OK)
		goto fail;
	for (int i = 0; i < Q_COUNT; i++)
		if (sqlite3_prepare_v3(c->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                       &c->q[i], NULL) != SQLITE_OK)
			goto fail;
	return c;
fail:
	snprintf(err, errlen, "%s", c->db ? sqlite3_errmsg(c->db) : "cannot open");
	conn_drop(c);
	return NULL;
}

static int unhex(const char *hex, uint8_t out[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char ch = hex[2 * i + j];
			v <<= 4;
			if (ch >= '0' && ch <= '9') v |= (unsigned)(ch - '0');
			else if (ch >= 'a' && ch <= 'f') v |= (unsigned)(ch - 'a' + 10);
			else return -1;
		}
		out[i] = (uint8_t)v;
	}
	return 0;
}

static conn *take(vg_store *s)
{
	impl *im = s->impl;
	return vg_pool_take(&im->pool, s->errmsg, sizeof s->errmsg);
}

/* Returns the connection; on error keeps its message in the store. */
static int give(vg_store *s, conn *c, int rc)
{
	impl *im = s->impl;
	if (rc != 0) {
		snprintf(s->errmsg, sizeof s->errmsg, "%s", sqlite3_errmsg(c->db));
		sqlite3_reset(c->q[Q_ROLLBACK]);
		if (!sqlite3_get_autocommit(c->db))
			sqlite3_step(c->q[Q_ROLLBACK]);
		sqlite3_reset(c->q[Q_ROLLBACK]);
	}
	vg_pool_give(&im->pool, c, 0);
	return rc;
}

static int exec1(conn *c, int q)
{
	int rc = sqlite3_step(c->q[q]);
	sqlite3_reset(c->q[q]);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int sq_open(vg_store *s, const char *where)
{
	impl *im = calloc(1, sizeof *im);
	conn *c;

	if (!im || !(im->path = strdup(where)) ||
	    vg_pool_init(&im->pool, conn_make, conn_drop, im) != 0) {
		if (im)
			free(im->path);
		free(im);
		snprintf(s->errmsg, sizeof s->errmsg, "out of memory");
		return -1;
	}
	s->impl = im;
	/* one connection now: a bad path fails at start, not at the first
	 * request */
	if (!(c = take(s))) {
		vg_pool_fini(&im->pool);
		free(im->path);
		free(im);
		return -1;
	}
	vg_pool_give(&im->pool, c, 0);
	return 0;
}

static void sq_close(vg_store *s)
{
	impl *im = s->impl;
	vg_pool_fini(&im->pool);
	free(im->path);
	free(im);
}

static int one_verdict(conn *c, const char *scope, const uint8_t *bin,
                       vg_answer *a)
{
	sqlite3_stmt *q = c->q[Q_VERDICT];
	int rc;

	sqlite3_bind_text(q, 1, scope, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 2, bin, 32, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(q, 1);
		a->verdict = (vg_cverdict)sqlite3_column_int(q, 0);
		snprintf(a->name, sizeof a->name, "%s", name ? (const char *)name : "");
		a->first_seen = sqlite3_column_int64(q, 2);
	}
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int sq_lookup(vg_store *s, const char *tenant, const char (*sha)[65],
                     size_t n, vg_answer *out)
{
	conn *c = take(s);
	int rc = 0;

	if (!c)
		return -1;
	if (exec1(c, Q_BEGIN) != 0)
		return give(s, c, -1);
	for (size_t i = 0; i < n && rc == 0; i++) {
		vg_answer *a = &out[i];
		sqlite3_stmt *q = c->q[Q_SIGHT];
		uint8_t bin[32];
		int r;

		memset(a, 0, sizeof *a);
		if (unhex(sha[i], bin) != 0)
			continue;
		r = strcmp(tenant, VG_SCOPE_GLOBAL) ? one_verdict(c, tenant, bin, a) : 0;
		if (r == 0)
			r = one_verdict(c, VG_SCOPE_GLOBAL, bin, a);
		if (r < 0) {
			rc = -1;
			break;
		}
		sqlite3_bind_text(q, 1, tenant, -1, SQLITE_STATIC);
		sqlite3_bind_blob(q, 2, bin, 32, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW) {
			int64_t first = sqlite3_column_int64(q, 1);
			a->prevalence = (uint64_t)sqlite3_column_int64(q, 0);
			if (a->prevalence && (!a->first_seen || first < a->first_seen))
				a->first_seen = first;
			a->last_seen = sqlite3_column_int64(q, 2);
		} else {
			rc = -1;
		}
		sqlite3_reset(q);
	}
	if (rc == 0)
		rc = exec1(c, Q_COMMIT);
	return give(s, c, rc);
}

static int sq_put(vg_store *s, const char *scope, const vg_import_entry *e,
                  size_t n, int64_t now)
{
	conn *c = take(s);
	sqlite3_stmt *q;
	int rc = 0;

	if (!c)
		return -1;
	q = c->q[Q_PUT];
	if (exec1(c, Q_BEGIN_W) != 0)
		return give(s, c, -1);
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint8_t bin[32];
		if (unhex(e[i].sha256, bin) != 0)
			continue;
		sqlite3_bind_text(q, 1, scope, -1, SQLITE_STATIC);
		sqlite3_bind_blob(q, 2, bin, 32, SQLITE_STATIC);
		sqlite3_bind_int(q, 3, (int)e[i].verdict);
		sqlite3_bind_text(q, 4, e[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 5, e[i].first_seen ? e[i].first_seen : now);
		sqlite3_bind_int64(q, 6, now);
		rc = exec1(c, Q_PUT);
	}
	if (rc == 0)
		rc = exec1(c, Q_COMMIT);
	return give(s, c, rc);
}

static int sq_del(vg_store *s, const char *scope, const char *sha)
{
	conn *c = take(s);
	uint8_t bin[32];
	int rc;

	if (!c)
		return -1;
	if (unhex(sha, bin) != 0)
		return give(s, c, 0);
	sqlite3_bind_text(c->q[Q_DEL], 1, scope, -1, SQLITE_STATIC);
	sqlite3_bind_blob(c->q[Q_DEL], 2, bin, 32, SQLITE_STATIC);
	rc = exec1(c, Q_DEL);
	if (rc == 0)
		rc = sqlite3_changes(c->db) > 0;
	if (give(s, c, rc < 0 ? -1 : 0) < 0)
		return -1;
	return rc;
}

static int sq_sighting(vg_store *s, const char *tenant, const char *machine,
                       const char (*sha)[65], size_t n, int64_t now)
{
	conn *c = take(s);
	sqlite3_stmt *q;
	int rc = 0;

	if (!c)
		return -1;
	q = c->q[Q_SIGHT_ADD];
	if (exec1(c, Q_BEGIN_W) != 0)
		return give(s, c, -1);
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint8_t bin[32];
		if (unhex(sha[i], bin) != 0)
			continue;
		sqlite3_bind_text(q, 1, tenant, -1, SQLITE_STATIC);
		sqlite3_bind_blob(q, 2, bin, 32, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, machine, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 4, now);
		rc = exec1(c, Q_SIGHT_ADD);
	}
	if (rc == 0)
		rc = exec1(c, Q_COMMIT);
	return give(s, c, rc);
}

static int sq_key_add(vg_store *s, const char *keyhash, const vg_key_info *k,
                      int64_t now)
{
	conn *c = take(s);
	sqlite3_stmt *q;

	if (!c)
		return -1;
	q = c->q[Q_KEY_ADD];
	sqlite3_bind_text(q, 1, keyhash, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, k->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, k->admin);
	sqlite3_bind_int64(q, 4, now);
	return give(s, c, exec1(c, Q_KEY_ADD));
}

static int sq_key_find(vg_store *s, const char *keyhash, vg_key_info *out)
{
	conn *c = take(s);
	sqlite3_stmt *q;
	int rc;

	if (!c)
		return -1;
	q = c->q[Q_KEY_FIND];
	sqlite3_bind_text(q, 1, keyhash, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(q, 0);
		snprintf(out->tenant, sizeof out->tenant, "%s",
		         t ? (const char *)t : "");
		out->admin = sqlite3_column_int(q, 1);
	}
	sqlite3_reset(q);
	rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
	return give(s, c, rc < 0 ? -1 : 0) < 0 ? -1 : rc;
}

static int sq_ping(vg_store *s)
{
	conn *c = take(s);
	if (!c)
		return -1;
	return give(s, c, 0);
}

const vg_store_ops vg_store_sqlite_ops = {
	.scheme = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.lookup = sq_lookup,
	.put = sq_put,
	.del = sq_del,
	.sighting = sq_sighting,
	.key_add = sq_key_add,
	.key_find = sq_key_find,
	.ping = sq_ping,
};
