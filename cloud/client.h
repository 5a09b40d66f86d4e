/*
 * client.h - libvigil's side of the cloud lookup: one client per engine,
 * shared by all its scanner threads. Lookups from many threads are
 * merged into batched requests (up to batch_max hashes or batch_wait_ms),
 * one in-flight lookup per hash is shared by everyone who asks, answers
 * are cached for the TTL the service sets (unknown ones too), and a
 * circuit breaker stops asking a failing service for a while, serving
 * cached answers (even expired ones) meanwhile.
 */
#ifndef VIGIL_CLOUD_CLIENT_H
#define VIGIL_CLOUD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/vigil.h"

typedef struct vg_cloud_conf {
	char *url;                 /* base URL; NULL: no cloud */
	char *key;                 /* bearer key, or NULL */
	char *machine;             /* machine id for sightings, or NULL */
	unsigned timeout_ms;       /* per object, all its lookups */
	unsigned batch_max;        /* hashes per request */
	unsigned batch_wait_ms;    /* longest wait for a batch to fill */
	unsigned breaker_failures; /* failed requests in a row that open it */
	unsigned breaker_retry_ms; /* open this long, then one probe */
	unsigned cache_entries;
	unsigned connections;      /* sender threads, requests in flight */
} vg_cloud_conf;

typedef enum vg_cloud_status {
	VG_CLOUD_ANSWER = 0,       /* fresh, or stale with answer.stale set */
	VG_CLOUD_TIMEOUT = 1,      /* no answer within the deadline */
	VG_CLOUD_FAILED = 2,       /* the request failed (why says how) */
	VG_CLOUD_OPEN = 3          /* breaker open, nothing cached */
} vg_cloud_status;

/* One answer of the service (see doc/cloud-api.md). */
typedef struct vg_cloud_answer {
	char sha256[65];
	int verdict;               /* 0 unknown, 1 malicious, 2 clean */
	char name[128];
	uint64_t prevalence;
	char first_seen[32];       /* "" when never seen */
	uint32_t ttl;              /* seconds */
	int stale;                 /* served past its TTL because the service
	                            * could not answer */
} vg_cloud_answer;

typedef struct vg_cloud_client vg_cloud_client;

/* Starts the sender threads. NULL with a message on failure. */
vg_cloud_client *vg_cloud_client_new(const vg_cloud_conf *conf, char *err,
                                     size_t errlen);
/* Stops the threads (a request in flight ends within its timeout). */
void vg_cloud_client_free(vg_cloud_client *c);

/*
 * A scanner that may call vg_cloud_lookup comes (+1) or goes (-1). While
 * every scanner waits for an answer no lookup can join the batch being
 * filled, so it goes out without waiting batch_wait_ms.
 */
void vg_cloud_client_scanners(vg_cloud_client *c, int delta);

/* Looks up one object; waits at most until deadline_us (monotonic). */
vg_cloud_status vg_cloud_lookup(vg_cloud_client *c, const char sha256[65],
                                uint64_t size, const char *type,
                                double ml_score, uint64_t deadline_us,
                                vg_cloud_answer *out, char *why,
                                size_t whylen);

void vg_cloud_client_stats(vg_cloud_client *c, vigil_cloud_stats *out);

/*
 * Reads a /v1/lookup response (untrusted: the network) and copies the
 * answer for each of the n hashes in want[] into out[] (found[i] set
 * when the body had it). 0, or -1 when the body is not a valid answer.
 */
#define VG_CLOUD_RESPONSE_MAX (8u << 20)
int vg_cloud_parse_response(const char *body, size_t len,
                            const char (*want)[65], size_t n,
                            vg_cloud_answer *out, int *found);

#endif
