/*
 * service.h - vigil-cloudd's parts besides HTTP and storage: API keys,
 * per-key rate limits and the Prometheus metrics.
 */
#ifndef VIGIL_CLOUD_SERVICE_H
#define VIGIL_CLOUD_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "cloud/request.h"

/*
 * Keys: "vgk_" and 64 hex digits from 32 random bytes. The store keeps
 * only their SHA-256: with 256 bits of entropy no dictionary or brute
 * force applies, so a slow password hash would buy nothing and cost a
 * KDF per request; a plain digest also lets the store find a key by
 * its hash in one look-up.
 */
#define VG_KEY_MAX 128
int vg_key_generate(char out[VG_KEY_MAX]);
void vg_key_hash(const char *key, char out[65]);

/* Token buckets per key: rate requests/s, burst deep, at most nkeys
 * tracked (the least recently used is forgotten first). */
typedef struct vg_ratelimit vg_ratelimit;
vg_ratelimit *vg_ratelimit_new(unsigned rate, unsigned burst, unsigned nkeys);
void vg_ratelimit_free(vg_ratelimit *rl);
/* 0 when the request may go on, else the seconds to wait (>= 1). */
unsigned vg_ratelimit_take(vg_ratelimit *rl, const char *keyhash);

typedef struct vg_metrics vg_metrics;
vg_metrics *vg_metrics_new(void);
void vg_metrics_free(vg_metrics *m);
/* route is a vg_route_id, or VG_R_COUNT for requests no route took. */
void vg_metrics_request(vg_metrics *m, int route, int status, double secs);
/* Per-tenant counts: requests, hashes asked, hashes with a verdict. */
void vg_metrics_tenant(vg_metrics *m, const char *tenant, unsigned hashes,
                       unsigned known);
void vg_metrics_store_error(vg_metrics *m);
/* The text exposition format; malloc'd, NULL when out of memory. */
char *vg_metrics_render(vg_metrics *m);

#endif
