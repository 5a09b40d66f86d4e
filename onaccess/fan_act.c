/*
 * fan_act.c - on-access remediation (OnAccessAction quarantine): a
 * detected file goes into the vault through libvigil's
 * vigil_quarantine_act, with the event's own descriptor, from one
 * thread of the supervisor.
 *
 * Why the supervisor and not the worker that scanned the file: workers
 * run as nobody with no new privileges, and the action must unlink from
 * any watched directory and write the root-only vault with its key; a
 * worker that a hostile file may have taken over must get neither. The
 * supervisor still parses no scanned byte: the action only copies the
 * bytes through SHA-256 and the vault's cipher. Why a thread of its own:
 * a copy and two fsyncs must not hold the event loop (the deadlines) or
 * the pool thread (the scans). Its own file accesses (the vault may sit
 * on a watched filesystem) come from vigild's pid, which the event
 * thread answers at once. The queue is bounded (FAN_ACT_QUEUE): a
 * detection past it is left in place and logged with the reason.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onaccess/fan.h"
#include "onaccess/log.h"
#include "vigil/quarantine.h"

/* detections waiting for the action: each holds a descriptor and a
 * reply (about 70 KB) */
#define FAN_ACT_QUEUE 64

typedef struct act_job {
	struct act_job *next;
	int fd;
	char *path, *root, *exe, *answer;
	pid_t pid;
	fan_kind kind;
	vg_reply reply;
} act_job;

static struct {
	vigil_quarantine *q;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	act_job *head, *tail;
	unsigned queued;
	int running, stop;
	atomic_uint_fast64_t done, failed;
} act = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void job_free(act_job *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	free(j->root);
	free(j->exe);
	free(j->answer);
	free(j);
}

/* The worker's reply as the library's result. */
static vigil_result *result_of(const vg_reply *r)
{
	vigil_result *res = vigil_result_new((vigil_verdict)r->verdict, r->sha256, r->size);

	for (size_t i = 0; res && i < r->nfindings; i++) {
		const vg_reply_finding *f = &r->findings[i];
		if (vigil_result_add_finding(res, f->stage, f->name, f->layer,
		                             (vigil_verdict)f->verdict, f->score,
		                             f->detail) != VIGIL_OK) {
			vigil_result_free(res);
			res = NULL;
		}
	}
	return res;
}

static void run(act_job *j)
{
	char id[VIGIL_QUARANTINE_ID_SIZE] = "";
	vigil_result *res = result_of(&j->reply);
	vigil_error e;

	if (!res) {
		atomic_fetch_add(&act.failed, 1);
		fan_log_event(j->path, &j->reply, j->pid, j->exe, j->kind, j->answer, NULL,
		              "out of memory");
		return;
	}
	if (!j->root)
		e = VIGIL_EUNSAFE;
	else
		e = vigil_quarantine_act(act.q, VIGIL_ACTION_QUARANTINE, j->fd, j->root,
		                         j->path, res, id);
	vigil_result_free(res);
	if (e == VIGIL_OK) {
		atomic_fetch_add(&act.done, 1);
		vg_log(VG_LOG_WARNING, "on-access: %s: quarantined as %s in %s", j->path, id,
		       vigil_quarantine_dir(act.q));
		fan_log_event(j->path, &j->reply, j->pid, j->exe, j->kind, "quarantine", id,
		              NULL);
	} else {
		const char *why = j->root ? vigil_quarantine_last_error(act.q)
		                          : "not under a watched path";
		atomic_fetch_add(&act.failed, 1);
		vg_log(VG_LOG_ERR, "on-access: %s: quarantine failed (%s): %s", j->path,
		       vigil_strerror(e), why);
		fan_log_event(j->path, &j->reply, j->pid, j->exe, j->kind, j->answer, NULL,
		              *why ? why : vigil_strerror(e));
	}
}

static void *act_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&act.mu);
	for (;;) {
		act_job *j;
		while (!act.head && !act.stop)
			pthread_cond_wait(&act.cv, &act.mu);
		if (!(j = act.head))
			break;
		act.head = j->next;
		if (!act.head)
			act.tail = NULL;
		act.queued--;
		pthread_mutex_unlock(&act.mu);
		/* stopping: what is queued still goes to the vault, in order */
		run(j);
		job_free(j);
		pthread_mutex_lock(&act.mu);
	}
	pthread_mutex_unlock(&act.mu);
	return NULL;
}

int fan_act_start(const vg_config *cfg, char *err, size_t errlen)
{
	const char *dir = vg_conf_str(cfg, VG_CONF_QUARANTINE_DIR);
	vigil_error e;

	if ((e = vigil_quarantine_new(*dir ? dir : NULL, &act.q)) != VIGIL_OK ||
	    (e = vigil_quarantine_set_max_size(act.q, vg_conf_num(cfg,
	                                       VG_CONF_QUARANTINE_MAX_SIZE))) != VIGIL_OK ||
	    (e = vigil_quarantine_set_agent(act.q, "vigild " PACKAGE_VERSION)) != VIGIL_OK) {
		snprintf(err, errlen, "quarantine: %s", vigil_strerror(e));
		return -1;
	}
	/* a vault that cannot be used is a start-up error, not a surprise at
	 * the first detection */
	if ((e = vigil_quarantine_check(act.q)) != VIGIL_OK) {
		snprintf(err, errlen, "OnAccessAction quarantine: %s",
		         *vigil_quarantine_last_error(act.q)
		         ? vigil_quarantine_last_error(act.q) : vigil_strerror(e));
		vigil_quarantine_free(act.q);
		act.q = NULL;
		return -1;
	}
	act.stop = 0;
	if (pthread_create(&act.thread, NULL, act_thread, NULL) != 0) {
		snprintf(err, errlen, "quarantine thread: %s", strerror(errno));
		vigil_quarantine_free(act.q);
		act.q = NULL;
		return -1;
	}
	act.running = 1;
	vg_log(VG_LOG_INFO, "on-access: detected files are quarantined in %s",
	       vigil_quarantine_dir(act.q));
	return 0;
}

int fan_act_submit(int fd, const char *path, const char *root, pid_t pid,
                   const char *exe, fan_kind kind, const char *answer,
                   const vg_reply *r)
{
	act_job *j;

	if (!act.running)
		return -1;
	if (!(j = calloc(1, sizeof *j)))
		return -1;
	j->fd = -1;
	if (!(j->path = strdup(path)) || (root && !(j->root = strdup(root))) ||
	    !(j->exe = strdup(exe ? exe : "")) || !(j->answer = strdup(answer))) {
		job_free(j);
		return -1;
	}
	j->pid = pid;
	j->kind = kind;
	vg_reply_copy(&j->reply, r);
	pthread_mutex_lock(&act.mu);
	if (act.stop || act.queued >= FAN_ACT_QUEUE) {
		pthread_mutex_unlock(&act.mu);
		job_free(j);
		return -1;
	}
	j->fd = fd; /* ours from here on */
	if (act.tail)
		act.tail->next = j;
	else
		act.head = j;
	act.tail = j;
	act.queued++;
	pthread_cond_signal(&act.cv);
	pthread_mutex_unlock(&act.mu);
	return 0;
}

void fan_act_stop(void)
{
	if (act.running) {
		pthread_mutex_lock(&act.mu);
		act.stop = 1;
		pthread_cond_signal(&act.cv);
		pthread_mutex_unlock(&act.mu);
		pthread_join(act.thread, NULL);
		act.running = 0;
	}
	vigil_quarantine_free(act.q);
	act.q = NULL;
}

void fan_act_stats(uint64_t *quarantined, uint64_t *failed)
{
	*quarantined = atomic_load(&act.done);
	*failed = atomic_load(&act.failed);
}
