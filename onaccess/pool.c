/*
 * pool.c - the supervisor side of the scan workers (see pool.h).
 *
 * One pool thread owns every worker and engine-process socket (epoll).
 * Other threads only queue jobs and reload requests under the pool's
 * mutex and wake it through an eventfd; callbacks run on the pool
 * thread, outside the mutex.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "onaccess/log.h"
#include "onaccess/pool.h"

extern char **environ;

#define MAX_WORKERS 256
/* how far into the queue a free worker looks for a job of its own */
#define AFFINITY_LOOKAHEAD 64
/* engine processes and workers of the live generations */
#define MAX_PIDS (4 * (MAX_WORKERS + 1))

/* The supervisor's own verdict cache: clean results of regular files by
 * identity (device, inode, size, times to the nanosecond, owner, mode)
 * and name, for the serving generation. It answers a repeated scan
 * without a round trip to a worker, for every client at once. A write,
 * chmod or chown moves ctime, so a changed file never matches. */
typedef struct vg_ident {
	uint64_t dev, ino, size;
	int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
	uint32_t uid, gid, mode;
	uint64_t name_hash;
} vg_ident;

typedef struct vg_centry {
	vg_ident id;
	unsigned gen;
	char sha256[65];
	char type[16];
} vg_centry;

typedef struct vg_job {
	uint64_t id;
	int cacheable;
	vg_ident ident;
	int fd;
	char *name;
	uint32_t flags;
	uint64_t affinity;
	int64_t deadline_at; /* ms, monotonic; 0: none */
	int deadline_fired;
	int background;     /* after the foreground jobs, at a lower priority */
	vg_job_cb cb;
	void *ud;
	struct vg_job *next;
} vg_job;

typedef struct vg_gen vg_gen;

/* What an epoll event points at. */
enum { EV_WAKE, EV_ZYGOTE, EV_WORKER };
typedef struct vg_evsrc {
	int kind;
	void *ptr;
} vg_evsrc;

typedef struct vg_worker {
	vg_evsrc ev;
	vg_gen *gen;
	int sock, pidfd;
	pid_t pid;
	vg_job *job;        /* in flight, or NULL */
	int64_t started_at; /* of the job in flight */
	int killed;         /* SIGKILL sent for a hang */
	int base_nice;      /* its nice value when it started */
	int nice;           /* the one we set last */
} vg_worker;

struct vg_gen {
	vg_evsrc ev;
	unsigned id;
	int zsock;
	pid_t zpid;
	int ready;      /* engine loaded */
	int serving;    /* takes new jobs */
	int retiring;   /* finishes what it has, then goes */
	uint64_t signatures;
	uint64_t bundle;  /* bundle version loaded, 0: none */
	unsigned want;  /* workers it should have */
	unsigned spawning;
	unsigned nworkers;
	vg_worker *workers[MAX_WORKERS];
	vg_gen *next;
};

struct vg_pool {
	vg_pool_config cfg;
	char *config_path;
	pthread_t thread;
	int epfd, wakefd;
	vg_evsrc wake_ev;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	vg_job *head, *tail;
	vg_job *fg_tail;  /* last foreground job: they all come before the background ones */
	unsigned queued;
	unsigned queued_bg; /* of them, background jobs: their callers bound them */
	uint64_t next_id;
	int stopping;
	uint64_t reload_requested, reload_started, reload_done;
	int reload_ok;
	char reload_msg[256];

	vg_gen *gens;     /* all live generations, newest first */
	vg_gen *current;  /* serving */
	vg_gen *loading;  /* being loaded by a reload */
	unsigned gen_ids;
	/* highest bundle version served so far: a reload refuses older
	 * ones, also after the serving engine process died */
	uint64_t bundle;

	vg_pool_stats st; /* counters, under mu */
	vg_centry *cache; /* cache_size entries, under mu; NULL: off */
	size_t cache_size;
	/* pids of the engine processes and workers, under mu: on-access
	 * answers their own file accesses at once (vg_pool_owns_pid) */
	pid_t pids[MAX_PIDS];
	unsigned npids;
	vg_pool_gen_hook gen_hook;
	void *gen_hook_ud;
	uint64_t heartbeat;
	vg_reply scratch; /* the pool thread's decode buffer */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake(vg_pool *p)
{
	uint64_t one = 1;
	if (write(p->wakefd, &one, sizeof one) < 0) {
		/* the counter is saturated: the thread is awake anyway */
	}
}

static void pid_add(vg_pool *p, pid_t pid)
{
	pthread_mutex_lock(&p->mu);
	if (pid > 0 && p->npids < MAX_PIDS)
		p->pids[p->npids++] = pid;
	pthread_mutex_unlock(&p->mu);
}

static void pid_del(vg_pool *p, pid_t pid)
{
	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < p->npids; i++)
		if (p->pids[i] == pid) {
			p->pids[i] = p->pids[--p->npids];
			break;
		}
	pthread_mutex_unlock(&p->mu);
}

/* --- generations --------------------------------------------------- */

static vg_gen *gen_spawn(vg_pool *p, char *err, size_t errlen)
{
	vg_gen *g = calloc(1, sizeof *g);
	int sp[2];
	char fdarg[16], minarg[24];
	char *argv[] = { "vigild", "--engine-process", fdarg, "--config",
	                 p->config_path, "--min-bundle-version", minarg, NULL };
	posix_spawn_file_actions_t fa;
	struct epoll_event ev;
	int rc;

	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		free(g);
		return NULL;
	}
	/* the child end becomes fd 3 of a fresh exec of ourselves (dup2
	 * onto itself would keep close-on-exec) */
	if (sp[1] == 3) {
		int moved = fcntl(sp[1], F_DUPFD_CLOEXEC, 4);
		close(sp[1]);
		sp[1] = moved;
	}
	snprintf(fdarg, sizeof fdarg, "3");
	snprintf(minarg, sizeof minarg, "%llu", (unsigned long long)p->bundle);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sp[1], 3);
	rc = posix_spawn(&g->zpid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(sp[1]);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the engine process: %s",
		         strerror(rc));
		close(sp[0]);
		free(g);
		return NULL;
	}
	pid_add(p, g->zpid);
	g->zsock = sp[0];
	g->want = p->cfg.workers;
	g->ev.kind = EV_ZYGOTE;
	g->ev.ptr = g;
	fcntl(g->zsock, F_SETFL, O_NONBLOCK);
	ev.events = EPOLLIN;
	ev.data.ptr = &g->ev;
	epoll_ctl(p->epfd, EPOLL_CTL_ADD, g->zsock, &ev);
	g->next = p->gens;
	p->gens = g;
	return g;
}

static void gen_request_worker(vg_gen *g)
{
	uint8_t b = VG_ZY_SPAWN;
	if (send(g->zsock, &b, 1, MSG_NOSIGNAL) == 1)
		g->spawning++;
}

/* Ends a generation whose workers are all gone. */
static void gen_free(vg_pool *p, vg_gen *g)
{
	vg_gen **pp;
	int st;

	for (pp = &p->gens; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	if (g->zsock >= 0) {
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, g->zsock, NULL);
		close(g->zsock);
	}
	/* closing its socket ends it; make sure, then reap */
	if (g->zpid > 0) {
		kill(g->zpid, SIGKILL);
		while (waitpid(g->zpid, &st, 0) < 0 && errno == EINTR)
			;
		pid_del(p, g->zpid);
	}
	if (p->current == g)
		p->current = NULL;
	if (p->loading == g)
		p->loading = NULL;
	free(g);
}

/* --- the shared verdict cache ------------------------------------ */

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static size_t cache_slot(const vg_pool *p, const vg_ident *id)
{
	return (size_t)(hash_bytes(id, sizeof *id, 0xcbf29ce484222325ull) &
	                (p->cache_size - 1));
}

/* Under mu. */
static const vg_centry *cache_find(vg_pool *p, const vg_ident *id)
{
	const vg_centry *e;
	if (!p->cache || !p->st.generation)
		return NULL;
	e = &p->cache[cache_slot(p, id)];
	return e->gen == p->st.generation && !memcmp(&e->id, id, sizeof *id) ? e : NULL;
}

static void cache_store(vg_pool *p, const vg_ident *id, unsigned gen,
                        const vg_reply *r)
{
	vg_centry *e;
	pthread_mutex_lock(&p->mu);
	if (p->cache && gen && gen == p->st.generation) {
		e = &p->cache[cache_slot(p, id)];
		e->id = *id;
		e->gen = gen;
		snprintf(e->sha256, sizeof e->sha256, "%s", r->sha256);
		snprintf(e->type, sizeof e->type, "%s", r->type);
	}
	pthread_mutex_unlock(&p->mu);
}

static int make_ident(const struct stat *st, const char *name, vg_ident *id)
{
	/* regular files with a name on disk only: a memfd or an unlinked
	 * file has no identity worth keeping */
	if (!S_ISREG(st->st_mode) || st->st_nlink == 0)
		return 0;
	memset(id, 0, sizeof *id);
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mtime_s = st->st_mtim.tv_sec;
	id->mtime_ns = st->st_mtim.tv_nsec;
	id->ctime_s = st->st_ctim.tv_sec;
	id->ctime_ns = st->st_ctim.tv_nsec;
	id->uid = st->st_uid;
	id->gid = st->st_gid;
	id->mode = st->st_mode;
	/* YARA rules may read the name: the same inode under another name
	 * is another entry */
	id->name_hash = hash_bytes(name, strlen(name), 0xcbf29ce484222325ull);
	return 1;
}

/* --- jobs -------------------------------------------------------- */

static void job_free(vg_job *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->name);
	free(j);
}

/* Calls the job's callback with a reply vigild made itself. */
static void answer_own(vg_pool *p, vg_job *j, vg_reply_status status,
                       const char *finding, const char *message, int final)
{
	vg_reply *r = &p->scratch;

	vg_reply_init(r, j->id, status);
	if (finding) {
		r->verdict = 2; /* VIGIL_SUSPICIOUS: the front end decides */
		vg_reply_add_finding(r, "daemon", finding, "", 2, 1.0, message);
	}
	r->message = vg_reply_strdup(r, message, strlen(message));
	j->cb(r, final, j->ud);
}

static void finish(vg_pool *p, vg_job *j, const vg_reply *r, unsigned gen)
{
	if (j->cacheable && r->status == VG_REPLY_SCANNED &&
	    r->verdict == 0 && !r->truncated)
		cache_store(p, &j->ident, gen, r);
	pthread_mutex_lock(&p->mu);
	p->st.completed++;
	if (r->status == VG_REPLY_ERROR)
		p->st.errors++;
	if (r->cached)
		p->st.cached++;
	pthread_mutex_unlock(&p->mu);
	j->cb(r, 1, j->ud);
	job_free(j);
}

/* --- workers ----------------------------------------------------- */

static void worker_remove(vg_pool *p, vg_worker *w)
{
	vg_gen *g = w->gen;

	epoll_ctl(p->epfd, EPOLL_CTL_DEL, w->sock, NULL);
	close(w->sock);
	pid_del(p, w->pid);
	if (w->pidfd >= 0) {
		/* a retired or broken worker must not linger */
		syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0);
		close(w->pidfd);
	}
	for (unsigned i = 0; i < g->nworkers; i++)
		if (g->workers[i] == w) {
			g->workers[i] = g->workers[--g->nworkers];
			break;
		}
	free(w);
	if (g->retiring && g->nworkers == 0 && g->spawning == 0)
		gen_free(p, g);
}

/* A worker died or broke its protocol: answer its job, replace it. */
static void worker_lost(vg_pool *p, vg_worker *w, const char *why)
{
	vg_gen *g = w->gen;
	vg_job *j = w->job;

	w->job = NULL;
	if (j) {
		int hung = w->killed;
		pthread_mutex_lock(&p->mu);
		if (hung)
			p->st.hangs++;
		else
			p->st.crashes++;
		p->st.completed++;
		pthread_mutex_unlock(&p->mu);
		vg_log(VG_LOG_ERR, "scan worker %d %s while scanning %s", (int)w->pid,
		       hung ? "killed after running too long" : why, j->name);
		answer_own(p, j, hung ? VG_REPLY_HUNG : VG_REPLY_CRASH,
		           hung ? "Heuristics.ScannerTimeout" : "Heuristics.ScannerCrash",
		           hung ? "the scan ran past WorkerHangTimeout"
		                : "the scan worker died on this file",
		           1);
		job_free(j);
	} else {
		vg_log(VG_LOG_WARNING, "scan worker %d %s", (int)w->pid, why);
	}
	if (g->retiring || p->stopping) {
		worker_remove(p, w); /* may free g */
		return;
	}
	worker_remove(p, w);
	if (g->nworkers + g->spawning < g->want)
		gen_request_worker(g);
}

static int send_job(vg_worker *w, vg_job *j)
{
	static uint8_t buf[VG_WIRE_MAX];
	size_t n = vg_wire_job_encode(buf, j->id, j->flags, j->name);
	struct iovec iov = { buf, n };
	union {
		char c[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { 0 };
	struct cmsghdr *c;

	if (!n)
		return -1;
	memset(&u, 0, sizeof u);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.c;
	msg.msg_controllen = sizeof u.c;
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &j->fd, sizeof(int));
	if (sendmsg(w->sock, &msg, MSG_NOSIGNAL) != (ssize_t)n)
		return -1;
	/* the worker has its own copy now */
	close(j->fd);
	j->fd = -1;
	return 0;
}

/* Takes the job a free worker should do: foreground jobs first (the
 * queue holds them before every background job), and among the jobs of
 * the head's kind one of its own near the front (warm cache), else the
 * oldest. A background job only with allow_bg. Under mu. */
static vg_job *take_job(vg_pool *p, unsigned slot, unsigned nslots, int allow_bg)
{
	vg_job **pp = &p->head, *prev = NULL, *j;
	unsigned look = 0;
	int bg;

	if (!p->head)
		return NULL;
	bg = p->head->background;
	if (bg && !allow_bg)
		return NULL;
	for (j = p->head; j && j->background == bg && look < AFFINITY_LOOKAHEAD;
	     j = j->next, look++) {
		if (j->affinity % nslots == slot)
			break;
		prev = j;
		pp = &j->next;
	}
	if (!j || j->background != bg || look >= AFFINITY_LOOKAHEAD) {
		j = p->head;
		prev = NULL;
		pp = &p->head;
	}
	*pp = j->next;
	if (p->tail == j)
		p->tail = prev;
	/* the job before a foreground job is a foreground job */
	if (p->fg_tail == j)
		p->fg_tail = prev;
	j->next = NULL;
	p->queued--;
	p->queued_bg -= j->background;
	return j;
}

/* Queues j behind the jobs of its kind (front: before them). Under mu. */
static void enqueue(vg_pool *p, vg_job *j, int front)
{
	vg_job **at;

	if (j->background)
		at = front ? (p->fg_tail ? &p->fg_tail->next : &p->head)
		           : (p->tail ? &p->tail->next : &p->head);
	else
		at = front ? &p->head : (p->fg_tail ? &p->fg_tail->next : &p->head);
	j->next = *at;
	*at = j;
	if (!j->next)
		p->tail = j;
	if (!j->background && (!front || !p->fg_tail))
		p->fg_tail = j;
	p->queued++;
	p->queued_bg += j->background;
}

/* Runs a worker at the priority its job deserves: background jobs
 * background_nice lower, foreground jobs at its own. */
static void worker_set_nice(vg_pool *p, vg_worker *w, int background)
{
	int want = w->base_nice;

	if (background && p->cfg.background_nice) {
		want += (int)p->cfg.background_nice;
		if (want > 19)
			want = 19;
	}
	if (w->nice == want)
		return;
	if (setpriority(PRIO_PROCESS, (id_t)w->pid, want) == 0) {
		w->nice = want;
	} else if (want < w->nice) {
		/* cannot raise it back: stop lowering anyone */
		vg_log(VG_LOG_WARNING, "scan worker %d: setpriority: %s; background "
		       "scans run at normal priority from now on", (int)w->pid,
		       strerror(errno));
		p->cfg.background_nice = 0;
	}
}

static void dispatch(vg_pool *p)
{
	vg_gen *g = p->current;
	unsigned bg_running = 0, bg_max;
	int fg_waits;

	if (!g)
		return;
	/* one worker stays free of background jobs for the next permission
	 * event (unless there is only one) */
	bg_max = g->nworkers > 1 ? g->nworkers - 1 : 1;
	for (unsigned i = 0; i < g->nworkers; i++)
		if (g->workers[i]->job && g->workers[i]->job->background)
			bg_running++;
	for (unsigned i = 0; i < g->nworkers; i++) {
		vg_worker *w = g->workers[i];
		vg_job *j;

		if (w->job)
			continue;
		pthread_mutex_lock(&p->mu);
		j = take_job(p, i, g->nworkers, bg_running < bg_max);
		pthread_mutex_unlock(&p->mu);
		if (!j)
			break;
		worker_set_nice(p, w, j->background);
		if (send_job(w, j) != 0) {
			/* the worker is gone: put the job back at the front */
			pthread_mutex_lock(&p->mu);
			enqueue(p, j, 1);
			pthread_mutex_unlock(&p->mu);
			worker_lost(p, w, "stopped taking jobs");
			return; /* the worker array changed */
		}
		w->job = j;
		w->started_at = now_ms();
		bg_running += j->background;
	}
	/* a foreground job waits for a worker: background scans in flight
	 * go back to full speed, so it waits as briefly as possible */
	pthread_mutex_lock(&p->mu);
	fg_waits = p->head && !p->head->background;
	pthread_mutex_unlock(&p->mu);
	if (fg_waits)
		for (unsigned i = 0; i < g->nworkers; i++)
			if (g->workers[i]->job && g->workers[i]->job->background)
				worker_set_nice(p, g->workers[i], 0);
}

static void worker_readable(vg_pool *p, vg_worker *w)
{
	static uint8_t buf[VG_WIRE_MAX + 1];
	ssize_t n = recv(w->sock, buf, sizeof buf, MSG_DONTWAIT);
	vg_reply *r = &p->scratch;
	vg_job *j;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		worker_lost(p, w, "died");
		return;
	}
	if (vg_wire_reply_decode(buf, (size_t)n, r) != 0 || !w->job ||
	    r->job_id != w->job->id) {
		worker_lost(p, w, "sent a malformed reply and was stopped");
		return;
	}
	j = w->job;
	w->job = NULL;
	finish(p, j, r, w->gen->serving ? w->gen->id : 0);
	if (w->gen->retiring)
		worker_remove(p, w);
}

/* --- the engine process's messages --------------------------------- */

static void reload_finished(vg_pool *p, int ok, const char *msg)
{
	pthread_mutex_lock(&p->mu);
	p->reload_done = p->reload_started;
	p->reload_ok = ok;
	snprintf(p->reload_msg, sizeof p->reload_msg, "%s", msg);
	snprintf(p->st.last_reload, sizeof p->st.last_reload, "%s", msg);
	if (ok)
		p->st.reloads++;
	else
		p->st.reload_failures++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* The loading generation has all its workers: it serves from now. */
static void gen_promote(vg_pool *p, vg_gen *g)
{
	vg_gen *old = p->current;
	char msg[256];
	vg_pool_gen_hook hook;
	void *hook_ud;

	g->serving = 1;
	g->id = ++p->gen_ids; /* generations count successful loads */
	p->current = g;
	p->loading = NULL;
	if (g->bundle > p->bundle)
		p->bundle = g->bundle;
	if (old && old != g) {
		old->serving = 0;
		old->retiring = 1;
		if (old->nworkers == 0) {
			if (!old->spawning)
				gen_free(p, old);
		} else {
			/* idle old workers go now, busy ones after their job; the
			 * last removal frees the generation (then i is 0) */
			for (unsigned i = old->nworkers; i-- > 0;)
				if (!old->workers[i]->job)
					worker_remove(p, old->workers[i]);
		}
	}
	pthread_mutex_lock(&p->mu);
	p->st.generation = g->id;
	p->st.signatures = g->signatures;
	p->st.bundle_version = g->bundle;
	hook = p->gen_hook;
	hook_ud = p->gen_hook_ud;
	pthread_mutex_unlock(&p->mu);
	/* before any waiter hears "reloaded": on-access flushes its
	 * kernel verdict cache here */
	if (hook)
		hook(g->id, hook_ud);
	if (g->bundle)
		snprintf(msg, sizeof msg, "generation %u serving: %llu signatures, "
		         "bundle version %llu, %u workers", g->id,
		         (unsigned long long)g->signatures,
		         (unsigned long long)g->bundle, g->nworkers);
	else
		snprintf(msg, sizeof msg, "generation %u serving: %llu signatures, "
		         "%u workers", g->id, (unsigned long long)g->signatures,
		         g->nworkers);
	vg_log(VG_LOG_INFO, "%s", msg);
	reload_finished(p, 1, msg);
}

static void zygote_readable(vg_pool *p, vg_gen *g)
{
	uint8_t buf[2048];
	struct iovec iov = { buf, sizeof buf };
	union {
		char c[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { 0 };
	int fds[4] = { -1, -1, -1, -1 }, nfds = 0;
	vg_zy_msg m;
	ssize_t n;

	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.c;
	msg.msg_controllen = sizeof u.c;
	n = recvmsg(g->zsock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n > 0 && c;
	     c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int got[4];
		memcpy(got, CMSG_DATA(c), (k > 4 ? 4 : k) * sizeof(int));
		for (size_t i = 0; i < k && i < 4; i++) {
			if (nfds < 4)
				fds[nfds++] = got[i];
			else
				close(got[i]);
		}
	}
	if (n <= 0 || vg_zy_decode(buf, (size_t)n, &m) != 0) {
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		/* the engine process is gone: its workers die with it */
		vg_log(VG_LOG_ERR, "engine process %d%s ended", (int)g->zpid,
		       p->loading == g ? " (loading)" : "");
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, g->zsock, NULL);
		close(g->zsock);
		g->zsock = -1;
		g->spawning = 0;
		if (p->loading == g) {
			p->loading = NULL;
			reload_finished(p, 0, "the engine process died while loading");
			gen_free(p, g);
		} else if (!g->retiring) {
			/* the serving engine is lost: load a new one */
			g->retiring = 1;
			g->serving = 0;
			pthread_mutex_lock(&p->mu);
			p->reload_requested++;
			pthread_mutex_unlock(&p->mu);
			if (g->nworkers == 0)
				gen_free(p, g);
		} else if (g->nworkers == 0) {
			gen_free(p, g);
		}
		return;
	}
	switch (m.kind) {
	case VG_ZY_READY:
		g->ready = 1;
		g->signatures = m.count;
		g->bundle = m.version;
		for (unsigned i = 0; i < g->want; i++)
			gen_request_worker(g);
		break;
	case VG_ZY_FAILED:
		if (p->current && p->current->serving)
			vg_log(VG_LOG_ERR, "reload refused: %s; generation %u keeps "
			       "serving", m.text, p->current->id);
		else
			vg_log(VG_LOG_ERR, "loading signatures failed: %s", m.text);
		reload_finished(p, 0, m.text);
		gen_free(p, g);
		return;
	case VG_ZY_WORKER: {
		vg_worker *w;
		struct epoll_event ev;
		if (g->spawning)
			g->spawning--;
		if (nfds < 1 || g->retiring || g->nworkers >= MAX_WORKERS ||
		    !(w = calloc(1, sizeof *w))) {
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
			nfds = 0;
			break;
		}
		w->ev.kind = EV_WORKER;
		w->ev.ptr = w;
		w->gen = g;
		w->sock = fds[0];
		w->pidfd = nfds > 1 ? fds[1] : -1;
		w->pid = (pid_t)m.pid;
		errno = 0;
		w->base_nice = getpriority(PRIO_PROCESS, (id_t)w->pid);
		if (errno)
			w->base_nice = 0;
		w->nice = w->base_nice;
		for (int i = 2; i < nfds; i++)
			close(fds[i]);
		nfds = 0;
		g->workers[g->nworkers++] = w;
		pid_add(p, w->pid);
		ev.events = EPOLLIN;
		ev.data.ptr = &w->ev;
		epoll_ctl(p->epfd, EPOLL_CTL_ADD, w->sock, &ev);
		if (!g->serving && g == p->loading && g->nworkers >= g->want)
			gen_promote(p, g);
		break;
	}
	case VG_ZY_DIED:
		if (WIFSIGNALED(m.status))
			vg_log(VG_LOG_WARNING, "scan worker %u killed by signal %d",
			       m.pid, WTERMSIG(m.status));
		break;
	default:
		break;
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (g->retiring && g->nworkers == 0 && g->spawning == 0 && g != p->loading)
		gen_free(p, g);
}

/* --- deadlines, hangs, reload requests ----------------------------- */

/* Fires due deadlines and hang kills; returns ms until the next one. */
static int timers(vg_pool *p)
{
	int64_t now = now_ms(), next = now + 1000;
	vg_job *due[64];
	unsigned ndue = 0;

	pthread_mutex_lock(&p->mu);
	for (vg_job *j = p->head; j; j = j->next) {
		if (!j->deadline_at || j->deadline_fired)
			continue;
		if (j->deadline_at <= now && ndue < 64) {
			j->deadline_fired = 1;
			due[ndue++] = j;
		} else if (j->deadline_at < next) {
			next = j->deadline_at;
		}
	}
	pthread_mutex_unlock(&p->mu);
	for (vg_gen *g = p->gens; g; g = g->next)
		for (unsigned i = 0; i < g->nworkers; i++) {
			vg_worker *w = g->workers[i];
			vg_job *j = w->job;
			if (!j)
				continue;
			if (j->deadline_at && !j->deadline_fired) {
				if (j->deadline_at <= now && ndue < 64) {
					j->deadline_fired = 1;
					due[ndue++] = j;
				} else if (j->deadline_at < next) {
					next = j->deadline_at;
				}
			}
			if (!w->killed && p->cfg.hang_ms) {
				int64_t kill_at = w->started_at + (int64_t)p->cfg.hang_ms;
				if (kill_at <= now) {
					w->killed = 1;
					if (w->pidfd >= 0)
						syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL,
						        NULL, 0);
				} else if (kill_at < next) {
					next = kill_at;
				}
			}
		}
	/* jobs in due[] are still queued or in flight: only this thread
	 * frees them, so the pointers hold */
	for (unsigned i = 0; i < ndue; i++) {
		pthread_mutex_lock(&p->mu);
		p->st.deadlines++;
		pthread_mutex_unlock(&p->mu);
		answer_own(p, due[i], VG_REPLY_DEADLINE, NULL,
		           "deadline reached before the scan ended", 0);
	}
	if (ndue == 64)
		return 0;
	return next > now ? (int)(next - now) : 0;
}

static void maybe_start_reload(vg_pool *p)
{
	uint64_t want;
	char err[256];

	pthread_mutex_lock(&p->mu);
	want = p->reload_requested;
	pthread_mutex_unlock(&p->mu);
	if (p->loading || want == p->reload_started)
		return;
	pthread_mutex_lock(&p->mu);
	p->reload_started = want;
	pthread_mutex_unlock(&p->mu);
	if (!(p->loading = gen_spawn(p, err, sizeof err)))
		reload_finished(p, 0, err);
}

static void abort_all(vg_pool *p)
{
	vg_job *j;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		j = p->head;
		if (j) {
			p->head = j->next;
			if (!p->head)
				p->tail = NULL;
			if (p->fg_tail == j)
				p->fg_tail = NULL;
			p->queued--;
			p->queued_bg -= j->background;
		}
		pthread_mutex_unlock(&p->mu);
		if (!j)
			break;
		answer_own(p, j, VG_REPLY_ABORTED, NULL, "vigild is stopping", 1);
		job_free(j);
	}
}

static void *pool_thread(void *arg)
{
	vg_pool *p = arg;
	struct epoll_event evs[32];

	for (;;) {
		int stopping, timeout, n;

		unsigned nw = 0, busy = 0;

		if (p->current) {
			nw = p->current->nworkers;
			for (unsigned i = 0; i < nw; i++)
				busy += p->current->workers[i]->job != NULL;
		}
		pthread_mutex_lock(&p->mu);
		stopping = p->stopping;
		p->heartbeat++;
		p->st.workers = nw;
		p->st.busy = busy;
		pthread_mutex_unlock(&p->mu);
		if (stopping)
			break;
		maybe_start_reload(p);
		dispatch(p);
		timeout = timers(p);
		n = epoll_wait(p->epfd, evs, 32, timeout);
		for (int i = 0; i < n; i++) {
			vg_evsrc *src = evs[i].data.ptr;
			if (src->kind == EV_WAKE) {
				uint64_t v;
				if (read(p->wakefd, &v, sizeof v) < 0) {
					/* nothing to read: fine */
				}
			} else if (src->kind == EV_ZYGOTE) {
				zygote_readable(p, src->ptr);
				break; /* generations may have changed: re-poll */
			} else {
				worker_readable(p, src->ptr);
				break; /* workers may have changed: re-poll */
			}
		}
	}
	/* stopping: every job gets its answer, every process goes */
	abort_all(p);
	while (p->gens) {
		vg_gen *g = p->gens;
		unsigned n;
		g->retiring = 1;
		g->spawning = 0;
		for (unsigned i = 0; i < g->nworkers; i++) {
			vg_worker *w = g->workers[i];
			if (w->job) {
				answer_own(p, w->job, VG_REPLY_ABORTED, NULL,
				           "vigild is stopping", 1);
				job_free(w->job);
				w->job = NULL;
			}
		}
		if ((n = g->nworkers) == 0) {
			gen_free(p, g);
			continue;
		}
		/* from the end; the last removal frees g */
		while (n-- > 0)
			worker_remove(p, g->workers[n]);
	}
	return NULL;
}

/* --- the API ----------------------------------------------------- */

vg_pool *vg_pool_start(const vg_pool_config *cfg, char *err, size_t errlen)
{
	vg_pool *p = calloc(1, sizeof *p);
	struct epoll_event ev;
	char msg[256];

	if (!p || !(p->config_path = strdup(cfg->config_path))) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->cfg = *cfg;
	p->cfg.config_path = p->config_path;
	if (p->cfg.workers < 1)
		p->cfg.workers = 1;
	if (p->cfg.workers > MAX_WORKERS)
		p->cfg.workers = MAX_WORKERS;
	/* raising a worker's priority back needs CAP_SYS_NICE */
	if (geteuid() != 0)
		p->cfg.background_nice = 0;
	p->st.queue_max = cfg->max_queue;
	if (cfg->cache_entries) {
		size_t n = 1;
		while (n < cfg->cache_entries)
			n <<= 1;
		p->cache_size = n;
		p->cache = calloc(n, sizeof *p->cache);
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	p->wake_ev.kind = EV_WAKE;
	ev.events = EPOLLIN;
	ev.data.ptr = &p->wake_ev;
	if (p->epfd < 0 || p->wakefd < 0 ||
	    epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wakefd, &ev) != 0 ||
	    pthread_create(&p->thread, NULL, pool_thread, p) != 0) {
		snprintf(err, errlen, "pool: %s", strerror(errno));
		if (p->epfd >= 0)
			close(p->epfd);
		if (p->wakefd >= 0)
			close(p->wakefd);
		free(p->config_path);
		free(p);
		return NULL;
	}
	if (vg_pool_reload(p, 1, msg, sizeof msg) != 0) {
		snprintf(err, errlen, "%s", msg);
		vg_pool_stop(p);
		return NULL;
	}
	return p;
}

void vg_pool_stop(vg_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	pthread_mutex_unlock(&p->mu);
	wake(p);
	pthread_join(p->thread, NULL);
	close(p->epfd);
	close(p->wakefd);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->config_path);
	free(p->cache);
	free(p);
}

int vg_pool_submit(vg_pool *p, const vg_job_req *req, vg_job_cb cb, void *ud)
{
	vg_job *j;
	struct stat st;

	if (!(j = calloc(1, sizeof *j)) ||
	    !(j->name = strdup(req->name ? req->name : ""))) {
		free(j);
		close(req->fd);
		errno = ENOMEM;
		return -1;
	}
	j->fd = req->fd;
	j->flags = req->flags;
	j->background = req->background != 0;
	j->cb = cb;
	j->ud = ud;
	if (req->deadline_ms)
		j->deadline_at = now_ms() + (int64_t)req->deadline_ms;
	if (fstat(req->fd, &st) == 0) {
		j->affinity = ((uint64_t)st.st_dev * 0x9e3779b97f4a7c15ull) ^
		              ((uint64_t)st.st_ino * 0xc2b2ae3d27d4eb4full);
		j->cacheable = make_ident(&st, j->name, &j->ident);
	}
	j->affinity ^= j->affinity >> 29;
	pthread_mutex_lock(&p->mu);
	if (j->cacheable && !p->stopping) {
		const vg_centry *e = cache_find(p, &j->ident);
		if (e) {
			/* answered here, on the caller's thread */
			vg_reply *r = malloc(sizeof *r);
			p->st.submitted++;
			p->st.completed++;
			p->st.cache_hits++;
			if (r) {
				vg_reply_init(r, 0, VG_REPLY_SCANNED);
				r->cached = 1;
				r->size = j->ident.size;
				memcpy(r->sha256, e->sha256, sizeof r->sha256);
				r->type = vg_reply_strdup(r, e->type, strlen(e->type));
			}
			pthread_mutex_unlock(&p->mu);
			if (!r) {
				job_free(j);
				errno = ENOMEM;
				return -1;
			}
			cb(r, 1, ud);
			free(r);
			job_free(j);
			return 0;
		}
	}
	/* MaxQueue bounds the jobs someone waits for: background jobs
	 * never take their room (their caller bounds them) */
	if (p->stopping || (j->background ? p->queued_bg
	                                  : p->queued - p->queued_bg) >= p->cfg.max_queue) {
		int e = p->stopping ? ESHUTDOWN : EAGAIN;
		if (!p->stopping)
			p->st.refused++;
		pthread_mutex_unlock(&p->mu);
		job_free(j);
		errno = e;
		return -1;
	}
	j->id = ++p->next_id;
	enqueue(p, j, 0);
	p->st.submitted++;
	if (p->queued > p->st.queue_high)
		p->st.queue_high = p->queued;
	pthread_mutex_unlock(&p->mu);
	wake(p);
	return 0;
}

int vg_pool_queue_has_room(vg_pool *p)
{
	int room;
	pthread_mutex_lock(&p->mu);
	room = p->queued - p->queued_bg < p->cfg.max_queue;
	pthread_mutex_unlock(&p->mu);
	return room;
}

typedef struct vg_waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	vg_reply *reply;
	int done, nomem;
} vg_waiter;

static void waiter_cb(const vg_reply *r, int final, void *ud)
{
	vg_waiter *w = ud;
	vg_reply *copy;

	if (!final)
		return;
	copy = malloc(sizeof *copy);
	if (copy)
		vg_reply_copy(copy, r);
	pthread_mutex_lock(&w->mu);
	w->reply = copy;
	w->nomem = !copy;
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

vg_reply *vg_pool_scan(vg_pool *p, const vg_job_req *req)
{
	vg_waiter w = { .done = 0 };
	vg_reply *r;

	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	if (vg_pool_submit(p, req, waiter_cb, &w) != 0) {
		pthread_mutex_destroy(&w.mu);
		pthread_cond_destroy(&w.cv);
		return NULL;
	}
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.mu);
	r = w.reply;
	pthread_mutex_unlock(&w.mu);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	if (!r)
		errno = ENOMEM;
	return r;
}

int vg_pool_reload(vg_pool *p, int wait, char *msg, size_t msglen)
{
	uint64_t target;
	int ok;

	pthread_mutex_lock(&p->mu);
	/* a reload already asked for and not started covers this one too */
	if (p->reload_requested == p->reload_started)
		p->reload_requested++;
	target = p->reload_requested;
	pthread_mutex_unlock(&p->mu);
	wake(p);
	if (!wait) {
		if (msg && msglen)
			snprintf(msg, msglen, "reload started");
		return 0;
	}
	pthread_mutex_lock(&p->mu);
	while (p->reload_done < target && !p->stopping)
		pthread_cond_wait(&p->cv, &p->mu);
	ok = p->reload_done >= target && p->reload_ok;
	if (msg && msglen)
		snprintf(msg, msglen, "%s",
		         p->reload_done >= target ? p->reload_msg : "vigild is stopping");
	pthread_mutex_unlock(&p->mu);
	return ok ? 0 : -1;
}

void vg_pool_get_stats(vg_pool *p, vg_pool_stats *s)
{
	pthread_mutex_lock(&p->mu);
	*s = p->st;
	s->queued = p->queued;
	pthread_mutex_unlock(&p->mu);
}

int vg_pool_owns_pid(vg_pool *p, pid_t pid)
{
	int found = 0;
	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < p->npids && !found; i++)
		found = p->pids[i] == pid;
	pthread_mutex_unlock(&p->mu);
	return found;
}

void vg_pool_set_generation_hook(vg_pool *p, vg_pool_gen_hook fn, void *ud)
{
	pthread_mutex_lock(&p->mu);
	p->gen_hook = fn;
	p->gen_hook_ud = ud;
	pthread_mutex_unlock(&p->mu);
}

uint64_t vg_pool_heartbeat(vg_pool *p)
{
	uint64_t v;
	pthread_mutex_lock(&p->mu);
	v = p->heartbeat;
	pthread_mutex_unlock(&p->mu);
	return v;
}
