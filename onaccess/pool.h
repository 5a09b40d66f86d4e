/*
 * pool.h - vigild's scan workers. Scans run in worker PROCESSES forked
 * by an engine process that loaded and froze the engine first (so they
 * share its pages); a hostile file that crashes a library kills one
 * worker, never vigild. One pool thread sends jobs (file descriptor +
 * name over SCM_RIGHTS), reads the replies, notices dead or hung
 * workers at once, answers their jobs and replaces them, and enforces
 * each job's deadline. See doc/design.md, "vigild architecture".
 *
 * Reload is one code path: a new engine process loads the signatures
 * while the old workers keep scanning; when its workers are up they
 * take new jobs, the old ones finish theirs and exit. A load that fails
 * leaves the old generation serving and returns the reason.
 */
#ifndef VIGIL_ONACCESS_POOL_H
#define VIGIL_ONACCESS_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "onaccess/wire.h"

typedef struct vg_pool vg_pool;

typedef struct vg_pool_config {
	const char *config_path; /* handed to the engine process */
	unsigned workers;        /* worker processes (>= 1) */
	unsigned max_queue;      /* jobs waiting for a worker */
	uint64_t hang_ms;        /* a scan running this long kills its worker */
	size_t cache_entries;    /* shared verdict cache (SharedCacheEntries); 0: off */
	unsigned background_nice; /* added to a worker's nice value while it
	                           * runs a background job (root only); 0: off */
} vg_pool_config;

/*
 * Called from the pool thread, which it must not block. With final 0
 * (at most once, status VG_REPLY_DEADLINE) the job's deadline came
 * before its result; the result follows later with final 1. With final
 * 1 it is the last call for this job. reply lives until the callback
 * returns.
 */
typedef void (*vg_job_cb)(const vg_reply *reply, int final, void *ud);

typedef struct vg_job_req {
	int fd;            /* the object to scan; the pool takes ownership */
	const char *name;  /* path or label for YARA externals and logs */
	uint32_t flags;    /* VG_JOB_* */
	uint64_t deadline_ms; /* from now; 0: none */
	int background;    /* nobody waits for it: see vg_pool_submit */
} vg_job_req;

/*
 * Starts the first generation and waits until its engine is loaded and
 * its workers run. Returns NULL with the reason in err.
 */
vg_pool *vg_pool_start(const vg_pool_config *cfg, char *err, size_t errlen);
/* Answers every waiting job VG_REPLY_ABORTED, stops the workers, frees. */
void vg_pool_stop(vg_pool *p);

/*
 * Queues a job. Returns 0, or -1 with errno EAGAIN when MaxQueue jobs
 * (of its kind: foreground or background) already wait (the job is refused at once: the caller answers by its
 * policy; fd is closed), ESHUTDOWN when stopping. Jobs for the same
 * file (st_dev, st_ino) go to the same worker when it is free, so that
 * worker's verdict cache answers repeats. A job the shared cache answers
 * gets its callback on the caller's thread, before this returns: call
 * it holding no lock the callback takes.
 *
 * A background job (req->background: a scan nobody waits for, such as
 * a close-write scan) queues behind every foreground job and runs on at
 * most workers - 1 workers at once (on the only one when there is one),
 * so a foreground job finds a worker soon; while it runs, the worker's
 * nice value is raised by background_nice, and set back as soon as a
 * foreground job waits for a worker.
 */
int vg_pool_submit(vg_pool *p, const vg_job_req *req, vg_job_cb cb, void *ud);

/* 1 when a job submitted now would find room in the queue (a hint for
 * callers that can wait: another thread may take the room first). */
int vg_pool_queue_has_room(vg_pool *p);

/*
 * Blocking form: waits for the final reply and returns a copy the
 * caller frees (free()), or NULL with errno as vg_pool_submit or ENOMEM.
 */
vg_reply *vg_pool_scan(vg_pool *p, const vg_job_req *req);

/*
 * Reloads the signatures (SIGHUP, RELOAD, the control socket: all come
 * here). With wait, returns when the new generation serves (0) or the
 * load failed (-1), with a message in msg; requests made before a
 * pending reload starts share it, one made while a load runs starts
 * another after it. Without wait, returns 0 at once.
 */
int vg_pool_reload(vg_pool *p, int wait, char *msg, size_t msglen);

typedef struct vg_pool_stats {
	unsigned generation;     /* counts successful loads, from 1 */
	uint64_t signatures;     /* loaded in the serving generation */
	uint64_t bundle_version; /* of the serving generation's bundle; 0: none */
	unsigned workers;        /* live workers of the serving generation */
	unsigned busy;           /* of them, scanning now */
	unsigned queued;         /* jobs waiting now */
	unsigned queue_max;      /* MaxQueue */
	unsigned queue_high;     /* most jobs ever waiting at once */
	uint64_t submitted, completed, errors, refused;
	uint64_t crashes;        /* workers that died during a scan */
	uint64_t hangs;          /* workers killed for running too long */
	uint64_t deadlines;      /* provisional answers at a deadline */
	uint64_t cached;         /* replies from a worker's verdict cache */
	uint64_t cache_hits;     /* answered by the shared cache, no worker */
	uint64_t reloads, reload_failures;
	char last_reload[256];   /* outcome of the last reload */
} vg_pool_stats;

void vg_pool_get_stats(vg_pool *p, vg_pool_stats *s);

/*
 * 1 when pid is one of the pool's processes (an engine process or a
 * scan worker of a live generation). Any thread. On-access answers
 * their file accesses at once: they must never wait for their own
 * verdict.
 */
int vg_pool_owns_pid(vg_pool *p, pid_t pid);

/*
 * Called on the pool thread each time a generation starts serving
 * (the first and every successful reload), before vg_pool_reload's
 * waiters return. It must not block. On-access flushes its ignore
 * marks here, so a file cached clean under the old signatures is
 * scanned again by the new ones. NULL removes the hook.
 */
typedef void (*vg_pool_gen_hook)(unsigned generation, void *ud);
void vg_pool_set_generation_hook(vg_pool *p, vg_pool_gen_hook fn, void *ud);

/* Liveness of the pool thread, for the systemd watchdog: a counter the
 * thread bumps at least once a second. */
uint64_t vg_pool_heartbeat(vg_pool *p);

/* The engine process's main (vigild --engine-process FD --config PATH
 * [--min-bundle-version N]): bundles older than min_bundle are refused. */
int vg_engine_process_main(int sock, const char *config_path,
                           uint64_t min_bundle);

#endif /* VIGIL_ONACCESS_POOL_H */
