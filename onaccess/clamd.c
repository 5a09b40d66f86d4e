/*
 * clamd.c - the clamd protocol service: LocalSocket (and an optional
 * TCP listener for INSTREAM and PING), so clamdscan, clamav-milter,
 * rspamd, c-icap's clamd module and pyclamd can use vigil unchanged.
 * Replies follow clamd's format (clamd/session.c); the differences are
 * listed in doc/clamd-protocol.md.
 *
 * Threads: one listener holds every connection that waits for a
 * command (epoll; a connection costs its buffer, MaxCommandLength), and
 * MaxThreads command threads run commands. A command thread reads an
 * INSTREAM body into a memfd before the scan is queued, so a slow client
 * holds a command thread (at most ReadTimeout per read), never a scan
 * worker. Path scans open files with the client's rights (peer.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "onaccess/clamd_proto.h"
#include "onaccess/daemon.h"
#include "onaccess/log.h"
#include "onaccess/peer.h"
#include "onaccess/sockutil.h"
#include "vigil/vigil.h"

#define MAX_TCP 8
#define MAX_ALLOW 64
#define MAX_PENDING_FDS 8
#define CHUNK_BUF 65536

typedef struct conn {
	int fd;
	int tcp;
	int authed;
	vg_peer peer;
	struct in_addr addr;
	uint8_t *buf;
	size_t len;
	int fds[MAX_PENDING_FDS];
	int nfds;
	int session;    /* inside IDSESSION */
	unsigned id;    /* command number inside the session */
	long long deadline;
	struct conn *next, *prev; /* idle list (listener) */
	struct conn *qnext;       /* command queue */
	int closing;
} conn;

static struct {
	vg_daemon *d;
	/* configuration */
	size_t max_cmd;
	uint64_t stream_max;
	int read_ms, cmd_ms, idle_ms, send_ms;
	unsigned max_conns, threads;
	int incomplete_error;
	int en_shutdown, en_reload, en_version, en_stats, en_allmatch;
	int follow_dirs, follow_files, cross_fs;
	unsigned max_depth;
	uid_t allow_uid[MAX_ALLOW];
	gid_t allow_gid[MAX_ALLOW];
	unsigned nallow_uid, nallow_gid;
	uint32_t net[MAX_ALLOW], mask[MAX_ALLOW];
	unsigned nnet;
	char *token;
	char *unix_path;
	/* state */
	int lfd, tfd[MAX_TCP], ntcp;
	int epfd, wakefd;
	pthread_t listener, *workers;
	volatile int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	conn *idle;               /* waiting for a command (listener) */
	conn *qhead, *qtail;      /* ready to run */
	conn *back;               /* handed back by command threads */
	unsigned nconns;
	uint64_t beat;
	/* stats */
	uint64_t accepted, refused_full, refused_access, commands, timeouts,
	        too_long, unknown, found, clean, errors, streams;
	unsigned busy_threads;
	time_t loaded_at;
} cd = { .lfd = -1, .epfd = -1, .wakefd = -1,
         .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void count(uint64_t *c)
{
	pthread_mutex_lock(&cd.mu);
	(*c)++;
	pthread_mutex_unlock(&cd.mu);
}

/* --- connections ------------------------------------------------- */

static void conn_free(conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	for (int i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	free(c->buf);
	free(c);
	pthread_mutex_lock(&cd.mu);
	cd.nconns--;
	pthread_mutex_unlock(&cd.mu);
}

/* One reply: "[id: ]body<term>", as clamd's conn_reply*. */
static void reply(conn *c, char term, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply(conn *c, char term, const char *fmt, ...)
{
	char body[8192], line[8300];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	if (c->session)
		n = snprintf(line, sizeof line, "%u: %s", c->id, body);
	else
		n = snprintf(line, sizeof line, "%s", body);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line - 1)
		n = (int)sizeof line - 2;
	line[n] = term;
	if (c->closing)
		return;
	if (vg_write_all(c->fd, line, (size_t)n + 1, cd.send_ms) != 0)
		c->closing = 1;
}

/* Reads more bytes into the buffer (and any descriptors sent along);
 * returns bytes read, 0 at EOF, -1 on error. Never blocks. */
static ssize_t fill(conn *c)
{
	struct iovec iov = { c->buf + c->len, cd.max_cmd - c->len };
	union {
		char b[CMSG_SPACE(MAX_PENDING_FDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { 0 };
	ssize_t n;
	int got = 0;

	if (c->len >= cd.max_cmd)
		return -1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = c->tcp ? NULL : u.b;
	msg.msg_controllen = c->tcp ? 0 : sizeof u.b;
	n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -2 : -1;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[MAX_PENDING_FDS];
		memcpy(fds, CMSG_DATA(h), (k > MAX_PENDING_FDS ? MAX_PENDING_FDS : k) * sizeof(int));
		for (size_t i = 0; i < k && i < MAX_PENDING_FDS; i++) {
			if (c->nfds < MAX_PENDING_FDS)
				c->fds[c->nfds++] = fds[i];
			else
				close(fds[i]);
			got = 1;
		}
	}
	/* the byte that carried a descriptor (clamdscan sends one) is not
	 * part of any command */
	if (got && n > 0)
		n--;
	c->len += (size_t)n;
	return n == 0 && got ? -2 : n;
}

/* Waits until the buffer has at least want bytes or the time is up. */
static int need(conn *c, size_t want, int timeout_ms)
{
	long long end = vg_now_ms() + timeout_ms;

	while (c->len < want) {
		long long left = end - vg_now_ms();
		ssize_t n;
		if (left <= 0 || vg_wait_readable(c->fd, (int)left) <= 0)
			return -1;
		n = fill(c);
		if (n == 0 || n == -1)
			return -1;
	}
	return 0;
}

static void consume(conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* --- scan replies ------------------------------------------------ */

/* What one scan reply means for clamd: writes its lines and returns
 * 1 found, 0 clean, -1 error. */
static int report(conn *c, char term, const char *name, const vg_reply *r,
                  int allmatch, int say_ok)
{
	int found = 0;

	switch (r->status) {
	case VG_REPLY_SCANNED:
		break;
	case VG_REPLY_CRASH:
	case VG_REPLY_HUNG:
		reply(c, term, "%s: %s FOUND", name,
		      r->nfindings ? r->findings[0].name : "Heuristics.ScannerCrash");
		count(&cd.found);
		return 1;
	case VG_REPLY_ERROR:
		if (r->error == VIGIL_ETOOLARGE && !cd.incomplete_error) {
			reply(c, term, "%s: Heuristics.Limits.Exceeded.MaxFileSize FOUND", name);
			count(&cd.found);
			return 1;
		}
		if (r->error == VIGIL_ETOOLARGE)
			reply(c, term, "%s: Limits exceeded (MaxFileSize) ERROR", name);
		else
			reply(c, term, "%s: %s ERROR", name,
			      *r->message ? r->message : vigil_strerror((vigil_error)r->error));
		count(&cd.errors);
		return -1;
	default:
		reply(c, term, "%s: %s ERROR", name, *r->message ? r->message : "scan aborted");
		count(&cd.errors);
		return -1;
	}
	if (r->verdict >= VIGIL_SUSPICIOUS) {
		for (size_t i = 0; i < r->nfindings; i++) {
			if (r->findings[i].verdict < VIGIL_SUSPICIOUS)
				continue;
			reply(c, term, "%s: %s FOUND", name, r->findings[i].name);
			found = 1;
			if (!allmatch)
				break;
		}
	} else if (r->verdict == VIGIL_INCOMPLETE) {
		const char *limit = "Limit";
		for (size_t i = 0; i < r->nfindings; i++)
			if (r->findings[i].verdict == VIGIL_INCOMPLETE) {
				limit = r->findings[i].name;
				break;
			}
		if (!strncmp(limit, "Limit.", 6))
			limit += 6;
		if (cd.incomplete_error) {
			reply(c, term, "%s: Limits exceeded (%s) ERROR", name, limit);
			count(&cd.errors);
			return -1;
		}
		reply(c, term, "%s: Heuristics.Limits.Exceeded.%s FOUND", name, limit);
		found = 1;
	}
	if (found) {
		count(&cd.found);
		vg_log(VG_LOG_WARNING, "%s: %s FOUND (clamd, uid %u)", name,
		       r->nfindings ? r->findings[0].name : "", (unsigned)c->peer.uid);
		vg_log_event("clamd", name, r, NULL);
		return 1;
	}
	count(&cd.clean);
	if (say_ok)
		reply(c, term, "%s: OK", name);
	return 0;
}

/* Scans one descriptor (the pool takes it) and reports it. */
static int scan_one(conn *c, char term, int fd, const char *name,
                    const char *label, int allmatch, int say_ok)
{
	vg_job_req req = { fd, name, allmatch ? VG_JOB_ALLMATCH : 0, 0, 0 };
	vg_reply *r = vg_pool_scan(cd.d->pool, &req);
	int rc;

	if (!r) {
		reply(c, term, "%s: %s ERROR", label,
		      errno == EAGAIN ? "Scan queue full." : strerror(errno));
		count(&cd.errors);
		return -1;
	}
	rc = report(c, term, label, r, allmatch, say_ok);
	free(r);
	return rc;
}

/* --- path scans -------------------------------------------------- */

/* MULTISCAN keeps this many jobs in flight per worker: a queue deep
 * enough that each worker finds the files it saw before (warm cache). */
#define MULTI_WINDOW 16

typedef struct done_item {
	char *name;
	vg_reply *reply; /* NULL for a clean file (nothing to say) */
	int clean;
	struct done_item *next;
} done_item;

typedef struct tree_scan {
	conn *c;
	char term;
	int allmatch, stop_at_first, window;
	unsigned total, found, errors;
	dev_t dev;
	int in_flight;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	done_item *done;
	int stopped;
} tree_scan;

typedef struct tree_job {
	tree_scan *t;
	char *name;
} tree_job;

static vg_reply *reply_copy(const vg_reply *r)
{
	vg_reply *copy = malloc(sizeof *copy);
	ptrdiff_t d;

	if (!copy)
		return NULL;
	memcpy(copy, r, sizeof *copy);
	d = copy->text - r->text;
	copy->type += d;
	copy->message += d;
	for (size_t i = 0; i < copy->nfindings; i++) {
		copy->findings[i].stage += d;
		copy->findings[i].name += d;
		copy->findings[i].layer += d;
		copy->findings[i].detail += d;
	}
	return copy;
}

static void tree_cb(const vg_reply *r, int final, void *ud)
{
	tree_job *j = ud;
	done_item *it;

	if (!final)
		return;
	it = calloc(1, sizeof *it);
	if (it) {
		it->name = j->name;
		/* most files are clean: no copy of the whole reply for them */
		it->clean = r->status == VG_REPLY_SCANNED && r->verdict == VIGIL_CLEAN;
		if (!it->clean)
			it->reply = reply_copy(r);
	} else {
		free(j->name);
	}
	pthread_mutex_lock(&j->t->mu);
	if (it) {
		it->next = j->t->done;
		j->t->done = it;
	}
	j->t->in_flight--;
	pthread_cond_signal(&j->t->cv);
	pthread_mutex_unlock(&j->t->mu);
	free(j);
}

/* Writes out finished results; waits until fewer than limit are in
 * flight. */
static void tree_drain(tree_scan *t, int limit)
{
	for (;;) {
		done_item *list;
		pthread_mutex_lock(&t->mu);
		while (!t->done && t->in_flight >= limit)
			pthread_cond_wait(&t->cv, &t->mu);
		list = t->done;
		t->done = NULL;
		pthread_mutex_unlock(&t->mu);
		if (!list)
			return;
		while (list) {
			done_item *next = list->next;
			int rc;
			if (list->clean) {
				count(&cd.clean);
				rc = 0;
			} else if (list->reply) {
				rc = report(t->c, t->term, list->name, list->reply, t->allmatch, 0);
			} else {
				reply(t->c, t->term, "%s: out of memory ERROR", list->name);
				rc = -1;
			}
			if (rc > 0)
				t->found++;
			else if (rc < 0)
				t->errors++;
			if (rc > 0 && t->stop_at_first)
				t->stopped = 1;
			free(list->reply);
			free(list->name);
			free(list);
			list = next;
		}
	}
}

static void tree_submit(tree_scan *t, int fd, const char *path)
{
	tree_job *j = calloc(1, sizeof *j);
	vg_job_req req = { fd, path, t->allmatch ? VG_JOB_ALLMATCH : 0, 0, 0 };

	t->total++;
	if (!j || !(j->name = strdup(path))) {
		free(j);
		close(fd);
		reply(t->c, t->term, "%s: out of memory ERROR", path);
		t->errors++;
		return;
	}
	j->t = t;
	for (int tries = 0;; tries++) {
		int busy;
		/* a full queue pushes back on this scan instead of failing it */
		pthread_mutex_lock(&t->mu);
		busy = t->in_flight;
		pthread_mutex_unlock(&t->mu);
		if (vg_pool_queue_has_room(cd.d->pool) || tries >= 500)
			break;
		if (busy)
			tree_drain(t, busy);
		else
			usleep(10000);
	}
	pthread_mutex_lock(&t->mu);
	t->in_flight++;
	pthread_mutex_unlock(&t->mu);
	if (vg_pool_submit(cd.d->pool, &req, tree_cb, j) != 0) {
		int e = errno;
		pthread_mutex_lock(&t->mu);
		t->in_flight--;
		pthread_mutex_unlock(&t->mu);
		reply(t->c, t->term, "%s: %s ERROR", path,
		      e == EAGAIN ? "Scan queue full." : strerror(e));
		count(&cd.errors);
		t->errors++;
		free(j->name);
		free(j);
		return;
	}
	tree_drain(t, t->window);
}

/* Walks path with the peer's rights already in force. */
static void walk(tree_scan *t, const char *path, unsigned depth, int top)
{
	struct stat st;
	int fd;

	if (t->stopped || t->c->closing)
		return;
	if ((top || cd.follow_files || cd.follow_dirs ? stat(path, &st)
	                                              : lstat(path, &st)) != 0) {
		if (top) {
			reply(t->c, t->term, "%s: File path check failure: %s. ERROR",
			      path, strerror(errno));
			t->errors++;
			t->total++;
		}
		return;
	}
	if (!top) {
		struct stat lst;
		if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) &&
		    !(S_ISDIR(st.st_mode) ? cd.follow_dirs : cd.follow_files))
			return;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d;
		struct dirent *de;
		if (!top && !cd.cross_fs && st.st_dev != t->dev)
			return;
		if (depth > cd.max_depth)
			return;
		if (!(d = opendir(path))) {
			reply(t->c, t->term, "%s: %s ERROR", path,
			      errno == EACCES ? "Access denied." : strerror(errno));
			t->errors++;
			t->total++;
			return;
		}
		while ((de = readdir(d)) && !t->stopped && !t->c->closing) {
			char sub[8192];
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (snprintf(sub, sizeof sub, "%s%s%s", path,
			             path[strlen(path) - 1] == '/' ? "" : "/",
			             de->d_name) >= (int)sizeof sub)
				continue;
			walk(t, sub, depth + 1, 0);
		}
		closedir(d);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		if (top) {
			reply(t->c, t->term, "%s: Not supported file type ERROR", path);
			t->errors++;
			t->total++;
		}
		return;
	}
	if (st.st_size == 0) {
		t->total++; /* clamd counts empty files as scanned and clean */
		return;
	}
	fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ELOOP && (top || cd.follow_files))
		fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		reply(t->c, t->term, "%s: %s ERROR", path,
		      errno == EACCES || errno == EPERM ? "Access denied." : strerror(errno));
		t->errors++;
		t->total++;
		count(&cd.errors);
		return;
	}
	tree_submit(t, fd, path);
}

static void cmd_path_scan(conn *c, const vg_clamd_cmd *cmd)
{
	tree_scan t = { .c = c, .term = cmd->term };
	const char *path = cmd->arg;
	struct stat st;
	vg_pool_stats ps;

	t.allmatch = cmd->id == VG_CLAMD_ALLMATCHSCAN;
	t.stop_at_first = cmd->id == VG_CLAMD_SCAN;
	vg_pool_get_stats(cd.d->pool, &ps);
	t.window = cmd->id == VG_CLAMD_MULTISCAN
	           ? (int)(ps.workers ? ps.workers : 1) * MULTI_WINDOW : 1;
	pthread_mutex_init(&t.mu, NULL);
	pthread_cond_init(&t.cv, NULL);
	if (path[0] != '/') {
		reply(c, cmd->term, "%s: Path must be absolute. ERROR", path);
		count(&cd.errors);
		goto out;
	}
	/* every file system access of the walk is checked as the peer's */
	if (!c->tcp && vg_peer_become(&c->peer) != 0) {
		reply(c, cmd->term, "%s: cannot take the client's identity. ERROR", path);
		goto out;
	}
	if (stat(path, &st) == 0)
		t.dev = st.st_dev;
	walk(&t, path, 0, 1);
	tree_drain(&t, 1); /* everything back */
	vg_peer_restore();
	if (t.found == 0 && t.errors != t.total && !c->closing)
		reply(c, cmd->term, "%s: OK", path);
out:
	pthread_mutex_destroy(&t.mu);
	pthread_cond_destroy(&t.cv);
}

/* --- INSTREAM and FILDES ----------------------------------------- */

/* Returns 0 to go on with the connection, -1 to close it. */
static int cmd_instream(conn *c, char term)
{
	int mfd = memfd_create("vigild-instream", MFD_CLOEXEC);
	uint64_t total = 0;
	char label[] = "stream";

	count(&cd.streams);
	if (mfd < 0) {
		reply(c, term, "INSTREAM: %s. ERROR", strerror(errno));
		return -1;
	}
	for (;;) {
		uint32_t n;
		if (need(c, 4, cd.read_ms) != 0) {
			count(&cd.timeouts);
			reply(c, term, "INSTREAM: read timed out or stream ended. ERROR");
			close(mfd);
			return -1;
		}
		n = vg_clamd_chunk_len(c->buf);
		consume(c, 4);
		if (n == 0)
			break;
		if (n > cd.stream_max - total) {
			vg_log(VG_LOG_WARNING, "INSTREAM: size limit reached (%u more after %llu bytes)",
			       n, (unsigned long long)total);
			reply(c, term, "INSTREAM size limit exceeded. ERROR");
			close(mfd);
			return -1;
		}
		total += n;
		while (n > 0) {
			size_t take;
			if (c->len == 0 && need(c, 1, cd.read_ms) != 0) {
				count(&cd.timeouts);
				reply(c, term, "INSTREAM: read timed out or stream ended. ERROR");
				close(mfd);
				return -1;
			}
			take = c->len < n ? c->len : n;
			if (write(mfd, c->buf, take) != (ssize_t)take) {
				reply(c, term, "INSTREAM: %s. ERROR", strerror(errno));
				close(mfd);
				return -1;
			}
			consume(c, take);
			n -= (uint32_t)take;
		}
	}
	lseek(mfd, 0, SEEK_SET);
	scan_one(c, term, mfd, "stream", label, 0, 1);
	return 0;
}

static int cmd_fildes(conn *c, char term)
{
	int fd;
	char label[32];
	struct stat st;

	if (c->tcp) {
		reply(c, term, "FILDES: only on the local socket. ERROR");
		return -1;
	}
	/* the descriptor travels just after the command */
	while (c->nfds == 0) {
		if (vg_wait_readable(c->fd, cd.read_ms) <= 0) {
			reply(c, term, "FILDES: didn't receive file descriptor. ERROR");
			return -1;
		}
		ssize_t n = fill(c);
		if (n == 0 || n == -1) {
			reply(c, term, "FILDES: didn't receive file descriptor. ERROR");
			return -1;
		}
	}
	fd = c->fds[0];
	memmove(c->fds, c->fds + 1, (size_t)(c->nfds - 1) * sizeof(int));
	c->nfds--;
	snprintf(label, sizeof label, "fd[%d]", fd);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		reply(c, term, "%s: Not a regular file ERROR", label);
		close(fd);
		return 0;
	}
	scan_one(c, term, fd, label, label, 0, 1);
	return 0;
}

/* --- the other commands ------------------------------------------ */

static void version_text(char *buf, size_t len)
{
	vg_pool_stats s;
	char when[64];
	struct tm tm;

	vg_pool_get_stats(cd.d->pool, &s);
	localtime_r(&cd.loaded_at, &tm);
	strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
	/* clamd: "ClamAV <version>/<database version>/<database date>";
	 * the bundle's version when one serves, else the generation */
	if (s.bundle_version)
		snprintf(buf, len, "vigil %s/%llu/%s", vigil_version(),
		         (unsigned long long)s.bundle_version, when);
	else
		snprintf(buf, len, "vigil %s/%u/%s", vigil_version(), s.generation,
		         when);
}

static void cmd_stats(conn *c, char term)
{
	vg_pool_stats s;
	char text[2048];

	vg_pool_get_stats(cd.d->pool, &s);
	pthread_mutex_lock(&cd.mu);
	snprintf(text, sizeof text,
	         "POOLS: 1\n\nSTATE: VALID PRIMARY\n"
	         "THREADS: live %u  idle %u max %u idle-timeout %d\n"
	         "QUEUE: %u items\n"
	         "WORKERS: live %u busy %u crashes %llu hangs %llu\n"
	         "SCANS: found %llu clean %llu errors %llu streams %llu cached %llu\n"
	         "CONNECTIONS: open %u accepted %llu refused %llu timeouts %llu\n"
	         "SIGNATURES: %llu generation %u\n"
	         "\nMEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A "
	         "pools 1 pools_used N/A pools_total N/A\nEND",
	         cd.threads, cd.threads - cd.busy_threads, cd.threads,
	         cd.idle_ms / 1000, s.queued, s.workers, s.busy,
	         (unsigned long long)s.crashes, (unsigned long long)s.hangs,
	         (unsigned long long)cd.found, (unsigned long long)cd.clean,
	         (unsigned long long)cd.errors, (unsigned long long)cd.streams,
	         (unsigned long long)s.cached, cd.nconns,
	         (unsigned long long)cd.accepted,
	         (unsigned long long)(cd.refused_full + cd.refused_access),
	         (unsigned long long)cd.timeouts, (unsigned long long)s.signatures,
	         s.generation);
	pthread_mutex_unlock(&cd.mu);
	reply(c, term, "%s", text);
}

static int peer_is_allowed(const vg_peer *p)
{
	if (p->uid == 0 || (!cd.nallow_uid && !cd.nallow_gid))
		return 1;
	for (unsigned i = 0; i < cd.nallow_uid; i++)
		if (cd.allow_uid[i] == p->uid)
			return 1;
	for (unsigned i = 0; i < cd.nallow_gid; i++)
		if (vg_peer_in_group(p, cd.allow_gid[i]))
			return 1;
	return 0;
}

/* Runs one command; returns 1 to keep the connection, 0 to close it. */
static int run_command(conn *c, vg_clamd_cmd *cmd)
{
	char term = cmd->term;
	char v[256];

	count(&cd.commands);
	if (c->session) {
		c->id++;
		if (cmd->legacy) {
			reply(c, term, "Only nCMDS\\n and zCMDS\\0 are accepted inside IDSESSION. ERROR");
			return 0;
		}
		switch (cmd->id) {
		case VG_CLAMD_FILDES: case VG_CLAMD_SCAN: case VG_CLAMD_END:
		case VG_CLAMD_INSTREAM: case VG_CLAMD_VERSION: case VG_CLAMD_PING:
		case VG_CLAMD_STATS: case VG_CLAMD_VERSIONCOMMANDS:
			break;
		default:
			reply(c, term, "Command invalid inside IDSESSION. ERROR");
			return 0;
		}
	}
	if (c->tcp) {
		if (cmd->id == VG_CLAMD_AUTH) {
			if (cd.token && !strcmp(cmd->arg, cd.token)) {
				c->authed = 1;
				reply(c, term, "AUTH OK");
				return !cmd->legacy;
			}
			reply(c, term, "AUTH failed. ERROR");
			return 0;
		}
		if (cd.token && !c->authed) {
			reply(c, term, "AUTH required. ERROR");
			return 0;
		}
		if (cmd->id != VG_CLAMD_PING && cmd->id != VG_CLAMD_INSTREAM &&
		    cmd->id != VG_CLAMD_IDSESSION && cmd->id != VG_CLAMD_END) {
			reply(c, term, "Command not allowed over TCP. ERROR");
			return 0;
		}
	}
	switch (cmd->id) {
	case VG_CLAMD_PING:
		reply(c, term, "PONG");
		break;
	case VG_CLAMD_VERSION:
		if (!cd.en_version) {
			reply(c, term, "COMMAND UNAVAILABLE");
			return 0;
		}
		version_text(v, sizeof v);
		reply(c, term, "%s", v);
		break;
	case VG_CLAMD_VERSIONCOMMANDS:
		version_text(v, sizeof v);
		reply(c, term, "%s| COMMANDS: SCAN QUIT RELOAD PING CONTSCAN VERSIONCOMMANDS"
		      " VERSION END SHUTDOWN MULTISCAN FILDES STATS IDSESSION INSTREAM"
		      " ALLMATCHSCAN", v);
		break;
	case VG_CLAMD_RELOAD:
		if (!cd.en_reload) {
			reply(c, term, "COMMAND UNAVAILABLE");
			return 0;
		}
		reply(c, term, "RELOADING");
		vg_log(VG_LOG_INFO, "RELOAD from uid %u", (unsigned)c->peer.uid);
		vg_pool_reload(cd.d->pool, 0, NULL, 0);
		return 0;
	case VG_CLAMD_SHUTDOWN:
		if (!cd.en_shutdown || c->tcp ||
		    !(c->peer.uid == 0 || (cd.nallow_uid && peer_is_allowed(&c->peer)))) {
			reply(c, term, "COMMAND UNAVAILABLE");
			return 0;
		}
		vg_log(VG_LOG_INFO, "SHUTDOWN from uid %u", (unsigned)c->peer.uid);
		cd.d->request_stop();
		return 0;
	case VG_CLAMD_STATS:
		if (!cd.en_stats) {
			reply(c, term, "COMMAND UNAVAILABLE");
			return 0;
		}
		cmd_stats(c, term);
		break;
	case VG_CLAMD_ALLMATCHSCAN:
		if (!cd.en_allmatch) {
			reply(c, term, "%s: ALLMATCHSCAN command disabled by vigild configuration. ERROR",
			      cmd->arg);
			return 0;
		}
		/* fall through */
	case VG_CLAMD_SCAN:
	case VG_CLAMD_CONTSCAN:
	case VG_CLAMD_MULTISCAN:
		cmd_path_scan(c, cmd);
		break;
	case VG_CLAMD_INSTREAM:
		if (cmd_instream(c, term) != 0)
			return 0;
		break;
	case VG_CLAMD_FILDES:
		if (cmd_fildes(c, term) != 0)
			return 0;
		break;
	case VG_CLAMD_IDSESSION:
		if (c->session || cmd->legacy) {
			reply(c, term, "UNKNOWN COMMAND");
			return 0;
		}
		c->session = 1;
		c->id = 0;
		return 1;
	case VG_CLAMD_END:
		if (!c->session)
			reply(c, term, "UNKNOWN COMMAND");
		return 0;
	case VG_CLAMD_AUTH:
		reply(c, term, "AUTH is for TCP clients. ERROR");
		return 0;
	default:
		count(&cd.unknown);
		reply(c, term, "UNKNOWN COMMAND");
		return 0;
	}
	return c->session && !c->closing;
}

/* --- threads ----------------------------------------------------- */

static void *command_thread(void *arg)
{
	(void)arg;
	for (;;) {
		conn *c;
		int keep = 1;

		pthread_mutex_lock(&cd.mu);
		while (!cd.qhead && !cd.stop)
			pthread_cond_wait(&cd.cv, &cd.mu);
		if (!cd.qhead) {
			pthread_mutex_unlock(&cd.mu);
			break;
		}
		c = cd.qhead;
		cd.qhead = c->qnext;
		if (!cd.qhead)
			cd.qtail = NULL;
		cd.busy_threads++;
		pthread_mutex_unlock(&cd.mu);

		/* every whole command already in the buffer (pipelining) */
		for (;;) {
			long n = vg_clamd_frame(c->buf, c->len, cd.max_cmd);
			vg_clamd_cmd cmd;
			if (n == 0)
				break;
			if (n < 0) {
				count(&cd.too_long);
				reply(c, '\n', "Command too long. ERROR");
				keep = 0;
				break;
			}
			{
				uint8_t line[n > 8192 ? 1 : 8192];
				uint8_t *copy = (size_t)n <= sizeof line ? line : malloc((size_t)n);
				if (!copy) {
					keep = 0;
					break;
				}
				memcpy(copy, c->buf, (size_t)n);
				consume(c, (size_t)n);
				vg_clamd_parse(copy, (size_t)n, &cmd);
				keep = run_command(c, &cmd) && !cmd.legacy;
				if (copy != line)
					free(copy);
			}
			if (!keep || c->closing)
				break;
		}
		pthread_mutex_lock(&cd.mu);
		cd.busy_threads--;
		if (keep && !c->closing && !cd.stop) {
			/* back to the listener for the next command */
			c->deadline = vg_now_ms() + cd.idle_ms;
			c->qnext = cd.back;
			cd.back = c;
			pthread_mutex_unlock(&cd.mu);
			uint64_t one = 1;
			if (write(cd.wakefd, &one, sizeof one) < 0) {
				/* the listener is awake anyway */
			}
		} else {
			pthread_mutex_unlock(&cd.mu);
			conn_free(c);
		}
	}
	return NULL;
}

static void idle_add(conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	c->prev = NULL;
	c->next = cd.idle;
	if (cd.idle)
		cd.idle->prev = c;
	cd.idle = c;
	epoll_ctl(cd.epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

static void idle_remove(conn *c)
{
	epoll_ctl(cd.epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->prev)
		c->prev->next = c->next;
	else
		cd.idle = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

static void enqueue_command(conn *c)
{
	pthread_mutex_lock(&cd.mu);
	c->qnext = NULL;
	if (cd.qtail)
		cd.qtail->qnext = c;
	else
		cd.qhead = c;
	cd.qtail = c;
	pthread_cond_signal(&cd.cv);
	pthread_mutex_unlock(&cd.mu);
}

static int tcp_allowed(struct in_addr a)
{
	uint32_t ip = ntohl(a.s_addr);
	for (unsigned i = 0; i < cd.nnet; i++)
		if ((ip & cd.mask[i]) == cd.net[i])
			return 1;
	return 0;
}

static void accept_one(int lfd, int tcp)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof sa;
	int fd = accept4(lfd, tcp ? (struct sockaddr *)&sa : NULL,
	                 tcp ? &salen : NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	conn *c;

	if (fd < 0)
		return;
	count(&cd.accepted);
	pthread_mutex_lock(&cd.mu);
	if (cd.nconns >= cd.max_conns) {
		cd.refused_full++;
		pthread_mutex_unlock(&cd.mu);
		send(fd, "Too many connections. ERROR\n", 28, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	cd.nconns++;
	pthread_mutex_unlock(&cd.mu);
	if (!(c = calloc(1, sizeof *c)) || !(c->buf = malloc(cd.max_cmd))) {
		free(c);
		close(fd);
		pthread_mutex_lock(&cd.mu);
		cd.nconns--;
		pthread_mutex_unlock(&cd.mu);
		return;
	}
	c->fd = fd;
	c->tcp = tcp;
	if (tcp) {
		c->addr = sa.sin_addr;
		if (!tcp_allowed(sa.sin_addr)) {
			count(&cd.refused_access);
			vg_log(VG_LOG_WARNING, "TCP client %s refused", inet_ntoa(sa.sin_addr));
			conn_free(c);
			return;
		}
	} else if (vg_peer_get(fd, &c->peer) != 0 || !peer_is_allowed(&c->peer)) {
		count(&cd.refused_access);
		vg_log(VG_LOG_WARNING, "clamd socket: uid %u refused", (unsigned)c->peer.uid);
		send(fd, "Access denied. ERROR\n", 21, MSG_NOSIGNAL | MSG_DONTWAIT);
		conn_free(c);
		return;
	}
	c->deadline = vg_now_ms() + cd.cmd_ms;
	idle_add(c);
}

static void *listener_thread(void *arg)
{
	struct epoll_event evs[64];

	(void)arg;
	while (!cd.stop) {
		int n = epoll_wait(cd.epfd, evs, 64, 250);
		long long now;
		conn *back;

		pthread_mutex_lock(&cd.mu);
		cd.beat++;
		back = cd.back;
		cd.back = NULL;
		pthread_mutex_unlock(&cd.mu);
		while (back) {
			conn *next = back->qnext;
			/* pipelined bytes may hold the next command already */
			if (back->len && vg_clamd_frame(back->buf, back->len, cd.max_cmd) != 0)
				enqueue_command(back);
			else
				idle_add(back);
			back = next;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &cd.lfd) {
				accept_one(cd.lfd, 0);
			} else if (p == &cd.wakefd) {
				uint64_t v;
				if (read(cd.wakefd, &v, sizeof v) < 0) {
					/* spurious */
				}
			} else if (p >= (void *)&cd.tfd[0] && p < (void *)&cd.tfd[MAX_TCP]) {
				accept_one(*(int *)p, 1);
			} else {
				conn *c = p;
				ssize_t r = fill(c);
				long fr;
				if (r == 0 || r == -1) {
					idle_remove(c);
					conn_free(c);
					continue;
				}
				fr = vg_clamd_frame(c->buf, c->len, cd.max_cmd);
				if (fr != 0) {
					/* a whole command, or one too long to ever end */
					idle_remove(c);
					enqueue_command(c);
				}
			}
		}
		now = vg_now_ms();
		for (conn *c = cd.idle, *next; c; c = next) {
			next = c->next;
			if (c->deadline > now)
				continue;
			count(&cd.timeouts);
			idle_remove(c);
			send(c->fd, "COMMAND READ TIMED OUT\n", 23, MSG_NOSIGNAL | MSG_DONTWAIT);
			conn_free(c);
		}
	}
	while (cd.idle) {
		conn *c = cd.idle;
		idle_remove(c);
		conn_free(c);
	}
	return NULL;
}

/* --- configuration and life cycle -------------------------------- */

static int parse_net(const char *s, uint32_t *net, uint32_t *mask)
{
	char ip[64];
	const char *slash = strchr(s, '/');
	unsigned bits = 32;
	struct in_addr a;

	if (slash) {
		char *end;
		unsigned long b = strtoul(slash + 1, &end, 10);
		if (*end || b > 32 || end == slash + 1)
			return -1;
		bits = (unsigned)b;
	}
	snprintf(ip, sizeof ip, "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
	if (inet_pton(AF_INET, ip, &a) != 1)
		return -1;
	*mask = bits ? 0xffffffffu << (32 - bits) : 0;
	*net = ntohl(a.s_addr) & *mask;
	return 0;
}

static int listen_tcp(const char *addr, unsigned port, int backlog,
                      char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, fd;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "TCPAddr %s: not an IPv4 address", addr);
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, backlog) != 0) {
		snprintf(err, errlen, "TCPAddr %s port %u: %s", addr, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int clamd_start(vg_daemon *d, char *err, size_t errlen)
{
	const vg_config *cfg = d->cfg;
	const char *path = vg_conf_str(cfg, VG_CONF_LOCAL_SOCKET);
	const char *group = vg_conf_str(cfg, VG_CONF_LOCAL_SOCKET_GROUP);
	unsigned port = (unsigned)vg_conf_num(cfg, VG_CONF_TCP_SOCKET);
	int backlog = (int)vg_conf_num(cfg, VG_CONF_MAX_CONN_QUEUE);
	gid_t gid = (gid_t)-1;
	struct epoll_event ev;

	cd.d = d;
	if (!*path && !port)
		return 0;
	cd.max_cmd = vg_conf_num(cfg, VG_CONF_MAX_COMMAND_LENGTH);
	cd.stream_max = vg_conf_num(cfg, VG_CONF_STREAM_MAX_LENGTH);
	cd.read_ms = (int)vg_conf_num(cfg, VG_CONF_READ_TIMEOUT);
	cd.cmd_ms = (int)vg_conf_num(cfg, VG_CONF_COMMAND_READ_TIMEOUT);
	cd.idle_ms = (int)vg_conf_num(cfg, VG_CONF_IDLE_TIMEOUT);
	cd.send_ms = (int)vg_conf_num(cfg, VG_CONF_SEND_TIMEOUT);
	cd.max_conns = (unsigned)vg_conf_num(cfg, VG_CONF_MAX_CONNECTIONS);
	cd.threads = (unsigned)vg_conf_num(cfg, VG_CONF_MAX_THREADS);
	cd.incomplete_error = !strcmp(vg_conf_str(cfg, VG_CONF_INCOMPLETE_ANSWER), "error");
	cd.en_shutdown = vg_conf_bool(cfg, VG_CONF_ENABLE_SHUTDOWN);
	cd.en_reload = vg_conf_bool(cfg, VG_CONF_ENABLE_RELOAD);
	cd.en_version = vg_conf_bool(cfg, VG_CONF_ENABLE_VERSION);
	cd.en_stats = vg_conf_bool(cfg, VG_CONF_ENABLE_STATS);
	cd.en_allmatch = vg_conf_bool(cfg, VG_CONF_ALLOW_ALL_MATCH);
	cd.follow_dirs = vg_conf_bool(cfg, VG_CONF_FOLLOW_DIR_SYMLINKS);
	cd.follow_files = vg_conf_bool(cfg, VG_CONF_FOLLOW_FILE_SYMLINKS);
	cd.cross_fs = vg_conf_bool(cfg, VG_CONF_CROSS_FILESYSTEMS);
	cd.max_depth = (unsigned)vg_conf_num(cfg, VG_CONF_MAX_DIR_RECURSION);
	cd.loaded_at = time(NULL);
	for (size_t i = 0; i < vg_conf_list_count(cfg, VG_CONF_ALLOW_USER); i++) {
		const char *u = vg_conf_list(cfg, VG_CONF_ALLOW_USER, i);
		if (cd.nallow_uid >= MAX_ALLOW || vg_lookup_uid(u, &cd.allow_uid[cd.nallow_uid]) != 0) {
			snprintf(err, errlen, "LocalSocketAllowUser %s: no such user (or too many)", u);
			return -1;
		}
		cd.nallow_uid++;
	}
	for (size_t i = 0; i < vg_conf_list_count(cfg, VG_CONF_ALLOW_GROUP); i++) {
		const char *g = vg_conf_list(cfg, VG_CONF_ALLOW_GROUP, i);
		if (cd.nallow_gid >= MAX_ALLOW || vg_lookup_gid(g, &cd.allow_gid[cd.nallow_gid]) != 0) {
			snprintf(err, errlen, "LocalSocketAllowGroup %s: no such group (or too many)", g);
			return -1;
		}
		cd.nallow_gid++;
	}
	for (size_t i = 0; i < vg_conf_list_count(cfg, VG_CONF_TCP_ALLOW); i++) {
		const char *s = vg_conf_list(cfg, VG_CONF_TCP_ALLOW, i);
		if (cd.nnet >= MAX_ALLOW || parse_net(s, &cd.net[cd.nnet], &cd.mask[cd.nnet]) != 0) {
			snprintf(err, errlen, "TCPAllowNetwork %s: not a.b.c.d/n", s);
			return -1;
		}
		cd.nnet++;
	}
	if (!cd.nnet)
		parse_net("127.0.0.0/8", &cd.net[cd.nnet++], &cd.mask[0]);
	if (*vg_conf_str(cfg, VG_CONF_TCP_TOKEN))
		cd.token = strdup(vg_conf_str(cfg, VG_CONF_TCP_TOKEN));
	if (*group && vg_lookup_gid(group, &gid) != 0) {
		snprintf(err, errlen, "LocalSocketGroup %s: no such group", group);
		return -1;
	}
	cd.epfd = epoll_create1(EPOLL_CLOEXEC);
	cd.wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev.events = EPOLLIN;
	ev.data.ptr = &cd.wakefd;
	epoll_ctl(cd.epfd, EPOLL_CTL_ADD, cd.wakefd, &ev);
	if (*path) {
		cd.lfd = vg_listen_unix(path, (mode_t)vg_conf_num(cfg, VG_CONF_LOCAL_SOCKET_MODE),
		                        gid, backlog, vg_conf_bool(cfg, VG_CONF_FIX_STALE_SOCKET),
		                        err, errlen);
		if (cd.lfd < 0)
			return -1;
		cd.unix_path = strdup(path);
		ev.data.ptr = &cd.lfd;
		epoll_ctl(cd.epfd, EPOLL_CTL_ADD, cd.lfd, &ev);
	}
	if (port) {
		size_t n = vg_conf_list_count(cfg, VG_CONF_TCP_ADDR);
		for (size_t i = 0; i < (n ? n : 1) && cd.ntcp < MAX_TCP; i++) {
			const char *a = n ? vg_conf_list(cfg, VG_CONF_TCP_ADDR, i) : "127.0.0.1";
			int fd = listen_tcp(a, port, backlog, err, errlen);
			if (fd < 0)
				return -1;
			cd.tfd[cd.ntcp] = fd;
			ev.data.ptr = &cd.tfd[cd.ntcp];
			epoll_ctl(cd.epfd, EPOLL_CTL_ADD, fd, &ev);
			cd.ntcp++;
		}
	}
	if (!(cd.workers = calloc(cd.threads, sizeof *cd.workers)))
		return -1;
	for (unsigned i = 0; i < cd.threads; i++) {
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 512 * 1024);
		if (pthread_create(&cd.workers[i], &at, command_thread, NULL) != 0) {
			snprintf(err, errlen, "command threads: %s", strerror(errno));
			pthread_attr_destroy(&at);
			return -1;
		}
		pthread_attr_destroy(&at);
	}
	if (pthread_create(&cd.listener, NULL, listener_thread, NULL) != 0) {
		snprintf(err, errlen, "listener: %s", strerror(errno));
		return -1;
	}
	vg_log(VG_LOG_INFO, "clamd protocol on %s%s%s", *path ? path : "",
	       port ? " and TCP port " : "", port ? "(see TCPAddr)" : "");
	return 0;
}

static void clamd_stop(void)
{
	if (cd.epfd < 0)
		return;
	pthread_mutex_lock(&cd.mu);
	cd.stop = 1;
	pthread_cond_broadcast(&cd.cv);
	pthread_mutex_unlock(&cd.mu);
	if (cd.listener)
		pthread_join(cd.listener, NULL);
	for (unsigned i = 0; cd.workers && i < cd.threads; i++)
		if (cd.workers[i])
			pthread_join(cd.workers[i], NULL);
	while (cd.qhead) {
		conn *c = cd.qhead;
		cd.qhead = c->qnext;
		conn_free(c);
	}
	while (cd.back) {
		conn *c = cd.back;
		cd.back = c->qnext;
		conn_free(c);
	}
	if (cd.lfd >= 0)
		close(cd.lfd);
	for (int i = 0; i < cd.ntcp; i++)
		close(cd.tfd[i]);
	if (cd.unix_path)
		unlink(cd.unix_path);
	free(cd.unix_path);
	free(cd.token);
	free(cd.workers);
	close(cd.epfd);
	close(cd.wakefd);
	cd.epfd = -1;
}

static void clamd_stats(json_t *o)
{
	pthread_mutex_lock(&cd.mu);
	json_object_set_new(o, "clamd", json_pack(
		"{s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"connections", (int)cd.nconns, "busy_threads", (int)cd.busy_threads,
		"accepted", (json_int_t)cd.accepted,
		"refused_full", (json_int_t)cd.refused_full,
		"refused_access", (json_int_t)cd.refused_access,
		"commands", (json_int_t)cd.commands, "timeouts", (json_int_t)cd.timeouts,
		"too_long", (json_int_t)cd.too_long, "unknown", (json_int_t)cd.unknown,
		"found", (json_int_t)cd.found, "clean", (json_int_t)cd.clean,
		"errors", (json_int_t)cd.errors, "streams", (json_int_t)cd.streams));
	pthread_mutex_unlock(&cd.mu);
}

static uint64_t clamd_heartbeat(void)
{
	uint64_t v;
	if (cd.epfd < 0)
		return 0;
	pthread_mutex_lock(&cd.mu);
	v = cd.beat;
	pthread_mutex_unlock(&cd.mu);
	return v;
}

const vg_service vg_service_clamd = {
	"clamd", clamd_start, clamd_stop, clamd_stats, clamd_heartbeat,
};
