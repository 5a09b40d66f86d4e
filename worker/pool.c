/*
 * pool.c - the engine's unpacking workers: vigil-unpackd processes
 * started with posix_spawn (a library must not fork the process that
 * embeds it), configured once, then reused job after job. A worker that
 * crashed, ran out of time or memory, or broke the protocol is reaped
 * and the next job starts a new one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unpackers/clamav.h"
#include "worker/proto.h"
#include "worker/worker.h"

extern char **environ;

/* Idle workers kept for the next job; the rest are stopped. */
#define POOL_IDLE_MAX 16
/* Time a new worker has to load its libraries (and ClamAV databases)
 * and report ready. */
#define READY_TIMEOUT_MS 300000

struct vg_pool {
	pthread_mutex_t mu;
	vg_worker *idle;
	unsigned nidle;
	pid_t owner;             /* the process whose children they are */
	char helper[4096];
	vg_msg config;           /* sent to every new worker */
	/* ClamAV databases held only in memory (bundle parts), written
	 * where the workers can load them from; "" when none */
	char dbdir[4096];
};

int vg_worker_process;

int vg_isolated(const vigil_engine *e)
{
	return !vg_worker_process && e->pool &&
	       !e->options[VIGIL_OPT_NO_ISOLATION];
}

/*
 * A ClamAV database held in a bundle's mapping: libclamav in the
 * workers loads files only (before they confine themselves), so it is
 * written under its name into the pool's private folder (mode 0700),
 * removed with the pool.
 */
static vigil_error write_part(vg_pool *p, const vg_clamav_db *d, char *path,
                              size_t pathlen)
{
	const uint8_t *b = d->data;
	size_t n = d->size;
	int fd;

	if (!p->dbdir[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(p->dbdir, sizeof p->dbdir, "%s/vigil-dbparts-XXXXXX",
		         tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(p->dbdir)) {
			p->dbdir[0] = '\0';
			return vg_error_from_errno(errno);
		}
	}
	snprintf(path, pathlen, "%s/%s", p->dbdir, d->name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return vg_error_from_errno(errno);
	if (vg_write_full(fd, b, n) != 0) {
		int e = errno;
		close(fd);
		return vg_error_from_errno(e);
	}
	return close(fd) == 0 ? VIGIL_OK : vg_error_from_errno(errno);
}

vigil_error vg_pool_new(vigil_engine *e, vg_pool **out)
{
	const vg_clamav *c = vg_clamav_of(e);
	const char *helper = getenv("VIGIL_UNPACKD");
	vg_msg_config *cfg;
	vg_pool *p;

	*out = NULL;
	if (!(p = calloc(1, sizeof *p)))
		return VIGIL_ENOMEM;
	pthread_mutex_init(&p->mu, NULL);
	p->owner = getpid();
	snprintf(p->helper, sizeof p->helper, "%s",
	         helper && *helper ? helper : VG_UNPACKD_PATH);
	/* A daemon without its helper would answer every scan with an
	 * error (and an on-access daemon would let files through): say so
	 * once, when the engine is made, not on every file. An engine that
	 * neither unpacks nor holds ClamAV databases never needs one. */
	if ((!e->options[VIGIL_OPT_NO_UNPACK] || (c && c->compiled)) &&
	    access(p->helper, X_OK) != 0) {
		int e2 = errno;
		vg_pool_free(p);
		return vg_engine_fail(e, VIGIL_EWORKER, "%s: cannot run the "
		                      "unpacking worker: %s (install vigil-unpackd, "
		                      "set VIGIL_UNPACKD, or turn isolation off)",
		                      helper && *helper ? helper : VG_UNPACKD_PATH,
		                      strerror(e2));
	}
	p->config.type = VG_MSG_CONFIG;
	cfg = &p->config.u.config;
	memcpy(cfg->limits, e->limits, sizeof cfg->limits);
	for (int i = 0; i < VIGIL_OPTION_COUNT; i++)
		if (e->options[i])
			cfg->options |= 1u << i;
	if (c && c->compiled) {
		cfg->clamav = 1;
		if (c->dbs > VG_MSG_MAX_DBS) {
			vg_pool_free(p);
			return vg_engine_fail(e, VIGIL_EINVAL, "more than %d ClamAV "
			                      "database files: too many for the "
			                      "unpacking workers", VG_MSG_MAX_DBS);
		}
		for (unsigned i = 0; i < c->dbs; i++) {
			const char *path = c->db[i].path;
			char part[4200];
			if (!path) {
				vigil_error err = write_part(p, &c->db[i], part,
				                             sizeof part);
				if (err != VIGIL_OK) {
					vg_pool_free(p);
					return vg_engine_fail(e, err, "%s: cannot write "
					                      "it for the unpacking "
					                      "workers: %s", c->db[i].name,
					                      strerror(errno));
				}
				path = part;
			}
			if (strlen(path) >= VG_MSG_PATH_MAX) {
				vg_pool_free(p);
				return vg_engine_fail(e, VIGIL_EINVAL, "%s: path too "
				                      "long", path);
			}
			memcpy(cfg->dbs[i], path, strlen(path) + 1); /* fits: checked */
		}
		cfg->ndbs = c->dbs;
	}
	*out = p;
	return VIGIL_OK;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
	(void)st; (void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* A worker's temporary folder, with whatever libclamav left in it
 * (a killed worker cleans up nothing). Never follows symbolic links. */
static void remove_tmpdir(const char *dir)
{
	if (*dir)
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int vg_worker_end(vg_worker *w)
{
	int status = 0;
	pid_t r;

	if (!w)
		return 0;
	if (w->sock >= 0)
		close(w->sock);
	/* a worker that saw its socket close exits at once; give it a
	 * moment so its own end (a crash) is what the status says */
	for (int i = 0; i < 50; i++) {
		r = waitpid(w->pid, &status, WNOHANG);
		if (r != 0)
			break;
		if (i == 49) {
			kill(w->pid, SIGKILL);
			w->killed = 1;
			while ((r = waitpid(w->pid, &status, 0)) < 0 &&
			       errno == EINTR)
				;
			break;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
	/* ECHILD: the embedding process reaps its children itself (or
	 * ignores SIGCHLD); the status is lost, not the worker */
	if (r < 0)
		status = 0;
	remove_tmpdir(w->tmpdir);
	free(w);
	return status;
}

/* Waits for READY; 0 or -1. */
static int wait_ready(vg_worker *w)
{
	struct pollfd pfd = { .fd = w->sock, .events = POLLIN };
	uint8_t *buf = malloc(VG_MSG_MAX);
	vg_msg *m = malloc(sizeof *m);
	int fd = -1, r = -1;

	if (buf && m && poll(&pfd, 1, READY_TIMEOUT_MS) == 1 &&
	    vg_msg_recv(w->sock, buf, m, &fd) == 1 && m->type == VG_MSG_READY)
		r = 0;
	if (fd >= 0)
		close(fd);
	free(buf);
	free(m);
	return r;
}

static vg_worker *spawn(const vg_pool *p, vg_msg *config, char *why,
                        size_t whylen)
{
	const char *tmp = getenv("TMPDIR");
	char *argv[] = { "vigil-unpackd", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	vg_worker *w;
	int sv[2], rc;

	if (!(w = calloc(1, sizeof *w))) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	w->sock = -1;
	snprintf(w->tmpdir, sizeof w->tmpdir, "%s/vigil-unpackd-XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(w->tmpdir)) {
		snprintf(why, whylen, "cannot create %s: %s", w->tmpdir,
		         strerror(errno));
		free(w);
		return NULL;
	}
	snprintf(config->u.config.tmpdir, VG_MSG_PATH_MAX, "%s", w->tmpdir);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(why, whylen, "socketpair: %s", strerror(errno));
		rmdir(w->tmpdir);
		free(w);
		return NULL;
	}
	/* the worker gets its end as descriptor 3, /dev/null for the
	 * standard ones, default signal actions and an empty mask */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], VG_WORKER_FD);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	                                POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&w->pid, p->helper, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	w->sock = sv[0];
	if (rc != 0) {
		snprintf(why, whylen, "cannot start %s: %s", p->helper,
		         strerror(rc));
		close(w->sock);
		rmdir(w->tmpdir);
		free(w);
		return NULL;
	}
	if (vg_msg_send(w->sock, config, -1, 0) != 0 || wait_ready(w)) {
		snprintf(why, whylen, "%s did not start (wrong program, or it "
		         "cannot load the ClamAV databases or confine itself)",
		         p->helper);
		vg_worker_end(w);
		return NULL;
	}
	return w;
}

/* After a fork (a daemon's scan process), the workers belong to the
 * parent: forget them here without touching them. */
static void forget_inherited(vg_pool *p)
{
	while (p->idle) {
		vg_worker *w = p->idle;
		p->idle = w->next;
		close(w->sock);
		free(w);
	}
	p->nidle = 0;
	p->owner = getpid();
}

vg_worker *vg_pool_get(vg_pool *p, char *why, size_t whylen)
{
	vg_worker *w = NULL;
	vg_msg *cfg;

	pthread_mutex_lock(&p->mu);
	if (p->owner != getpid())
		forget_inherited(p);
	if (p->idle) {
		w = p->idle;
		p->idle = w->next;
		p->nidle--;
	}
	pthread_mutex_unlock(&p->mu);
	if (w)
		return w;
	/* the configuration names each worker's folder: a private copy
	 * keeps spawns on two threads apart (the pool's stays read-only) */
	if (!(cfg = malloc(sizeof(vg_msg)))) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	memcpy(cfg, &p->config, sizeof p->config);
	w = spawn(p, cfg, why, whylen);
	free(cfg);
	return w;
}

void vg_pool_put(vg_pool *p, vg_worker *w)
{
	pthread_mutex_lock(&p->mu);
	if (p->owner == getpid() && p->nidle < POOL_IDLE_MAX) {
		w->next = p->idle;
		p->idle = w;
		p->nidle++;
		w = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	vg_worker_end(w);
}

void vg_pool_free(vg_pool *p)
{
	if (!p)
		return;
	if (p->owner != getpid())
		forget_inherited(p);
	while (p->idle) {
		vg_worker *w = p->idle;
		p->idle = w->next;
		vg_worker_end(w);
	}
	if (p->dbdir[0] && p->owner == getpid())
		remove_tmpdir(p->dbdir);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
