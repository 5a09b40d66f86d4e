/*
 * store.c - picks the back end from the store URL, and the connection
 * pool both back ends use.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/store.h"

extern const vg_store_ops vg_store_sqlite_ops;
extern const vg_store_ops vg_store_redis_ops;

int vg_tenant_valid(const char *name)
{
	size_t n = 0;

	if (!name)
		return 0;
	for (; name[n]; n++) {
		char c = name[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return n >= 1 && n < VG_TENANT_MAX;
}

vg_store *vg_store_open(const char *url, char *err, size_t errlen)
{
	const vg_store_ops *ops;
	const char *where;
	vg_store *s;

	if (strncmp(url, "sqlite:", 7) == 0) {
		ops = &vg_store_sqlite_ops;
		where = url + 7;
	} else if (strncmp(url, "redis://", 8) == 0) {
		ops = &vg_store_redis_ops;
		where = url + 8;
	} else {
		snprintf(err, errlen, "%s: store must be sqlite:PATH or "
		         "redis://HOST:PORT", url);
		return NULL;
	}
	if (!*where) {
		snprintf(err, errlen, "%s: store location is empty", url);
		return NULL;
	}
	if (!(s = calloc(1, sizeof *s))) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->ops = ops;
	if (ops->open(s, where) != 0) {
		snprintf(err, errlen, "%s: %s", url, s->errmsg);
		free(s);
		return NULL;
	}
	return s;
}

void vg_store_close(vg_store *s)
{
	if (!s)
		return;
	s->ops->close(s);
	free(s);
}

int vg_pool_init(vg_pool *p, void *(*make)(void *, char *, size_t),
                 void (*drop)(void *), void *arg)
{
	pthread_mutex_t *m = malloc(sizeof *m);

	memset(p, 0, sizeof *p);
	if (!m)
		return -1;
	pthread_mutex_init(m, NULL);
	p->lock = m;
	p->make = make;
	p->drop = drop;
	p->arg = arg;
	return 0;
}

void vg_pool_fini(vg_pool *p)
{
	if (!p->lock)
		return;
	for (int i = 0; i < p->nidle; i++)
		p->drop(p->idle[i]);
	p->nidle = 0;
	pthread_mutex_destroy(p->lock);
	free(p->lock);
	p->lock = NULL;
}

void *vg_pool_take(vg_pool *p, char *err, size_t errlen)
{
	void *c = NULL;

	pthread_mutex_lock(p->lock);
	if (p->nidle > 0)
		c = p->idle[--p->nidle];
	pthread_mutex_unlock(p->lock);
	return c ? c : p->make(p->arg, err, errlen);
}

void vg_pool_give(vg_pool *p, void *conn, int broken)
{
	if (!conn)
		return;
	if (!broken) {
		pthread_mutex_lock(p->lock);
		if (p->nidle < VG_POOL_MAX) {
			p->idle[p->nidle++] = conn;
			conn = NULL;
		}
		pthread_mutex_unlock(p->lock);
	}
	if (conn)
		p->drop(conn);
}
