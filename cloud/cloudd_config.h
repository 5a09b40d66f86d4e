/*
 * cloudd_config.h - vigil-cloudd's settings: defaults, the config file
 * (clamd.conf syntax: "Directive value" lines, # comments, yes/no, size
 * suffixes K and M) and command-line overrides.
 */
#ifndef VIGIL_CLOUDD_CONFIG_H
#define VIGIL_CLOUDD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define VG_PATH_MAX 1024

typedef struct vg_cloudd_config {
	char listen[256];          /* Listen ADDR:PORT (127.0.0.1:8440) */
	char store[VG_PATH_MAX];   /* Store sqlite:PATH | redis://HOST:PORT */
	char tls_cert[VG_PATH_MAX];/* TLSCertificate: PEM; TLS when set */
	char tls_key[VG_PATH_MAX]; /* TLSKey: PEM */
	char log_file[VG_PATH_MAX];/* LogFile: access log ("" none) */
	char pid_file[VG_PATH_MAX];/* PidFile */
	char port_file[VG_PATH_MAX];/* PortFile: the bound port, for port 0 */
	int log_missed_hashes;     /* LogMissedHashes (no: privacy) */
	int metrics_require_admin; /* MetricsRequireAdmin (no) */
	unsigned max_threads;      /* MaxThreads: HTTP threads (4) */
	unsigned max_connections;  /* MaxConnections (1024) */
	unsigned read_timeout;     /* ReadTimeout: idle connection, s (30) */
	uint64_t max_request_size; /* MaxRequestSize: body bytes (1M) */
	uint64_t max_import_size;  /* MaxImportSize: import body bytes (64M) */
	unsigned max_batch;        /* MaxBatch: hashes per request (1000) */
	unsigned rate_limit;       /* RateLimit: requests/s per key, 0 off (500) */
	unsigned rate_burst;       /* RateBurst: bucket size (1000) */
	unsigned rate_keys;        /* RateKeys: keys tracked (65536) */
	unsigned ttl_malicious;    /* TTLMalicious, s (86400) */
	unsigned ttl_clean;        /* TTLClean, s (86400) */
	unsigned ttl_unknown;      /* TTLUnknown: negative answers, s (3600) */
} vg_cloudd_config;

void vg_cloudd_config_defaults(vg_cloudd_config *c);

/* Applies a config file's text; 0, or -1 with "line N: why" in err. */
int vg_cloudd_config_parse(const char *text, size_t len,
                           vg_cloudd_config *c, char *err, size_t errlen);

/* Reads and applies a file (at most 1 MiB). */
int vg_cloudd_config_load(const char *path, vg_cloudd_config *c, char *err,
                          size_t errlen);

#endif
