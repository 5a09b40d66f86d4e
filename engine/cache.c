/*
 * cache.c - the verdict cache.
 *
 * A fixed number of slots, set-associative in groups of WAYS, spread
 * over SHARDS mutexes so threads rarely wait on each other. A full set
 * evicts its least recently used slot. The table never grows: its size
 * is the VIGIL_LIMIT_CACHE_ENTRIES limit.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "engine/cache.h"

#define SHARDS 64
#define WAYS 4

typedef struct slot {
	uint64_t key[2];
	uint64_t gen;
	uint64_t used;         /* LRU stamp; 0 = empty */
	vigil_result *r;
} slot;

typedef struct shard {
	pthread_mutex_t lock;
	uint64_t clock;
} shard;

struct vg_cache {
	slot *slots;
	uint64_t nsets;        /* power of two */
	shard shards[SHARDS];
};

vigil_error vg_cache_new(uint64_t entries, vg_cache **out)
{
	vg_cache *c;
	uint64_t nsets = 1;

	*out = NULL;
	if (entries == 0)
		return VIGIL_OK;
	while (nsets * WAYS < entries && nsets < (1ull << 40))
		nsets <<= 1;
	if (!(c = calloc(1, sizeof *c)))
		return VIGIL_ENOMEM;
	if (!(c->slots = calloc(nsets * WAYS, sizeof *c->slots))) {
		free(c);
		return VIGIL_ENOMEM;
	}
	c->nsets = nsets;
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_init(&c->shards[i].lock, NULL);
	*out = c;
	return VIGIL_OK;
}

void vg_cache_free(vg_cache *c)
{
	uint64_t puts = 0;

	if (!c)
		return;
	/* a shard's clock counts its puts: a cache nothing was put in
	 * holds no result, and walking its slots would only fault in
	 * pages calloc never touched (10 MiB by default, 0.06 s of a
	 * `vigil scan` that finds nothing to scan) */
	for (int i = 0; i < SHARDS; i++)
		puts += c->shards[i].clock;
	for (uint64_t i = 0; puts && i < c->nsets * WAYS; i++)
		vigil_result_free(c->slots[i].r);
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_destroy(&c->shards[i].lock);
	free(c->slots);
	free(c);
}

static slot *set_of(vg_cache *c, const uint64_t key[2], shard **sh)
{
	uint64_t set = key[0] & (c->nsets - 1);
	*sh = &c->shards[set % SHARDS];
	return &c->slots[set * WAYS];
}

vigil_result *vg_cache_get(vg_cache *c, const uint64_t key[2], uint64_t gen)
{
	vigil_result *r = NULL;
	shard *sh;
	slot *set;

	if (!c)
		return NULL;
	set = set_of(c, key, &sh);
	pthread_mutex_lock(&sh->lock);
	for (int w = 0; w < WAYS; w++) {
		slot *s = &set[w];
		if (s->used && s->gen == gen && s->key[0] == key[0] &&
		    s->key[1] == key[1] &&
		    (!s->r->expires_us || vg_now_us() < s->r->expires_us)) {
			s->used = ++sh->clock;
			r = vg_result_clone(s->r);
			break;
		}
	}
	pthread_mutex_unlock(&sh->lock);
	return r;
}

void vg_cache_put(vg_cache *c, const uint64_t key[2], uint64_t gen,
                  const vigil_result *r)
{
	vigil_result *copy;
	vigil_result *old = NULL;
	shard *sh;
	slot *set, *victim;

	if (!c || !(copy = vg_result_clone(r)))
		return;
	set = set_of(c, key, &sh);
	pthread_mutex_lock(&sh->lock);
	victim = &set[0];
	for (int w = 0; w < WAYS; w++) {
		slot *s = &set[w];
		if (s->used && s->key[0] == key[0] && s->key[1] == key[1]) {
			victim = s;
			break;
		}
		if (s->used < victim->used)
			victim = s;
	}
	old = victim->r;
	victim->key[0] = key[0];
	victim->key[1] = key[1];
	victim->gen = gen;
	victim->r = copy;
	victim->used = ++sh->clock;
	pthread_mutex_unlock(&sh->lock);
	vigil_result_free(old);
}
