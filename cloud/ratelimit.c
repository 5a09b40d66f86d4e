/*
 * ratelimit.c - per-key token buckets in a fixed table: memory is set
 * by RateKeys, whatever keys clients present. Each node limits on its
 * own; N nodes behind one balancer allow up to N times the rate.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloud/service.h"

#define SHARDS 64
#define PROBE 8

typedef struct bucket {
	char key[65];
	double tokens;
	double stamp;         /* last refill, seconds; 0 = empty slot */
} bucket;

struct vg_ratelimit {
	double rate, burst;
	size_t n;
	bucket *b;
	pthread_mutex_t lock[SHARDS];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9 + 1.0;
}

vg_ratelimit *vg_ratelimit_new(unsigned rate, unsigned burst, unsigned nkeys)
{
	vg_ratelimit *rl = calloc(1, sizeof *rl);

	if (!rl)
		return NULL;
	rl->n = nkeys < SHARDS * PROBE ? SHARDS * PROBE : nkeys;
	rl->rate = rate;
	rl->burst = burst ? burst : 1;
	if (!(rl->b = calloc(rl->n, sizeof *rl->b))) {
		free(rl);
		return NULL;
	}
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_init(&rl->lock[i], NULL);
	return rl;
}

void vg_ratelimit_free(vg_ratelimit *rl)
{
	if (!rl)
		return;
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_destroy(&rl->lock[i]);
	free(rl->b);
	free(rl);
}

unsigned vg_ratelimit_take(vg_ratelimit *rl, const char *keyhash)
{
	uint64_t h = 1469598103934665603ull;
	size_t first, groups;
	bucket *slot = NULL, *oldest = NULL;
	unsigned wait = 0;
	double t = now_s();
	int shard;

	if (!rl || rl->rate <= 0)
		return 0;
	for (int i = 0; i < 16 && keyhash[i]; i++)
		h = h * 31 + (unsigned char)keyhash[i];
	/* probe within one group of PROBE slots, so one shard lock covers
	 * the whole probe */
	groups = rl->n / PROBE;
	first = (size_t)(h % groups) * PROBE;
	shard = (int)((h % groups) % SHARDS);
	pthread_mutex_lock(&rl->lock[shard]);
	for (size_t i = first; i < first + PROBE; i++) {
		bucket *b = &rl->b[i];
		if (b->stamp && strcmp(b->key, keyhash) == 0) {
			slot = b;
			break;
		}
		if (!oldest || b->stamp < oldest->stamp)
			oldest = b;
	}
	if (!slot) {
		slot = oldest;
		memcpy(slot->key, keyhash, 64);
		slot->key[64] = '\0';
		slot->tokens = rl->burst;
		slot->stamp = t;
	}
	slot->tokens += (t - slot->stamp) * rl->rate;
	if (slot->tokens > rl->burst)
		slot->tokens = rl->burst;
	slot->stamp = t;
	if (slot->tokens >= 1) {
		slot->tokens -= 1;
	} else {
		double secs = (1 - slot->tokens) / rl->rate;
		wait = (unsigned)secs + ((double)(unsigned)secs < secs);
		if (wait < 1)
			wait = 1;
	}
	pthread_mutex_unlock(&rl->lock[shard]);
	return wait;
}
