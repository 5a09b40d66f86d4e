/*
 * daemon.h - what vigild's services share. vigild.c owns the
 * configuration, the log and the scan pool; each service (the clamd
 * protocol, on-access scanning, the control socket) is one row of the
 * table in vigild.c with these hooks.
 */
#ifndef VIGIL_ONACCESS_DAEMON_H
#define VIGIL_ONACCESS_DAEMON_H

#include <jansson.h>
#include <stdint.h>

#include "onaccess/conf.h"
#include "onaccess/pool.h"

typedef struct vg_daemon {
	const vg_config *cfg;
	vg_pool *pool;
	/* asks the main loop to stop vigild (SHUTDOWN); safe from any thread */
	void (*request_stop)(void);
} vg_daemon;

typedef struct vg_service {
	const char *name;
	/* Returns 0, or -1 with the reason in err (vigild then exits). A
	 * service with nothing configured returns 0 and does nothing. */
	int (*start)(vg_daemon *d, char *err, size_t errlen);
	void (*stop)(void);
	/* Adds the service's counters to a JSON object (stats). */
	void (*stats)(json_t *obj);
	/* A counter its loop bumps at least once a second, or NULL:
	 * the systemd watchdog is fed only while every counter moves. */
	uint64_t (*heartbeat)(void);
} vg_service;

/* The services (vigild.c's table). */
extern const vg_service vg_service_control;
extern const vg_service vg_service_clamd;
extern const vg_service vg_service_onaccess;

/* Every service's stats and the pool's, as one JSON object. */
json_t *vg_daemon_stats(const vg_daemon *d);

#endif /* VIGIL_ONACCESS_DAEMON_H */
