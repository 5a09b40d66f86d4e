/*
 * cloudd.h - one running vigil-cloudd: its settings, store, limits,
 * metrics, access log and HTTP daemon.
 */
#ifndef VIGIL_CLOUDD_H
#define VIGIL_CLOUDD_H

#include <pthread.h>
#include <stdio.h>

#include "cloud/cloudd_config.h"
#include "cloud/service.h"
#include "cloud/store.h"

typedef struct vg_cloudd {
	vg_cloudd_config cfg;
	vg_store *store;
	vg_ratelimit *rl;
	vg_metrics *metrics;
	FILE *log;                 /* access log, or NULL */
	pthread_mutex_t log_lock;
	struct MHD_Daemon *mhd;
	char *tls_cert, *tls_key;  /* PEM text, when TLS is on */
	unsigned port;             /* the bound port */
} vg_cloudd;

/* Binds cfg.listen and starts serving; 0, or -1 with a message. */
int vg_http_start(vg_cloudd *d, char *err, size_t errlen);
void vg_http_stop(vg_cloudd *d);

#endif
