/*
 * fan.h - on-access scanning through fanotify: what the parts of the
 * service share. fan.c is the service (event loop, answers, deadlines,
 * watchdog), fan_marks.c talks to the kernel (group, filesystem and
 * mount marks, ignore marks as a verdict cache), fan_policy.c decides
 * what is scanned (scope, prevention, exclusions, vigild's own
 * processes), fan_stats.c counts.
 */
#ifndef VIGIL_ONACCESS_FAN_H
#define VIGIL_ONACCESS_FAN_H

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cli/exclude.h"
#include "onaccess/conf.h"
#include "onaccess/pool.h"

/* --- the kernel side (fan_marks.c) -------------------------------- */

/* Event kinds, as the stats and the event log name them. */
typedef enum fan_kind {
	FAN_KIND_EXEC,       /* FAN_OPEN_EXEC_PERM */
	FAN_KIND_OPEN_PERM,  /* FAN_OPEN_PERM */
	FAN_KIND_OPEN,       /* FAN_OPEN (notification) */
	FAN_KIND_CLOSE_WRITE,/* FAN_CLOSE_WRITE */
	FAN_KIND_COUNT
} fan_kind;

const char *fan_kind_name(fan_kind k);

typedef struct fan_mark_info {
	char path[PATH_MAX];
	int filesystem;      /* FAN_MARK_FILESYSTEM, else FAN_MARK_MOUNT */
	dev_t dev;
} fan_mark_info;

#define FAN_MAX_MARKS 64

typedef struct fan_kernel {
	int fd;                /* the fanotify group */
	uint64_t mask;         /* events marked on the watched paths */
	uint64_t ignore_mask;  /* events an ignore mark suppresses */
	unsigned ignore_flag;  /* FAN_MARK_IGNORE or FAN_MARK_IGNORED_MASK; 0: off */
	int fs_marks;          /* FAN_MARK_FILESYSTEM works */
	fan_mark_info marks[FAN_MAX_MARKS];
	unsigned nmarks;
	char lacks[128];       /* VIGILD_TEST_KERNEL_LACKS: flags to treat as missing */
} fan_kernel;

/* fanotify_init with FAN_CLASS_CONTENT; -1 with the reason. */
int fan_kernel_open(fan_kernel *k, int want_ignore, char *err, size_t errlen);
/* Marks the configured paths (OnAccessMountPath: the filesystem,
 * OnAccessIncludePath: the mount) for k->mask, skipping pseudo and
 * network filesystems. -1 with the reason when nothing could be marked
 * or a path is bad. */
int fan_kernel_mark(fan_kernel *k, const vg_config *cfg, char *err, size_t errlen);
/*
 * After a clean verdict: an evictable ignore mark on fd's inode that a
 * modification clears. before is the file's state when its event came:
 * if the file changed since, the mark is taken back (the verdict is for
 * older bytes). Returns 1 placed, 0 not placed, -1 failed.
 */
int fan_kernel_ignore(fan_kernel *k, int fd, const struct stat *before);
/* Removes every ignore mark (signatures changed). */
int fan_kernel_flush(fan_kernel *k);
/* Ignore marks the kernel holds now (from /proc/self/fdinfo), or -1. */
long fan_kernel_live_ignores(const fan_kernel *k);
void fan_kernel_close(fan_kernel *k);

/* --- what is scanned (fan_policy.c) ------------------------------- */

typedef struct fan_policy {
	char **include;        /* OnAccessIncludePath (scope of mount marks) */
	size_t ninclude;
	dev_t fs_devs[FAN_MAX_MARKS]; /* filesystems marked whole */
	size_t nfs;
	char **prevent;        /* OnAccessPreventionPath */
	size_t nprevent;
	int prevent_all;       /* OnAccessPrevention */
	char **ex_prefix;      /* OnAccessExcludePath without glob characters */
	size_t nex_prefix;
	vg_exclude *ex;        /* its globs, and OnAccessExcludeRegex */
	pcre2_match_data *md;  /* for the regular expressions, under md_mu */
	pthread_mutex_t md_mu;
	char **ex_exe;         /* OnAccessExcludeExecutable */
	size_t nex_exe;
	uid_t *ex_uid;         /* OnAccessExcludeUID, OnAccessExcludeUname */
	size_t nex_uid;
	int ex_root;           /* OnAccessExcludeRootUID */
} fan_policy;

int fan_policy_init(fan_policy *p, const vg_config *cfg, char *err, size_t errlen);
void fan_policy_free(fan_policy *p);
/* 1 when path is path_prefix itself or below it. */
int fan_path_under(const char *path, const char *prefix);
/* 1 when the file (its path and device) is inside a watched tree. */
int fan_policy_in_scope(const fan_policy *p, const char *path, dev_t dev);
/* 1 when an open of path is to be blocked until scanned. */
int fan_policy_prevents(const fan_policy *p, const char *path);
/* The exclusion that matches ("path", "regex", "uid", "executable"),
 * or NULL. Reads /proc for uid and executable only when those lists are
 * set. Any thread. */
const char *fan_policy_excluded(fan_policy *p, const char *path, pid_t pid);
/* 1 when pid is vigild, one of its threads, or a process of its pool
 * (or a child of one, not yet registered). */
int fan_is_own(vg_pool *pool, pid_t pid);
/* The same without the /proc read for a child not registered yet: for
 * notifications, which make nobody wait. */
int fan_is_known_own(vg_pool *pool, pid_t pid);
/* 1 when pid is vigild itself (no lock, no system call). */
int fan_is_self(pid_t pid);
/* The process's executable ("" when gone) and uid ((uid_t)-1). */
void fan_proc_exe(pid_t pid, char *buf, size_t len);
uid_t fan_proc_uid(pid_t pid);

/* --- the event log (fan.c) ------------------------------------------ */

/* A detection event: the finding fields plus pid, exe (NULL: read it
 * from /proc now), uid, the event kind and the action taken; with the
 * quarantine item's ID, or why the quarantine failed, when one was
 * tried. Any thread. */
void fan_log_event(const char *path, const vg_reply *r, pid_t pid, const char *exe,
                   fan_kind kind, const char *action, const char *quarantine_id,
                   const char *quarantine_error);
/* The same with the uid already read (uid_t -1: unknown). */
void fan_log_event_uid(const char *path, const vg_reply *r, pid_t pid,
                       const char *exe, uid_t uid, fan_kind kind,
                       const char *action, const char *quarantine_id,
                       const char *quarantine_error);

/* --- remediation (fan_act.c) ----------------------------------------- */

/* Opens (creates) the vault of QuarantineDirectory and starts the
 * action thread; -1 with the reason (a vault that cannot be used). */
int fan_act_start(const vg_config *cfg, char *err, size_t errlen);
/* Queues the quarantine of a detected file: fd is the event's
 * descriptor (ours on success), root the watched path it lies under
 * (NULL: none, the action is refused), answer the action logged if the
 * quarantine fails ("deny", "log", ...). The thread logs the event.
 * -1 when the queue is full or stopping: fd stays the caller's. */
int fan_act_submit(int fd, const char *path, const char *root, pid_t pid,
                   const char *exe, fan_kind kind, const char *answer,
                   const vg_reply *r);
/* Finishes what is queued, stops the thread, closes the vault. Call it
 * once the fanotify group is closed (its file accesses then make no
 * event). */
void fan_act_stop(void);
void fan_act_stats(uint64_t *quarantined, uint64_t *failed);

/* --- counters (fan_stats.c) --------------------------------------- */

typedef enum fan_quick {
	FAN_Q_SELF,        /* vigild's own processes */
	FAN_Q_EXCLUDED,    /* an exclusion matched */
	FAN_Q_SCOPE,       /* outside OnAccessIncludePath */
	FAN_Q_NOT_PREVENT, /* open outside the prevention paths */
	FAN_Q_TOO_LARGE,   /* over OnAccessMaxFileSize */
	FAN_Q_KNOWN_CRASH, /* a file that crashed a worker, unchanged */
	FAN_Q_NOT_FILE,    /* not a regular file */
	FAN_Q_EMPTY,       /* an empty file (a file being created): nothing to scan */
	FAN_Q_COUNT
} fan_quick;

typedef struct fan_stats fan_stats;

fan_stats *fan_stats_new(void);
void fan_stats_free(fan_stats *s);
/* All of these are called under the service's mutex. */
void fan_stats_event(fan_stats *s, fan_kind k);
void fan_stats_quick(fan_stats *s, fan_quick q);
/* A permission event answered us after it was read. */
void fan_stats_answer(fan_stats *s, uint64_t latency_us, int allowed,
                      uint64_t deadline_us);
/* A scan ended: its time, the process's executable and the path. */
void fan_stats_scan(fan_stats *s, uint64_t us, const char *exe, const char *path);
/* Adds the counters, latencies and the top tables to o. */
void fan_stats_json(const fan_stats *s, json_t *o);

/* Plain counters the service bumps by name. */
typedef struct fan_counters {
	uint64_t scans, clean, detected, incomplete, errors, crashes;
	uint64_t denied, logged_only;
	uint64_t deadline_answers, queue_full_answers, dropped_notifications;
	uint64_t overflows;
	uint64_t ignore_placed, ignore_failed, ignore_taken_back, flushes;
	uint64_t rescans; /* scanned again: the file changed between event and mark */
	uint64_t late_results;
	unsigned pending, pending_high; /* events held: permission and background */
	/* notifications waiting for a background scan, and in the pool */
	unsigned backlog, backlog_high, bg_inflight;
	uint64_t bg_scans;
} fan_counters;

fan_counters *fan_stats_counters(fan_stats *s);

#endif /* VIGIL_ONACCESS_FAN_H */
