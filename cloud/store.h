/*
 * store.h - where vigil-cloudd keeps verdicts, sightings and keys: one
 * interface, two back ends (store_sqlite.c: one file, WAL; store_redis.c:
 * a shared redis-server, so that many stateless nodes serve one fleet).
 *
 * Scopes: every verdict belongs to a tenant, or to the shared tenant
 * VG_SCOPE_GLOBAL (imports marked global). A lookup sees its tenant's
 * verdicts first, then the global ones; sightings are per tenant only.
 * All calls are safe from many threads at once (each takes a pooled
 * connection). Hashes are 64 lower-case hex digits, already checked.
 */
#ifndef VIGIL_CLOUD_STORE_H
#define VIGIL_CLOUD_STORE_H

#include <stddef.h>
#include <stdint.h>

#define VG_SCOPE_GLOBAL "global"
#define VG_TENANT_MAX 64      /* bytes, with the NUL */
#define VG_NAME_MAX 128       /* threat name, with the NUL */

typedef enum vg_cverdict {
	VG_CV_UNKNOWN = 0,
	VG_CV_MALICIOUS = 1,
	VG_CV_CLEAN = 2
} vg_cverdict;

typedef struct vg_answer {
	vg_cverdict verdict;
	char name[VG_NAME_MAX];
	int64_t first_seen;     /* unix seconds, 0 when never seen */
	int64_t last_seen;
	uint64_t prevalence;    /* distinct machines of the tenant */
} vg_answer;

typedef struct vg_key_info {
	char tenant[VG_TENANT_MAX];
	int admin;
} vg_key_info;

/* One verdict of a bulk import. */
typedef struct vg_import_entry {
	char sha256[65];
	vg_cverdict verdict;
	char name[VG_NAME_MAX];
	int64_t first_seen;     /* 0: now */
} vg_import_entry;

typedef struct vg_store vg_store;

/* The back end's operations; each returns 0, or -1 on a store error
 * (lost connection, disk full) with a message in the store. */
typedef struct vg_store_ops {
	const char *scheme;
	int (*open)(vg_store *s, const char *where);
	void (*close)(vg_store *s);
	int (*lookup)(vg_store *s, const char *tenant, const char (*sha)[65],
	              size_t n, vg_answer *out);
	int (*put)(vg_store *s, const char *scope, const vg_import_entry *e,
	           size_t n, int64_t now);
	/* 1 deleted, 0 there was none */
	int (*del)(vg_store *s, const char *scope, const char *sha);
	int (*sighting)(vg_store *s, const char *tenant, const char *machine,
	                const char (*sha)[65], size_t n, int64_t now);
	int (*key_add)(vg_store *s, const char *keyhash, const vg_key_info *k,
	               int64_t now);
	/* 1 found, 0 no such key */
	int (*key_find)(vg_store *s, const char *keyhash, vg_key_info *out);
	int (*ping)(vg_store *s);
} vg_store_ops;

struct vg_store {
	const vg_store_ops *ops;
	void *impl;
	char errmsg[256];
};

/*
 * Opens "sqlite:PATH" (creating the file and its tables) or
 * "redis://HOST:PORT[/DB]". NULL with a message in err on failure.
 */
vg_store *vg_store_open(const char *url, char *err, size_t errlen);
void vg_store_close(vg_store *s);

/* 1 when name is a tenant name: [A-Za-z0-9._-], 1 to 63 bytes. */
int vg_tenant_valid(const char *name);



/*
 * A pool of back-end connections, one taken per call: threads never
 * share a connection, and a broken one is dropped instead of reused.
 */
#define VG_POOL_MAX 64
typedef struct vg_pool {
	void *idle[VG_POOL_MAX];
	int nidle;
	void *(*make)(void *arg, char *err, size_t errlen);
	void (*drop)(void *conn);
	void *arg;
	void *lock;           /* pthread_mutex_t, kept out of this header */
} vg_pool;

int vg_pool_init(vg_pool *p, void *(*make)(void *, char *, size_t),
                 void (*drop)(void *), void *arg);
void vg_pool_fini(vg_pool *p);
/* An idle connection or a new one; NULL (message in err) if none. */
void *vg_pool_take(vg_pool *p, char *err, size_t errlen);
/* Returns a connection; broken ones are closed. */
void vg_pool_give(vg_pool *p, void *conn, int broken);
#endif
