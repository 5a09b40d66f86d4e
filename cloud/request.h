/*
 * request.h - vigil-cloudd's readers of untrusted bytes: request paths,
 * JSON bodies, bearer headers and bulk feeds. Pure functions with hard
 * limits and no I/O, so fuzz/cloud_request_fuzzer.c can drive them all.
 * Each returns 0, or an HTTP status (400, 404, 405, 413) with a short
 * reason in err.
 */
#ifndef VIGIL_CLOUD_REQUEST_H
#define VIGIL_CLOUD_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "cloud/store.h"

#define VG_MACHINE_MAX 65       /* machine id, with the NUL */

typedef enum vg_route_id {
	VG_R_LOOKUP,        /* POST /v1/lookup */
	VG_R_LOOKUP_ONE,    /* GET /v1/lookup/<sha256> */
	VG_R_VERDICT_PUT,   /* PUT /v1/verdicts/<sha256> (admin) */
	VG_R_VERDICT_DEL,   /* DELETE /v1/verdicts/<sha256> (admin) */
	VG_R_SIGHTINGS,     /* POST /v1/sightings */
	VG_R_IMPORT,        /* POST /v1/import?format=...&verdict=...&name=... */
	VG_R_METRICS,       /* GET /metrics */
	VG_R_HEALTHZ,       /* GET /healthz */
	VG_R_COUNT
} vg_route_id;

typedef struct vg_route {
	vg_route_id id;
	char sha256[65];     /* for the routes that name a hash */
} vg_route;

/* The route for a method and a path (without the query string). */
int vg_route_parse(const char *method, const char *path, vg_route *out,
                   char *err, size_t errlen);

/* Checks a hash of len bytes and writes it lower-case into out[65]. */
int vg_sha256_parse(const char *s, size_t len, char out[65]);

/* "Bearer <key>" -> key (at most keymax - 1 bytes). */
int vg_bearer_parse(const char *header, char *key, size_t keymax);

/* A lookup or sightings body: {"hashes": [...]} or {"objects": [{"sha256":
 * ..., "size": ..., "type": ..., "ml_score": ...}]}, "machine" optional
 * (required when need_machine). 1 to max_hashes hashes. */
typedef struct vg_hash_req {
	size_t n;
	char (*sha)[65];         /* malloc'd; free with vg_hash_req_free */
	char machine[VG_MACHINE_MAX];
} vg_hash_req;

int vg_parse_hashes(const char *body, size_t len, size_t max_hashes,
                    int need_machine, vg_hash_req *out, char *err,
                    size_t errlen);
void vg_hash_req_free(vg_hash_req *r);

/* A PUT body: {"verdict": "malicious" | "clean", "name": "...",
 * "first_seen": unix seconds (optional)}. */
int vg_parse_verdict(const char *body, size_t len, vg_import_entry *out,
                     char *err, size_t errlen);

/* "malicious", "clean", "unknown" and back. */
const char *vg_cverdict_name(vg_cverdict v);
int vg_cverdict_parse(const char *s, vg_cverdict *out);

/* Bulk feeds. */
typedef enum vg_feed_format {
	VG_FEED_HDB,      /* ClamAV .hdb/.hsb: HASH:SIZE:NAME, SHA-256 lines */
	VG_FEED_SHA256,   /* one SHA-256 per line, optional name after it */
	VG_FEED_BAZAAR    /* MalwareBazaar CSV export */
} vg_feed_format;

int vg_feed_format_parse(const char *s, vg_feed_format *out);

typedef struct vg_feed_stats {
	uint64_t lines, imported, skipped;   /* skipped: not SHA-256 or bad */
} vg_feed_stats;

/* Calls cb for each entry; a non-zero cb return stops with that value.
 * verdict and name apply where the format has none. Lines longer than
 * VG_FEED_LINE_MAX are skipped. */
#define VG_FEED_LINE_MAX 8192
typedef int (*vg_feed_cb)(void *ud, const vg_import_entry *e);
int vg_feed_parse(const char *data, size_t len, vg_feed_format fmt,
                  vg_cverdict verdict, const char *name, vg_feed_cb cb,
                  void *ud, vg_feed_stats *st);

/* 1 for a printable threat or machine name of the right length. */
int vg_name_valid(const char *s, size_t max);

#endif
