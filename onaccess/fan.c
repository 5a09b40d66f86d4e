/*
 * fan.c - on-access scanning: the fanotify service of vigild.
 *
 * One event thread owns the fanotify group. For each event it answers
 * at once what needs no scan (vigild's own processes, files outside the
 * watched trees or excluded, opens outside the prevention paths), and
 * hands the rest to the scan pool through the event's own descriptor (a
 * dup; the file is never reopened by path). The pool's callback answers
 * the kernel, logs, and places the ignore mark that makes the next open
 * of the unchanged clean file cost no event at all.
 *
 * Bounds: every permission event is answered by OnAccessDeadline (the
 * event thread answers overdue ones by OnAccessDeadlineAction whatever
 * the pool does; the real result is logged when it lands); the events
 * held at once are bounded (slots: MaxQueue + twice the workers), an
 * event past that is answered at once by the same policy. Notifications
 * (close-write, open) wait in their own FIFO, the background queue
 * (OnAccessBackgroundQueue), and go to the pool as background jobs a few
 * at a time, so they neither take a permission event's place nor
 * compete with it for a worker; past that queue they are dropped and
 * counted (in prevention mode the next open scans the file). A watchdog
 * thread makes vigild exit when the event thread stops making progress,
 * and the kernel then allows every waiting process.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "onaccess/daemon.h"
#include "onaccess/fan.h"
#include "onaccess/log.h"
#include "vigil/vigil.h"

/* Files that crashed or hung a worker, remembered so that the next
 * access is denied at once instead of killing another worker. */
#define CRASH_MEMORY 64
/* The event thread wakes at least this often (ms), for deadlines and
 * the watchdog. */
#define TICK_MS 250

typedef struct fan_slot {
	struct fan_slot *next, *prev; /* free list, or the pending permission list */
	int used;
	int fd;          /* the event's descriptor: answers name it */
	fan_kind kind;
	int perm;        /* the kernel waits for our answer */
	int answered;
	int deadline_allow; /* how the deadline answered (when it did) */
	int rescanned;   /* scanned again after a change since its event */
	int bg;          /* a notification: a background slot */
	int screened;    /* st and path are set (a notification is screened
	                  * when its turn comes, see bg_submit) */
	pid_t pid;
	int64_t t0_us;   /* when the event was read */
	unsigned epoch;  /* ignore-mark epoch at submit */
	struct stat st;  /* the file when its event came */
	char *path;
} fan_slot;

typedef struct crash_entry {
	dev_t dev;
	ino_t ino;
	struct timespec mtim;
	off_t size;
	int used;
} crash_entry;

static struct {
	vg_daemon *d;
	fan_kernel k;
	fan_policy pol;
	fan_stats *st;
	pthread_mutex_t mu;
	/* held (read) while a background slot is screened off the event
	 * thread: fan_stop frees the policy under it (written) */
	pthread_rwlock_t screen_rw;
	pthread_t thread, wd_thread;
	int running;
	atomic_int stop;
	int wakefd;
	fan_slot *slots;
	unsigned nslots;
	fan_slot *free_list;
	fan_slot *bg_free;  /* the background slots */
	unsigned nbg;
	fan_slot pending; /* list head: permission events in arrival order */
	fan_slot backlog; /* list head: notifications waiting for the pool */
	unsigned bg_cap;  /* background jobs in the pool at once */
	unsigned epoch;
	uint64_t deadline_us;
	uint64_t watchdog_us;
	int deadline_allow, deny_on_error, action_deny, action_quarantine, scan_on_open;
	uint64_t max_size;
	atomic_uint_fast64_t beat;
	atomic_int_fast64_t beat_at_us;
	crash_entry crashes[CRASH_MEMORY];
	unsigned crash_next;
	vg_reply scratch; /* the event thread's own replies */
} fan = { .mu = PTHREAD_MUTEX_INITIALIZER, .screen_rw = PTHREAD_RWLOCK_INITIALIZER,
	    .wakefd = -1, .k = { .fd = -1 } };

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* --- the pending permission list and the background queue (under mu) */

static void list_push(fan_slot *head, fan_slot *s, int front)
{
	fan_slot *after = front ? head : head->prev;
	s->prev = after;
	s->next = after->next;
	after->next->prev = s;
	after->next = s;
}

static void pending_push(fan_slot *s)
{
	list_push(&fan.pending, s, 0);
}

static void pending_unlink(fan_slot *s)
{
	if (!s->next)
		return;
	s->prev->next = s->next;
	s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static void backlog_push(fan_slot *s, int front)
{
	fan_counters *c = fan_stats_counters(fan.st);
	list_push(&fan.backlog, s, front);
	if (++c->backlog > c->backlog_high)
		c->backlog_high = c->backlog;
}

static fan_slot *backlog_pop(void)
{
	fan_slot *s = fan.backlog.next;
	if (s == &fan.backlog)
		return NULL;
	pending_unlink(s);
	fan_stats_counters(fan.st)->backlog--;
	return s;
}

/* A permission slot, or with bg a background slot. */
static fan_slot *slot_get(int bg)
{
	fan_slot **list = bg ? &fan.bg_free : &fan.free_list;
	fan_slot *s = *list;
	fan_counters *c = fan_stats_counters(fan.st);

	if (!s)
		return NULL;
	*list = s->next;
	memset(s, 0, sizeof *s);
	s->used = 1;
	s->fd = -1;
	s->bg = bg;
	if (++c->pending > c->pending_high)
		c->pending_high = c->pending;
	return s;
}

static void slot_put(fan_slot *s)
{
	fan_slot **list = s->bg ? &fan.bg_free : &fan.free_list;

	pending_unlink(s);
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	s->path = NULL;
	s->used = 0;
	s->next = *list;
	*list = s;
	fan_stats_counters(fan.st)->pending--;
}

/* --- answers ----------------------------------------------------------- */

/* Answers a permission event by its descriptor. Under mu. */
static void respond(int fd, int allow, int64_t t0_us)
{
	struct fanotify_response r = { .fd = fd, .response = allow ? FAN_ALLOW : FAN_DENY };

	if (fan.k.fd >= 0 && write(fan.k.fd, &r, sizeof r) != sizeof r && errno != ENOENT)
		vg_log(VG_LOG_ERR, "on-access: answering the kernel: %s", strerror(errno));
	fan_stats_answer(fan.st, (uint64_t)(now_us() - t0_us), allow, fan.deadline_us);
}

static void slot_answer(fan_slot *s, int allow)
{
	if (!s->perm || s->answered)
		return;
	s->answered = 1;
	pending_unlink(s);
	respond(s->fd, allow, s->t0_us);
}

/* Answers the permission events whose deadline passed; returns ms to
 * the next deadline (at most TICK_MS). Under mu. */
static int run_deadlines(void)
{
	int64_t now = now_us();
	fan_counters *c = fan_stats_counters(fan.st);

	while (fan.pending.next != &fan.pending) {
		fan_slot *s = fan.pending.next;
		int64_t due = s->t0_us + (int64_t)fan.deadline_us;
		if (due > now) {
			int64_t ms = (due - now + 999) / 1000;
			return ms < TICK_MS ? (int)ms : TICK_MS;
		}
		c->deadline_answers++;
		s->deadline_allow = fan.deadline_allow;
		slot_answer(s, fan.deadline_allow);
		vg_log(VG_LOG_WARNING, "on-access: %s of %s by pid %d: no verdict after "
		       "OnAccessDeadline, %s (the result is logged when it comes)",
		       fan_kind_name(s->kind), s->path, (int)s->pid,
		       fan.deadline_allow ? "allowed" : "denied");
	}
	return TICK_MS;
}

/* --- crash memory (under mu) ---------------------------------------- */

static int crash_known(const struct stat *st)
{
	for (unsigned i = 0; i < CRASH_MEMORY; i++) {
		const crash_entry *e = &fan.crashes[i];
		if (e->used && e->dev == st->st_dev && e->ino == st->st_ino &&
		    e->size == st->st_size && e->mtim.tv_sec == st->st_mtim.tv_sec &&
		    e->mtim.tv_nsec == st->st_mtim.tv_nsec)
			return 1;
	}
	return 0;
}

static void crash_remember(const struct stat *st)
{
	crash_entry *e = &fan.crashes[fan.crash_next++ % CRASH_MEMORY];
	*e = (crash_entry){ st->st_dev, st->st_ino, st->st_mtim, st->st_size, 1 };
}

/* --- logging ---------------------------------------------------------- */

static const char *first_finding(const vg_reply *r)
{
	for (size_t i = 0; i < r->nfindings; i++)
		if (r->findings[i].verdict >= VIGIL_SUSPICIOUS)
			return r->findings[i].name;
	return r->nfindings ? r->findings[0].name : "";
}

void fan_log_event(const char *path, const vg_reply *r, pid_t pid, const char *exe_known,
                   fan_kind kind, const char *action, const char *quarantine_id,
                   const char *quarantine_error)
{
	fan_log_event_uid(path, r, pid, exe_known, fan_proc_uid(pid), kind, action,
	                  quarantine_id, quarantine_error);
}

void fan_log_event_uid(const char *path, const vg_reply *r, pid_t pid,
                       const char *exe_known, uid_t uid, fan_kind kind,
                       const char *action, const char *quarantine_id,
                       const char *quarantine_error)
{
	char exe[PATH_MAX];
	json_t *o;
	char *text;

	if (exe_known && *exe_known)
		snprintf(exe, sizeof exe, "%s", exe_known);
	else
		fan_proc_exe(pid, exe, sizeof exe);
	o = json_pack("{s:i, s:s, s:I, s:s, s:s}", "pid", (int)pid, "exe", exe,
	              "uid", (json_int_t)(uid == (uid_t)-1 ? -1 : (json_int_t)uid),
	              "event", fan_kind_name(kind), "action", action);
	if (o && quarantine_id)
		json_object_set_new(o, "quarantine_id", json_string(quarantine_id));
	if (o && quarantine_error)
		json_object_set_new(o, "quarantine_error", json_string(quarantine_error));
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	vg_log_event("onaccess", path, r, text);
	if (r->verdict >= VIGIL_SUSPICIOUS)
		vg_log(VG_LOG_WARNING, "on-access: %s: %s FOUND (%s by pid %d %s, uid %d): %s",
		       path, first_finding(r), fan_kind_name(kind), (int)pid, exe,
		       uid == (uid_t)-1 ? -1 : (int)uid, action);
	else
		vg_log(VG_LOG_INFO, "on-access: %s: %s (%s by pid %d %s): %s", path,
		       vigil_verdict_name((vigil_verdict)r->verdict), fan_kind_name(kind),
		       (int)pid, exe, action);
	free(text);
}

/* The watched path a file lies under (the longest), for the
 * quarantine's safety rules; NULL when none. */
static const char *watched_root(const char *path)
{
	const char *best = NULL;

	for (unsigned i = 0; path && i < fan.k.nmarks; i++)
		if (fan_path_under(path, fan.k.marks[i].path) &&
		    (!best || strlen(fan.k.marks[i].path) > strlen(best)))
			best = fan.k.marks[i].path;
	return best;
}

/* --- the pool's callback ---------------------------------------------- */

static void bg_pump(void);

static void job_done(const vg_reply *r, int final, void *ud)
{
	char early_exe[PATH_MAX] = "";
	uid_t early_uid = (uid_t)-1;
	int have_early = 0;
	fan_slot *s = ud;
	fan_counters *c;
	int detected = 0, crashed = 0, clean = 0, deny = 0, was_answered, late = 0, bg;
	int qfd = -1;
	const char *action;
	char *path;
	pid_t pid;
	fan_kind kind;
	int64_t wall_us;
	char exe[PATH_MAX];

	if (!final)
		return; /* the event thread keeps its own deadlines */
	pthread_mutex_lock(&fan.mu);
	c = fan_stats_counters(fan.st);
	switch (r->status) {
	case VG_REPLY_SCANNED:
		c->scans++;
		if (r->verdict >= VIGIL_SUSPICIOUS) {
			detected = 1;
			c->detected++;
		} else if (r->verdict == VIGIL_INCOMPLETE) {
			c->incomplete++;
		} else {
			clean = 1;
			c->clean++;
		}
		break;
	case VG_REPLY_HUNG:
		if (s->bg) {
			/* a background scan runs at a lower priority: on a busy
			 * machine it may outlast WorkerHangTimeout without any
			 * fault of the file's. No verdict, no crash memory: the
			 * next open or exec scans it in the foreground. */
			c->errors++;
			break;
		}
		/* fall through */
	case VG_REPLY_CRASH:
		crashed = 1;
		c->crashes++;
		crash_remember(&s->st);
		break;
	case VG_REPLY_ABORTED:
		break;
	default:
		c->errors++;
		deny = fan.deny_on_error;
		break;
	}
	if (detected || crashed)
		deny = fan.action_deny;
	was_answered = s->answered;
	late = s->perm && was_answered;
	if (late)
		c->late_results++;
	if (clean && s->epoch == fan.epoch && !s->answered) {
		int m = fan_kernel_ignore(&fan.k, s->fd, &s->st);
		if (m > 0)
			c->ignore_placed++;
		else if (m < 0)
			c->ignore_failed++;
		else if (fan.k.ignore_flag)
			c->ignore_taken_back++;
		if (m == 0 && fan.k.ignore_flag && s->bg && !s->rescanned &&
		    fstat(s->fd, &s->st) == 0) {
			/* changed since its event (a write, or times set after
			 * the close: cp -p, rsync -t). Scan the file as it is now,
			 * next in the background queue, so it can still be cached. */
			s->rescanned = 1;
			c->rescans++;
			c->bg_inflight--;
			backlog_push(s, 1);
			pthread_mutex_unlock(&fan.mu);
			bg_pump();
			return;
		}
	}
	if (s->perm && !was_answered && (detected || crashed)) {
		/* the process waits for this answer, so it is alive now: who
		 * it is must be read before it is let go (a denied exec ends
		 * at once) */
		fan_proc_exe(s->pid, early_exe, sizeof early_exe);
		early_uid = fan_proc_uid(s->pid);
		have_early = 1;
	}
	if (s->perm && !was_answered) {
		slot_answer(s, !deny);
		if (deny && (detected || crashed))
			c->denied++;
	} else if (detected || crashed) {
		c->logged_only++;
	}
	if (!s->perm || late)
		deny = 0;
	if (late)
		action = s->deadline_allow ? "allowed_at_deadline" : "denied_at_deadline";
	else if (deny)
		action = "deny";
	else
		action = s->perm ? "allow" : "log";
	wall_us = now_us() - s->t0_us;
	path = s->path;
	s->path = NULL;
	pid = s->pid;
	kind = s->kind;
	bg = s->bg;
	/* a detection, not a crash (a library bug is no verdict on the
	 * file): the descriptor goes to the quarantine */
	if (detected && fan.action_quarantine && path) {
		qfd = s->fd;
		s->fd = -1;
	}
	if (bg) {
		c->bg_inflight--;
		c->bg_scans++;
	}
	slot_put(s);
	pthread_mutex_unlock(&fan.mu);
	if (bg)
		bg_pump();

	/* outside the lock: /proc reads and the log queue */
	if (r->status == VG_REPLY_SCANNED || crashed) {
		if (have_early)
			snprintf(exe, sizeof exe, "%s", early_exe);
		else
			fan_proc_exe(pid, exe, sizeof exe);
		pthread_mutex_lock(&fan.mu);
		fan_stats_scan(fan.st, r->time_us ? r->time_us : (uint64_t)wall_us, exe, path);
		pthread_mutex_unlock(&fan.mu);
	}
	if (qfd >= 0) {
		/* after the answer: the action thread moves the file to the
		 * vault and logs the event with the item's ID */
		const char *root = watched_root(path); /* exe: read above */
		if (fan_act_submit(qfd, path, root, pid, exe, kind, action, r) != 0) {
			close(qfd);
			fan_log_event(path, r, pid, exe, kind, action, NULL,
			              "the quarantine queue is full");
		}
	} else if (detected || crashed || r->verdict == VIGIL_INCOMPLETE) {
		if (have_early)
			fan_log_event_uid(path ? path : "", r, pid, early_exe, early_uid,
			                  kind, action, NULL, NULL);
		else
			fan_log_event(path ? path : "", r, pid, NULL, kind, action,
			              NULL, NULL);
	} else if (r->status == VG_REPLY_HUNG) {
		vg_log(VG_LOG_WARNING, "on-access: %s: background scan stopped after "
		       "WorkerHangTimeout; not cached, its next open or exec is scanned", path);
	} else if (r->status == VG_REPLY_ERROR) {
		vg_log(VG_LOG_WARNING, "on-access: %s: scan failed: %s (%s)", path, r->message,
		       late ? action : deny ? "denied: OnAccessDenyOnError" : "allowed");
	} else if (late) {
		vg_log(VG_LOG_INFO, "on-access: %s: %s, %.1f s after the event (%s)", path,
		       vigil_verdict_name((vigil_verdict)r->verdict), (double)wall_us / 1e6,
		       action);
	} else if (clean) {
		vg_log(VG_LOG_DEBUG, "on-access: %s: CLEAN (%s by pid %d)", path,
		       fan_kind_name(kind), (int)pid);
	}
	free(path);
}

/* --- events ------------------------------------------------------------ */

static void quick(fan_quick why, int perm, int fd, int allow, int64_t t0)
{
	pthread_mutex_lock(&fan.mu);
	fan_stats_quick(fan.st, why);
	if (perm)
		respond(fd, allow, t0);
	pthread_mutex_unlock(&fan.mu);
	close(fd);
}

static fan_kind kind_of(uint64_t mask, int *perm)
{
	*perm = 1;
	if (mask & FAN_OPEN_EXEC_PERM)
		return FAN_KIND_EXEC;
	if (mask & FAN_OPEN_PERM)
		return FAN_KIND_OPEN_PERM;
	*perm = 0;
	if (mask & FAN_CLOSE_WRITE)
		return FAN_KIND_CLOSE_WRITE;
	if (mask & FAN_OPEN)
		return FAN_KIND_OPEN;
	return FAN_KIND_COUNT;
}

/* A file over OnAccessMaxFileSize: allowed unscanned, logged INCOMPLETE
 * once (an ignore mark keeps it quiet until it changes). */
static void too_large(int fd, const char *path, const struct stat *st, pid_t pid,
                      fan_kind kind, int perm, int64_t t0)
{
	vg_reply *r = &fan.scratch;
	char detail[96];

	vg_reply_init(r, 0, VG_REPLY_SCANNED);
	r->verdict = VIGIL_INCOMPLETE;
	r->size = (uint64_t)st->st_size;
	r->type = "";
	snprintf(detail, sizeof detail, "%lld bytes, over OnAccessMaxFileSize %llu",
	         (long long)st->st_size, (unsigned long long)fan.max_size);
	vg_reply_add_finding(r, "onaccess", "Heuristics.Limits.Exceeded.OnAccessMaxFileSize",
	                     "", VIGIL_INCOMPLETE, 0, detail);
	pthread_mutex_lock(&fan.mu);
	fan_stats_quick(fan.st, FAN_Q_TOO_LARGE);
	if (fan_kernel_ignore(&fan.k, fd, st) > 0)
		fan_stats_counters(fan.st)->ignore_placed++;
	if (perm)
		respond(fd, 1, t0);
	pthread_mutex_unlock(&fan.mu);
	close(fd);
	fan_log_event(path, r, pid, NULL, kind, perm ? "allow" : "log", NULL, NULL);
}

/* An empty file holds nothing to scan: allowed at once. After a
 * close-write it is cached like a clean file (a write or a truncate
 * clears the mark), so reading an unchanged empty file costs no event.
 * An open permission event places no mark: nearly all of them are the
 * creating opens of new files (tar, cp, compilers), whose first write
 * would clear it at once, and a mark costs two system calls and a
 * kernel allocation per created file; an empty file that is only read
 * costs a cheap event per open instead. */
static void empty_file(int fd, const struct stat *st, int perm, int64_t t0)
{
	pthread_mutex_lock(&fan.mu);
	fan_stats_quick(fan.st, FAN_Q_EMPTY);
	if (perm)
		respond(fd, 1, t0);
	else if (fan_kernel_ignore(&fan.k, fd, st) > 0)
		fan_stats_counters(fan.st)->ignore_placed++;
	pthread_mutex_unlock(&fan.mu);
	close(fd);
}

/*
 * The checks before a scan, cheapest and most common first. Returns 1
 * when the event was dealt with here (answered if a permission event,
 * fd closed), else 0 with *st and path (PATH_MAX) filled; an open
 * outside the prevention paths is answered here and, when it is still
 * to be scanned, comes back as an open notification (*kind, *perm).
 */
static int screen(int fd, pid_t pid, fan_kind *kind, int *perm, struct stat *st,
                  char *path, int64_t t0)
{
	char link[64];
	ssize_t n;

	/* what is allowed whoever asks, first: fstat opens nothing, and
	 * every file being created is first opened empty (tar, cp,
	 * compilers), so this spares fan_is_own's /proc read on each */
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		quick(FAN_Q_NOT_FILE, *perm, fd, 1, t0);
		return 1;
	}
	if (st->st_size == 0) {
		empty_file(fd, st, *perm, t0);
		return 1;
	}
	/* vigild's own accesses: they must never wait for us. A
	 * notification waits for nobody: its pid is checked against the
	 * processes vigild knows, without the /proc read for a child that
	 * has not registered yet. */
	if (*perm ? fan_is_own(fan.d->pool, pid) : fan_is_known_own(fan.d->pool, pid)) {
		quick(FAN_Q_SELF, *perm, fd, 1, t0);
		return 1;
	}
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, path, PATH_MAX - 1);
	path[n > 0 ? n : 0] = 0;
	if (!fan_policy_in_scope(&fan.pol, path, st->st_dev)) {
		quick(FAN_Q_SCOPE, *perm, fd, 1, t0);
		return 1;
	}
	if (fan_policy_excluded(&fan.pol, path, pid)) {
		quick(FAN_Q_EXCLUDED, *perm, fd, 1, t0);
		return 1;
	}
	if (*kind == FAN_KIND_OPEN_PERM && !fan_policy_prevents(&fan.pol, path)) {
		/* outside the prevention paths an open never waits; it may
		 * still be scanned, as an open notification */
		pthread_mutex_lock(&fan.mu);
		fan_stats_quick(fan.st, FAN_Q_NOT_PREVENT);
		respond(fd, 1, t0);
		pthread_mutex_unlock(&fan.mu);
		if (!fan.scan_on_open) {
			close(fd);
			return 1;
		}
		*kind = FAN_KIND_OPEN;
		*perm = 0;
	}
	pthread_mutex_lock(&fan.mu);
	if (crash_known(st)) {
		fan_stats_quick(fan.st, FAN_Q_KNOWN_CRASH);
		if (*perm)
			respond(fd, !fan.action_deny, t0);
		pthread_mutex_unlock(&fan.mu);
		close(fd);
		vg_log(VG_LOG_WARNING, "on-access: %s of %s by pid %d: this file crashed a "
		       "scan worker (Heuristics.ScannerCrash): %s", fan_kind_name(*kind), path,
		       (int)pid, *perm && fan.action_deny ? "denied" : "logged");
		return 1;
	}
	pthread_mutex_unlock(&fan.mu);
	if (fan.max_size && (uint64_t)st->st_size > fan.max_size) {
		too_large(fd, path, st, pid, *kind, *perm, t0);
		return 1;
	}
	return 0;
}

/* Screens a queued notification (see screen). Returns 0 when it is to
 * be scanned (st and path set), 1 when it was dealt with (its
 * descriptor closed), -1 out of memory; the caller frees the slot. */
static int screen_slot(fan_slot *s)
{
	char path[PATH_MAX];
	int perm = 0, done;

	s->screened = 1;
	pthread_rwlock_rdlock(&fan.screen_rw);
	if (atomic_load(&fan.stop)) {
		/* stopping: the policy may be gone */
		close(s->fd);
		done = 1;
	} else {
		done = screen(s->fd, s->pid, &s->kind, &perm, &s->st, path, s->t0_us);
	}
	pthread_rwlock_unlock(&fan.screen_rw);
	if (done) {
		s->fd = -1;
		return 1;
	}
	return (s->path = strdup(path)) ? 0 : -1;
}

/* Hands one background slot to the pool (it is ours: in no list),
 * screening it first if the event thread queued it unscreened. Returns
 * 0, or -1 when the pool's queue is full: the slot is back at the front
 * of the background queue. */
static int bg_submit(fan_slot *s)
{
	vg_job_req req = { .background = 1 };
	int e;

	if (!s->screened) {
		int r = screen_slot(s);
		if (r != 0) {
			pthread_mutex_lock(&fan.mu);
			fan_stats_counters(fan.st)->bg_inflight--;
			if (r < 0)
				fan_stats_counters(fan.st)->dropped_notifications++;
			slot_put(s);
			pthread_mutex_unlock(&fan.mu);
			return 0;
		}
	}
	req.name = s->path;
	req.fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 3);
	if (req.fd >= 0 && vg_pool_submit(fan.d->pool, &req, job_done, s) == 0)
		return 0; /* s may be gone already (the shared cache answered) */
	e = errno;
	pthread_mutex_lock(&fan.mu);
	fan_stats_counters(fan.st)->bg_inflight--;
	if (e == EAGAIN) {
		backlog_push(s, 1);
		pthread_mutex_unlock(&fan.mu);
		return -1;
	}
	fan_stats_counters(fan.st)->dropped_notifications++;
	slot_put(s);
	pthread_mutex_unlock(&fan.mu);
	if (e != ESHUTDOWN)
		vg_log(VG_LOG_WARNING, "on-access: cannot queue a background scan: %s",
		       strerror(e));
	return 0;
}

/* Moves notifications from the background queue to the pool while it
 * holds fewer than bg_cap of them. Any thread, holding no lock; a call
 * nested in a callback of its own submit returns at once (the outer
 * loop goes on), so the stack stays flat. */
static void bg_pump(void)
{
	static __thread int pumping;

	if (pumping)
		return;
	pumping = 1;
	for (;;) {
		fan_counters *c;
		fan_slot *s = NULL;

		pthread_mutex_lock(&fan.mu);
		c = fan_stats_counters(fan.st);
		if (!atomic_load(&fan.stop) && c->bg_inflight < fan.bg_cap &&
		    (s = backlog_pop())) {
			c->bg_inflight++;
			/* the generation that scans it decides whether it may be
			 * cached: the epoch at submit */
			s->epoch = fan.epoch;
		}
		pthread_mutex_unlock(&fan.mu);
		if (!s || bg_submit(s) != 0)
			break;
	}
	pumping = 0;
}

/* A notification (close-write, open): nobody waits for it, so the event
 * thread only queues it, with no system call; its checks (bg_submit)
 * run when its turn in the background queue comes, on whichever thread
 * moves the queue, mostly the pool thread as background scans end. The
 * event thread stays free for the permission events behind it: a
 * process creating files makes a close-write and then an open
 * permission event per file, and the open waits for whatever the
 * thread does first. Only when the background queue is three quarters
 * full are the checks made at once, so that its room goes to files to
 * scan, not to ones excluded or empty. */
static void notification(const struct fanotify_event_metadata *m, fan_kind kind, int64_t t0)
{
	fan_slot *s;
	int r;

	pthread_mutex_lock(&fan.mu);
	fan_stats_event(fan.st, kind);
	if (fan_is_self(m->pid)) {
		fan_stats_quick(fan.st, FAN_Q_SELF);
		pthread_mutex_unlock(&fan.mu);
		close(m->fd);
		return;
	}
	if (!(s = slot_get(1))) {
		fan_stats_counters(fan.st)->dropped_notifications++;
		pthread_mutex_unlock(&fan.mu);
		close(m->fd);
		return;
	}
	s->fd = m->fd;
	s->kind = kind;
	s->pid = m->pid;
	s->t0_us = t0;
	if (fan_stats_counters(fan.st)->backlog < fan.nbg - fan.nbg / 4) {
		backlog_push(s, 0);
		pthread_mutex_unlock(&fan.mu);
		return;
	}
	/* the queue is filling up: screened now, as the queue's room is
	 * for files to scan, not for ones excluded or left empty */
	pthread_mutex_unlock(&fan.mu);
	r = screen_slot(s);
	pthread_mutex_lock(&fan.mu);
	if (r == 0) {
		backlog_push(s, 0);
	} else {
		if (r < 0)
			fan_stats_counters(fan.st)->dropped_notifications++;
		slot_put(s);
	}
	pthread_mutex_unlock(&fan.mu);
}

static void handle_event(const struct fanotify_event_metadata *m)
{
	int64_t t0 = now_us();
	int perm, fd = m->fd, dupfd;
	fan_kind kind;
	struct stat st;
	char path[PATH_MAX];
	fan_slot *s;
	vg_job_req req = { 0 };

	if (m->mask & FAN_Q_OVERFLOW) {
		pthread_mutex_lock(&fan.mu);
		fan_stats_counters(fan.st)->overflows++;
		pthread_mutex_unlock(&fan.mu);
		vg_log(VG_LOG_WARNING, "on-access: the kernel's event queue overflowed: "
		       "some close-write or open notifications were lost");
		return;
	}
	if (fd < 0)
		return;
	kind = kind_of(m->mask, &perm);
	if (kind == FAN_KIND_COUNT) {
		close(fd);
		return;
	}
	if (!perm) {
		notification(m, kind, t0);
		return;
	}
	pthread_mutex_lock(&fan.mu);
	fan_stats_event(fan.st, kind);
	pthread_mutex_unlock(&fan.mu);
	if (screen(fd, m->pid, &kind, &perm, &st, path, t0))
		return;

	pthread_mutex_lock(&fan.mu);
	s = slot_get(!perm);
	if (!s) {
		fan_counters *c = fan_stats_counters(fan.st);
		if (perm) {
			c->queue_full_answers++;
			respond(fd, fan.deadline_allow, t0);
		} else {
			c->dropped_notifications++;
		}
		pthread_mutex_unlock(&fan.mu);
		close(fd);
		return;
	}
	s->fd = fd;
	s->kind = kind;
	s->perm = perm;
	s->pid = m->pid;
	s->t0_us = t0;
	s->epoch = fan.epoch;
	s->st = st;
	s->screened = 1;
	s->path = strdup(path);
	if (!s->path) {
		if (perm)
			respond(fd, fan.deadline_allow, t0);
		s->fd = -1;
		slot_put(s);
		pthread_mutex_unlock(&fan.mu);
		close(fd);
		return;
	}
	if (!perm) {
		/* an open outside the prevention paths, answered already:
		 * scanned in the background, in arrival order */
		backlog_push(s, 0);
		pthread_mutex_unlock(&fan.mu);
		return;
	}
	pending_push(s);
	pthread_mutex_unlock(&fan.mu);

	/* the pool gets its own descriptor: ours names the event until it
	 * is answered, and carries the ignore mark */
	dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	req.fd = dupfd;
	req.name = path;
	if (dupfd < 0 || vg_pool_submit(fan.d->pool, &req, job_done, s) != 0) {
		int e = errno;
		pthread_mutex_lock(&fan.mu);
		fan_stats_counters(fan.st)->queue_full_answers++;
		slot_answer(s, fan.deadline_allow);
		slot_put(s);
		pthread_mutex_unlock(&fan.mu);
		if (e != EAGAIN)
			vg_log(VG_LOG_WARNING, "on-access: cannot queue %s: %s", path, strerror(e));
	}
}

static void *event_thread(void *arg)
{
	static uint8_t buf[64 * 1024] __attribute__((aligned(8)));
	(void)arg;

	while (!atomic_load(&fan.stop)) {
		struct pollfd p[2] = { { fan.k.fd, POLLIN, 0 }, { fan.wakefd, POLLIN, 0 } };
		int timeout;

		atomic_fetch_add(&fan.beat, 1);
		atomic_store(&fan.beat_at_us, now_us());
		pthread_mutex_lock(&fan.mu);
		timeout = run_deadlines();
		pthread_mutex_unlock(&fan.mu);
		/* notifications queued by the last batch, and background
		 * jobs the pool's full queue refused */
		bg_pump();
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		/* a bounded batch, then deadlines, the heartbeat and the
		 * background queue again */
		for (int round = 0; round < 16; round++) {
			ssize_t len = read(fan.k.fd, buf, sizeof buf);
			const struct fanotify_event_metadata *m = (const void *)buf;
			/* room left: the kernel's queue was empty; poll says
			 * when more comes (a read would mostly find none) */
			int drained = len < (ssize_t)(sizeof buf / 2);
			if (len <= 0)
				break;
			for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
				if (m->vers != FANOTIFY_METADATA_VERSION) {
					vg_log(VG_LOG_ERR, "on-access: fanotify metadata version %u, "
					       "expected %u", m->vers, FANOTIFY_METADATA_VERSION);
					if (m->fd >= 0)
						close(m->fd);
					continue;
				}
				handle_event(m);
			}
			if (drained)
				break;
		}
	}
	return NULL;
}

/* Makes vigild exit when the event thread stops making progress: the
 * kernel then allows every waiting process, and systemd restarts us. */
static void *watchdog_thread(void *arg)
{
	(void)arg;
	while (!atomic_load(&fan.stop)) {
		int64_t idle = now_us() - atomic_load(&fan.beat_at_us);
		if (idle > (int64_t)fan.watchdog_us) {
			static const char msg[] = "vigild: on-access event loop stalled past "
			                          "OnAccessDeadline + 1 s: exiting so that the "
			                          "kernel releases every waiting process\n";
			/* if stderr blocks, SIGALRM's default action ends us */
			alarm(1);
			if (write(2, msg, sizeof msg - 1) < 0) {
				/* exiting anyway */
			}
			_exit(70);
		}
		usleep(100000);
	}
	return NULL;
}

/* The pool serves new signatures: verdicts cached in the kernel are
 * for the old ones. */
static void generation_changed(unsigned generation, void *ud)
{
	(void)ud;
	pthread_mutex_lock(&fan.mu);
	fan.epoch++;
	if (fan.k.ignore_flag) {
		if (fan_kernel_flush(&fan.k) == 0)
			fan_stats_counters(fan.st)->flushes++;
		else
			vg_log(VG_LOG_ERR, "on-access: flushing ignore marks: %s", strerror(errno));
	}
	pthread_mutex_unlock(&fan.mu);
	vg_log(VG_LOG_INFO, "on-access: signature generation %u: kernel verdict cache "
	       "flushed", generation);
}

/* --- the service --------------------------------------------------------- */

/* OnAccessBackgroundQueue, cut to what RLIMIT_NOFILE leaves: each
 * waiting notification holds its event's descriptor. */
static unsigned background_room(const vg_config *cfg, unsigned perm_slots,
                                unsigned in_flight)
{
	uint64_t want = vg_conf_num(cfg, VG_CONF_OA_BG_QUEUE);
	/* the pool, the log, the sockets, clamd's connections */
	uint64_t others = perm_slots * 2 + in_flight * 2 + 64 +
	                  vg_conf_num(cfg, VG_CONF_MAX_CONNECTIONS);
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    want + others > rl.rlim_cur) {
		uint64_t room = rl.rlim_cur > others ? rl.rlim_cur - others : 0;
		vg_log(VG_LOG_WARNING, "on-access: OnAccessBackgroundQueue %llu does not fit "
		       "the open file limit %llu: %llu", (unsigned long long)want,
		       (unsigned long long)rl.rlim_cur, (unsigned long long)room);
		want = room;
	}
	return (unsigned)want;
}

static int fan_start(vg_daemon *d, char *err, size_t errlen)
{
	const vg_config *cfg = d->cfg;
	int exec_only = vg_conf_bool(cfg, VG_CONF_OA_EXEC_ONLY);
	int prevent_any;
	unsigned workers;
	vg_pool_stats ps;

	if (!vg_conf_list_count(cfg, VG_CONF_OA_INCLUDE_PATH) &&
	    !vg_conf_list_count(cfg, VG_CONF_OA_MOUNT_PATH))
		return 0;
	fan.d = d;
	fan.deadline_us = vg_conf_num(cfg, VG_CONF_OA_DEADLINE) * 1000;
	fan.watchdog_us = fan.deadline_us + 1000000;
	fan.deadline_allow = !strcmp(vg_conf_str(cfg, VG_CONF_OA_DEADLINE_ACTION), "allow");
	fan.deny_on_error = vg_conf_bool(cfg, VG_CONF_OA_DENY_ON_ERROR);
	fan.action_quarantine = !strcmp(vg_conf_str(cfg, VG_CONF_OA_ACTION), "quarantine");
	/* quarantine denies first */
	fan.action_deny = fan.action_quarantine ||
	                  !strcmp(vg_conf_str(cfg, VG_CONF_OA_ACTION), "deny");
	fan.scan_on_open = vg_conf_bool(cfg, VG_CONF_OA_SCAN_ON_OPEN) && !exec_only;
	fan.max_size = vg_conf_num(cfg, VG_CONF_OA_MAX_FILE_SIZE);
	if (fan_policy_init(&fan.pol, cfg, err, errlen) != 0)
		return -1;
	prevent_any = !exec_only && (fan.pol.prevent_all || fan.pol.nprevent);
	if (!(fan.st = fan_stats_new())) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (fan_kernel_open(&fan.k, vg_conf_bool(cfg, VG_CONF_OA_IGNORE_MARKS), err,
	                    errlen) != 0)
		return -1;
	fan.k.mask = 0;
	if (vg_conf_bool(cfg, VG_CONF_OA_BLOCK_EXEC))
		fan.k.mask |= FAN_OPEN_EXEC_PERM;
	if (prevent_any)
		fan.k.mask |= FAN_OPEN_PERM;
	else if (fan.scan_on_open)
		fan.k.mask |= FAN_OPEN;
	if (!exec_only && vg_conf_bool(cfg, VG_CONF_OA_SCAN_ON_CLOSE))
		fan.k.mask |= FAN_CLOSE_WRITE;
	if (!fan.k.mask) {
		snprintf(err, errlen, "on-access watches paths but intercepts nothing "
		         "(OnAccessBlockExec, OnAccessPrevention, OnAccessScanOnOpen and "
		         "OnAccessScanOnClose are all off)");
		return -1;
	}
	fan.k.ignore_mask = FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM | FAN_OPEN;

	/* slots bound the descriptors we hold: the queue plus what the
	 * workers of two generations (a reload) have in flight; then the
	 * background queue and its jobs in the pool */
	vg_pool_get_stats(d->pool, &ps);
	workers = ps.workers ? ps.workers : 1;
	fan.nslots = (unsigned)vg_conf_num(cfg, VG_CONF_MAX_QUEUE) + 2 * workers;
	fan.bg_cap = workers + 1;
	fan.nbg = background_room(cfg, fan.nslots, fan.bg_cap);
	if (!(fan.slots = calloc(fan.nslots + fan.nbg + fan.bg_cap, sizeof *fan.slots))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < fan.nslots; i++) {
		fan.slots[i].next = fan.free_list;
		fan.free_list = &fan.slots[i];
	}
	for (unsigned i = fan.nslots; i < fan.nslots + fan.nbg + fan.bg_cap; i++) {
		fan.slots[i].next = fan.bg_free;
		fan.bg_free = &fan.slots[i];
	}
	fan.pending.next = fan.pending.prev = &fan.pending;
	fan.backlog.next = fan.backlog.prev = &fan.backlog;
	if ((fan.wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	vg_pool_set_generation_hook(d->pool, generation_changed, NULL);
	if (fan.action_quarantine && fan_act_start(cfg, err, errlen) != 0)
		return -1;
	if (fan_kernel_mark(&fan.k, cfg, err, errlen) != 0)
		return -1;
	atomic_store(&fan.beat_at_us, now_us());
	if (pthread_create(&fan.thread, NULL, event_thread, NULL) != 0 ||
	    pthread_create(&fan.wd_thread, NULL, watchdog_thread, NULL) != 0) {
		snprintf(err, errlen, "on-access threads: %s", strerror(errno));
		return -1;
	}
	fan.running = 1;
	vg_log(VG_LOG_INFO, "on-access: exec %s, open %s, close-write %s; deadline %.3f s "
	       "(then %s); ignore marks %s",
	       fan.k.mask & FAN_OPEN_EXEC_PERM ? "blocked until scanned" : "not watched",
	       fan.k.mask & FAN_OPEN_PERM ? (fan.pol.prevent_all ? "blocked until scanned"
	                                     : "blocked in the prevention paths")
	       : fan.k.mask & FAN_OPEN ? "scanned, not blocked" : "not watched",
	       fan.k.mask & FAN_CLOSE_WRITE ? "scanned" : "not watched",
	       (double)fan.deadline_us / 1e6, fan.deadline_allow ? "allow" : "deny",
	       !fan.k.ignore_flag ? "off"
	       : fan.k.ignore_flag == FAN_MARK_IGNORE ? "FAN_MARK_IGNORE, evictable"
	                                              : "FAN_MARK_IGNORED_MASK, evictable");
	return 0;
}

static void fan_stop(void)
{
	uint64_t one = 1;

	if (fan.d)
		vg_pool_set_generation_hook(fan.d->pool, NULL, NULL);
	if (fan.running) {
		atomic_store(&fan.stop, 1);
		if (write(fan.wakefd, &one, sizeof one) < 0) {
			/* the thread wakes within TICK_MS anyway */
		}
		pthread_join(fan.thread, NULL);
		pthread_join(fan.wd_thread, NULL);
		fan.running = 0;
	}
	pthread_mutex_lock(&fan.mu);
	/* closing the group allows every event still waiting; the pool's
	 * late callbacks then only close their descriptors and log */
	fan_kernel_close(&fan.k);
	if (fan.st && fan.backlog.next) {
		fan_slot *s;
		while ((s = backlog_pop())) {
			fan_stats_counters(fan.st)->dropped_notifications++;
			slot_put(s);
		}
	}
	pthread_mutex_unlock(&fan.mu);
	/* the group is closed: the vault's files cost no event any more */
	fan_act_stop();
	if (fan.wakefd >= 0)
		close(fan.wakefd);
	fan.wakefd = -1;
	/* the pool thread may still be screening a notification */
	pthread_rwlock_wrlock(&fan.screen_rw);
	fan_policy_free(&fan.pol);
	pthread_rwlock_unlock(&fan.screen_rw);
	/* the slots and the counters stay: jobs still queued in the pool
	 * point at them until vg_pool_stop answers them */
}

static void fan_stats_cb(json_t *o)
{
	json_t *oa;
	long live;

	if (!fan.st)
		return;
	oa = json_object();
	pthread_mutex_lock(&fan.mu);
	fan_stats_json(fan.st, oa);
	{
		json_t *marks = json_array();
		for (unsigned i = 0; i < fan.k.nmarks; i++)
			json_array_append_new(marks, json_pack("{s:s, s:s}", "path",
				fan.k.marks[i].path, "type",
				fan.k.marks[i].filesystem ? "filesystem" : "mount"));
		json_object_set_new(oa, "watched", marks);
	}
	json_object_set_new(oa, "ignore_mark_flag", json_string(
		!fan.k.ignore_flag ? "off" : fan.k.ignore_flag == FAN_MARK_IGNORE
		? "FAN_MARK_IGNORE" : "FAN_MARK_IGNORED_MASK"));
	json_object_set_new(oa, "slots", json_integer(fan.nslots));
	{
		uint64_t ok, failed;
		json_t *a = json_object_get(oa, "actions");
		fan_act_stats(&ok, &failed);
		json_object_set_new(a, "quarantined", json_integer((json_int_t)ok));
		json_object_set_new(a, "quarantine_failed", json_integer((json_int_t)failed));
	}
	live = fan_kernel_live_ignores(&fan.k);
	pthread_mutex_unlock(&fan.mu);
	json_object_set_new(json_object_get(oa, "ignore_marks"), "live", json_integer(live));
	json_object_set_new(o, "onaccess", oa);
}

static uint64_t fan_heartbeat(void)
{
	static uint64_t idle;
	/* not watching anything: nothing can stall */
	return fan.running ? atomic_load(&fan.beat) : ++idle;
}

const vg_service vg_service_onaccess = {
	"on-access", fan_start, fan_stop, fan_stats_cb, fan_heartbeat,
};
