/*
 * worker.h - isolation: the parsers that read containers with
 * third-party code (libarchive, libclamav) run in vigil-unpackd worker
 * processes; vigil's own stages stay in the caller. See doc/design.md,
 * "Isolation".
 *
 * Caller side: pool.c keeps long-lived workers per engine, remote.c runs
 * one layer's job in one of them. Worker side: serve.c answers jobs,
 * confine.c locks the process down before the first one.
 */
#ifndef VIGIL_WORKER_H
#define VIGIL_WORKER_H

#include <sys/types.h>

#include "engine/vg.h"

struct vg_unpacker;

/* The helper's path when neither VIGIL_UNPACKD nor the engine says
 * otherwise: $(libexecdir)/vigil-unpackd, set by the build. */
#ifndef VG_UNPACKD_PATH
#define VG_UNPACKD_PATH "/usr/local/libexec/vigil-unpackd"
#endif

/* A worker that does not finish its job reports VG_F(MAX_WORKER_MEMORY),
 * VG_F(CRASH), or VG_F(MAX_SCAN_MS) when stopped at the deadline
 * (engine/finding_list.h). */

/* Set in a worker process: scans there never go to another worker. */
extern int vg_worker_process;

/* 1 when this layer's third-party parsing goes to a worker. */
int vg_isolated(const vigil_engine *e);

/* ------------------------------------------------------------------ */
/* Caller side                                                         */
/* ------------------------------------------------------------------ */

typedef struct vg_pool vg_pool;

/* The engine's pool (no worker started yet), at freeze. */
vigil_error vg_pool_new(vigil_engine *e, vg_pool **out);
/* Stops every idle worker and removes its temporary folder. */
void vg_pool_free(vg_pool *p);

/* One worker, checked out to one job at a time. */
typedef struct vg_worker {
	pid_t pid;
	int sock;
	int killed;          /* the caller sent SIGKILL (deadline) */
	char tmpdir[256];
	struct vg_worker *next;
} vg_worker;

/* An idle worker, or a new one; NULL with the reason in why. */
vg_worker *vg_pool_get(vg_pool *p, char *why, size_t whylen);
/* Back to the pool after a job that ended well. */
void vg_pool_put(vg_pool *p, vg_worker *w);
/* Stops a worker (SIGKILL unless it already exited), reaps it and
 * returns its wait status; frees w. */
int vg_worker_end(vg_worker *w);

/* Frees the scanner's job buffers (vigil_scanner_free). */
void vg_job_bufs_free(vigil_scanner *s);

/* Runs an unpacker's extract on a layer in a worker. */
vigil_error vg_remote_unpack(vg_ctx *ctx, const vg_layer *layer,
                             const struct vg_unpacker *u);
/* Runs the ClamAV stage's libclamav pass on a layer in a worker. */
vigil_error vg_remote_clamav(vg_ctx *ctx, const vg_layer *layer,
                             unsigned flags);

/* ------------------------------------------------------------------ */
/* Worker side                                                         */
/* ------------------------------------------------------------------ */

/* The descriptor vigil-unpackd finds its socket on. */
#define VG_WORKER_FD 3

/* vigil-unpackd's main loop: configuration, confinement, jobs until
 * the caller hangs up. Returns the process's exit status. */
int vg_worker_main(void);

/*
 * Test builds of the helper only (tests/vigil-unpackd-test): called
 * with each member's name before it is handed back, so a test can make
 * the worker crash, hang or eat memory in the middle of a job.
 */
extern void (*vg_worker_test_hook)(const char *name);

/* Set by vigil-unpackd's allocator wrappers when an allocation fails:
 * the job ends with Limit.Memory (worker/unpackd.c). */
extern volatile int vg_worker_alloc_failed;

struct vg_msg_config;
/* Confines the process (confine.c): uid, no new privileges, resource
 * limits, Landlock, seccomp. Returns 0, or -1 with why filled. */
int vg_confine(const struct vg_msg_config *c, char *why, size_t whylen);
/* Installs the fatal-signal handlers that tell the caller why the
 * worker dies (memory or crash), before the process goes down. */
void vg_confine_signals(int sock);
/* Tells the caller the worker is about to die, and why (a
 * vg_dying_kind); sig 0 for a sanitizer's report. Async-signal-safe. */
void vg_confine_dying(unsigned kind, int sig);

#endif /* VIGIL_WORKER_H */
