/*
 * slot.c - see slot.h.
 */
#include "config.h"

#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "icap/slot.h"

/* Scanners kept for reuse per slot; more are made and freed as needed. */
#define VG_SLOT_POOL 64

struct vg_slot {
	vigil_engine *engine;
	struct vg_urlrules *rules;
	unsigned refs;    /* the publication counts as one */
	char istag[32];
	uint64_t sigs;
	uint64_t bundle;
	pthread_mutex_t pool_lock;
	vigil_scanner *pool[VG_SLOT_POOL];
	int npool;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vg_slot *g_current;

static void slot_free(struct vg_slot *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->npool; i++)
		vigil_scanner_free(s->pool[i]);
	vigil_engine_free(s->engine);
	vg_urlrules_free(s->rules);
	pthread_mutex_destroy(&s->pool_lock);
	free(s);
}

/* FNV-1a, enough to tell one set of inputs from another. */
static void mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 0x100000001b3ULL;
	}
}

static void mix_stat(uint64_t *h, const char *path)
{
	struct stat st;
	mix(h, path, strlen(path) + 1);
	if (stat(path, &st) != 0)
		return;
	mix(h, &st.st_size, sizeof st.st_size);
	mix(h, &st.st_mtim, sizeof st.st_mtim);
	mix(h, &st.st_ino, sizeof st.st_ino);
}

/* A file's identity, or that of every entry of a folder. */
static void mix_path(uint64_t *h, const char *path)
{
	struct dirent **names;
	int n;

	mix_stat(h, path);
	if ((n = scandir(path, &names, NULL, alphasort)) < 0)
		return;
	for (int i = 0; i < n; i++) {
		char sub[4096];
		if (names[i]->d_name[0] != '.' &&
		    snprintf(sub, sizeof sub, "%s/%s", path, names[i]->d_name) <
		            (int)sizeof sub)
			mix_stat(h, sub);
		free(names[i]);
	}
	free(names);
}

static void make_istag(struct vg_slot *s, const struct vg_icap_conf *c)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const struct vg_paths *lists[] = {&c->databases, &c->blocked_domains,
	                                  &c->allowed_domains, &c->blocked_urls,
	                                  &c->allowed_urls};
	long long knobs[] = {c->no_default_signatures, c->no_ml,
	                     c->max_scan_size, c->max_file_size,
	                     c->max_recursion, c->max_files, c->max_scan_time,
	                     c->max_object_size, c->decode_content,
	                     c->pass_oversize, c->pass_incomplete,
	                     c->pass_on_error, c->block_suspicious};

	mix(&h, vigil_version(), strlen(vigil_version()));
	mix(&h, &s->sigs, sizeof s->sigs);
	mix(&h, knobs, sizeof knobs);
	for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
		for (int i = 0; i < lists[l]->n; i++)
			mix_path(&h, lists[l]->v[i]);
	/* c-icap shows at most 26 characters of a service's ISTag */
	snprintf(s->istag, sizeof s->istag, "-vigil-%016" PRIx64, h);
}

static int set_limit(vigil_engine *e, vigil_limit l, long long v)
{
	return v > 0 ? vigil_engine_set_limit(e, l, (uint64_t)v) : VIGIL_OK;
}

static int load_rules(struct vg_slot *s, const struct vg_icap_conf *c,
                      char *err, size_t errlen)
{
	const struct {
		const struct vg_paths *p;
		enum vg_url_kind kind;
		enum vg_url_list list;
	} files[] = {
		{&c->blocked_domains, VG_URL_DOMAINS, VG_URL_BLOCK},
		{&c->allowed_domains, VG_URL_DOMAINS, VG_URL_ALLOW},
		{&c->blocked_urls, VG_URL_REGEX, VG_URL_BLOCK},
		{&c->allowed_urls, VG_URL_REGEX, VG_URL_ALLOW},
	};

	if (!(s->rules = vg_urlrules_new())) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++)
		for (int i = 0; i < files[f].p->n; i++)
			if (vg_urlrules_add_file(s->rules, files[f].kind,
			                         files[f].list, files[f].p->v[i],
			                         err, errlen) != 0)
				return -1;
	vg_urlrules_freeze(s->rules);
	return 0;
}

struct vg_slot *vg_slot_load(const struct vg_icap_conf *c,
                             uint64_t min_bundle, char *err, size_t errlen)
{
	struct vg_slot *s = calloc(1, sizeof *s);
	vigil_error rc;

	if (!s || pthread_mutex_init(&s->pool_lock, NULL) != 0) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((rc = vigil_engine_new(&s->engine)) != VIGIL_OK) {
		snprintf(err, errlen, "%s", vigil_strerror(rc));
		goto fail;
	}
	if ((rc = set_limit(s->engine, VIGIL_LIMIT_MAX_EXTRACTED, c->max_scan_size)) ||
	    (rc = set_limit(s->engine, VIGIL_LIMIT_MAX_MEMBER_SIZE, c->max_file_size)) ||
	    (rc = set_limit(s->engine, VIGIL_LIMIT_MAX_DEPTH, c->max_recursion)) ||
	    (rc = set_limit(s->engine, VIGIL_LIMIT_MAX_MEMBERS, c->max_files)) ||
	    (rc = set_limit(s->engine, VIGIL_LIMIT_MAX_SCAN_MS, c->max_scan_time)) ||
	    (rc = vigil_engine_set_option(s->engine, VIGIL_OPT_NO_DEFAULT_SIGNATURES,
	                                  c->no_default_signatures)) ||
	    (rc = vigil_engine_set_option(s->engine, VIGIL_OPT_NO_ML, c->no_ml))) {
		snprintf(err, errlen, "engine settings: %s", vigil_strerror(rc));
		goto fail;
	}
	if ((c->trusted_keys &&
	     (rc = vigil_engine_set_trust_dir(s->engine, c->trusted_keys))) ||
	    (rc = vigil_engine_set_option(s->engine, VIGIL_OPT_ALLOW_UNSIGNED,
	                                  c->allow_unsigned)) ||
	    (rc = vigil_engine_set_min_bundle_version(s->engine, min_bundle))) {
		snprintf(err, errlen, "bundle settings: %s", vigil_strerror(rc));
		goto fail;
	}
	for (int i = 0; i < c->databases.n; i++)
		if ((rc = vigil_engine_load(s->engine, c->databases.v[i])) != VIGIL_OK) {
			snprintf(err, errlen, "%s: %s: %s", c->databases.v[i],
			         vigil_strerror(rc), vigil_engine_last_error(s->engine));
			goto fail;
		}
	if ((rc = vigil_engine_freeze(s->engine)) != VIGIL_OK) {
		snprintf(err, errlen, "freeze: %s: %s", vigil_strerror(rc),
		         vigil_engine_last_error(s->engine));
		goto fail;
	}
	s->sigs = vigil_engine_signature_count(s->engine);
	s->bundle = vigil_engine_bundle_version(s->engine);
	if (load_rules(s, c, err, errlen) != 0)
		goto fail;
	make_istag(s, c);
	s->refs = 1;
	return s;
fail:
	slot_free(s);
	return NULL;
}

void vg_slot_publish(struct vg_slot *s)
{
	struct vg_slot *old;

	pthread_mutex_lock(&g_lock);
	old = g_current;
	g_current = s;
	if (old && --old->refs == 0) {
		pthread_mutex_unlock(&g_lock);
		slot_free(old);
		return;
	}
	pthread_mutex_unlock(&g_lock);
}

struct vg_slot *vg_slot_acquire(void)
{
	struct vg_slot *s;
	pthread_mutex_lock(&g_lock);
	if ((s = g_current))
		s->refs++;
	pthread_mutex_unlock(&g_lock);
	return s;
}

void vg_slot_release(struct vg_slot *s)
{
	int last;
	if (!s)
		return;
	pthread_mutex_lock(&g_lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&g_lock);
	if (last)
		slot_free(s);
}

void vg_slot_shutdown(void)
{
	vg_slot_publish(NULL);
}

vigil_scanner *vg_slot_scanner_get(struct vg_slot *s)
{
	vigil_scanner *sc = NULL;
	pthread_mutex_lock(&s->pool_lock);
	if (s->npool > 0)
		sc = s->pool[--s->npool];
	pthread_mutex_unlock(&s->pool_lock);
	if (!sc && vigil_scanner_new(s->engine, &sc) != VIGIL_OK)
		return NULL;
	return sc;
}

void vg_slot_scanner_put(struct vg_slot *s, vigil_scanner *sc)
{
	if (!sc)
		return;
	pthread_mutex_lock(&s->pool_lock);
	if (s->npool < VG_SLOT_POOL) {
		s->pool[s->npool++] = sc;
		sc = NULL;
	}
	pthread_mutex_unlock(&s->pool_lock);
	vigil_scanner_free(sc);
}

const vigil_engine *vg_slot_engine(const struct vg_slot *s)
{
	return s->engine;
}

const struct vg_urlrules *vg_slot_urlrules(const struct vg_slot *s)
{
	return s->rules;
}

const char *vg_slot_istag(const struct vg_slot *s)
{
	return s->istag;
}

uint64_t vg_slot_signatures(const struct vg_slot *s)
{
	return s->sigs;
}

uint64_t vg_slot_bundle_version(const struct vg_slot *s)
{
	return s->bundle;
}
