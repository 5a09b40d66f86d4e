/*
 * log.c - the bounded log queue and its thread (see log.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "onaccess/log.h"
#include "vigil/vigil.h"

#define LINE_MAX_BYTES 2048

typedef struct vg_log_entry {
	int level;    /* -1: an event line for the event file */
	char *text;
} vg_log_entry;

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int running, stop, reopen;
	vg_log_entry *ring;
	unsigned cap, head, count;
	uint64_t dropped, dropped_reported;
	vg_log_config cfg;
	char *file, *event_file;
	int fd, event_fd;
} lg = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
         .fd = -1, .event_fd = -1 };

static const char *level_name(int level)
{
	switch (level) {
	case VG_LOG_ERR: return "ERROR";
	case VG_LOG_WARNING: return "WARNING";
	case VG_LOG_INFO: return "INFO";
	default: return "DEBUG";
	}
}

static int open_append(const char *path)
{
	return path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640)
	            : -1;
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void emit(const vg_log_entry *e)
{
	char line[LINE_MAX_BYTES + 128];
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	int n;

	if (e->level < 0) {
		if (lg.event_fd >= 0) {
			write_all(lg.event_fd, e->text, strlen(e->text));
			write_all(lg.event_fd, "\n", 1);
		}
		return;
	}
	localtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(line, sizeof line, "%s vigild[%d]: %s: %s\n", stamp,
	             (int)getpid(), level_name(e->level), e->text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line)
		n = (int)sizeof line - 1;
	if (lg.fd >= 0)
		write_all(lg.fd, line, (size_t)n);
	if (lg.cfg.use_stderr)
		write_all(2, line + 20, (size_t)n - 20); /* no time stamp */
	if (lg.cfg.use_syslog)
		syslog(e->level, "%s", e->text);
}

static void *log_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lg.mu);
	for (;;) {
		while (!lg.count && !lg.stop && !lg.reopen)
			pthread_cond_wait(&lg.cv, &lg.mu);
		if (lg.reopen) {
			int fd = open_append(lg.file), efd = open_append(lg.event_file);
			lg.reopen = 0;
			if (fd >= 0 || !lg.file) {
				if (lg.fd >= 0)
					close(lg.fd);
				lg.fd = fd;
			}
			if (efd >= 0 || !lg.event_file) {
				if (lg.event_fd >= 0)
					close(lg.event_fd);
				lg.event_fd = efd;
			}
		}
		if (!lg.count && lg.stop)
			break;
		while (lg.count) {
			vg_log_entry e = lg.ring[lg.head];
			uint64_t lost = lg.dropped - lg.dropped_reported;
			lg.head = (lg.head + 1) % lg.cap;
			lg.count--;
			lg.dropped_reported = lg.dropped;
			/* write without the lock: a slow write blocks no caller */
			pthread_mutex_unlock(&lg.mu);
			if (lost) {
				char msg[96];
				vg_log_entry d = { VG_LOG_WARNING, msg };
				snprintf(msg, sizeof msg, "log queue full: %llu lines dropped",
				         (unsigned long long)lost);
				emit(&d);
			}
			emit(&e);
			free(e.text);
			pthread_mutex_lock(&lg.mu);
		}
	}
	pthread_mutex_unlock(&lg.mu);
	return NULL;
}

int vg_log_open(const vg_log_config *cfg)
{
	int fd = -1, efd = -1;

	if ((cfg->file && (fd = open_append(cfg->file)) < 0) ||
	    (cfg->event_file && (efd = open_append(cfg->event_file)) < 0)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
	pthread_mutex_lock(&lg.mu);
	lg.cfg = *cfg;
	lg.cap = cfg->queue ? cfg->queue : 4096;
	lg.ring = calloc(lg.cap, sizeof *lg.ring);
	lg.file = cfg->file ? strdup(cfg->file) : NULL;
	lg.event_file = cfg->event_file ? strdup(cfg->event_file) : NULL;
	lg.fd = fd;
	lg.event_fd = efd;
	lg.stop = 0;
	pthread_mutex_unlock(&lg.mu);
	if (!lg.ring) {
		errno = ENOMEM;
		return -1;
	}
	if (cfg->use_syslog)
		openlog("vigild", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	if (pthread_create(&lg.thread, NULL, log_thread, NULL) != 0)
		return -1;
	lg.running = 1;
	return 0;
}

void vg_log_close(void)
{
	if (!lg.running)
		return;
	pthread_mutex_lock(&lg.mu);
	lg.stop = 1;
	pthread_cond_signal(&lg.cv);
	pthread_mutex_unlock(&lg.mu);
	pthread_join(lg.thread, NULL);
	pthread_mutex_lock(&lg.mu);
	lg.running = 0;
	if (lg.fd >= 0)
		close(lg.fd);
	if (lg.event_fd >= 0)
		close(lg.event_fd);
	lg.fd = lg.event_fd = -1;
	free(lg.ring);
	free(lg.file);
	free(lg.event_file);
	lg.ring = NULL;
	lg.file = lg.event_file = NULL;
	pthread_mutex_unlock(&lg.mu);
	if (lg.cfg.use_syslog)
		closelog();
}

void vg_log_reopen(void)
{
	pthread_mutex_lock(&lg.mu);
	lg.reopen = 1;
	pthread_cond_signal(&lg.cv);
	pthread_mutex_unlock(&lg.mu);
}

static void enqueue(int level, char *text)
{
	pthread_mutex_lock(&lg.mu);
	if (!lg.running) {
		pthread_mutex_unlock(&lg.mu);
		if (level >= 0)
			fprintf(stderr, "vigild: %s: %s\n", level_name(level), text);
		free(text);
		return;
	}
	if (lg.count == lg.cap) {
		lg.dropped++;
		pthread_mutex_unlock(&lg.mu);
		free(text);
		return;
	}
	lg.ring[(lg.head + lg.count) % lg.cap] = (vg_log_entry){ level, text };
	lg.count++;
	pthread_cond_signal(&lg.cv);
	pthread_mutex_unlock(&lg.mu);
}

void vg_log(vg_log_level level, const char *fmt, ...)
{
	char *text = malloc(LINE_MAX_BYTES);
	va_list ap;

	if (level == VG_LOG_DEBUG && !lg.cfg.verbose)
		goto out;
	if (!text) {
		pthread_mutex_lock(&lg.mu);
		lg.dropped++;
		pthread_mutex_unlock(&lg.mu);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text, LINE_MAX_BYTES, fmt, ap);
	va_end(ap);
	/* one line per entry: a file name with a newline cannot forge one */
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	enqueue(level, text);
	return;
out:
	free(text);
}

void vg_log_event(const char *source, const char *path, const vg_reply *r,
                  const char *extra_json)
{
	json_t *o, *findings;
	char stamp[40];
	struct timespec ts;
	struct tm tm;
	char *text;

	if (lg.event_fd < 0 && !lg.event_file)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	findings = json_array();
	for (size_t i = 0; i < r->nfindings; i++) {
		const vg_reply_finding *f = &r->findings[i];
		json_array_append_new(findings, json_pack(
			"{s:s, s:s, s:s, s:s, s:f, s:s}", "stage", f->stage,
			"name", f->name, "layer", f->layer,
			"verdict", vigil_verdict_name((vigil_verdict)f->verdict),
			"score", f->score, "detail", f->detail));
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:s, s:b, s:I, s:I}",
	              "time", stamp, "source", source, "path", path ? path : "",
	              "verdict", vigil_verdict_name((vigil_verdict)r->verdict),
	              "findings", findings, "sha256", r->sha256,
	              "size", (json_int_t)r->size, "type", r->type,
	              "cached", r->cached, "time_us", (json_int_t)r->time_us,
	              "bytes_scanned", (json_int_t)r->bytes_scanned);
	if (!o)
		return;
	if (extra_json) {
		json_t *extra = json_loads(extra_json, 0, NULL);
		if (json_is_object(extra))
			json_object_update(o, extra);
		json_decref(extra);
	}
	text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (text)
		enqueue(-1, text);
}

uint64_t vg_log_dropped(void)
{
	uint64_t v;
	pthread_mutex_lock(&lg.mu);
	v = lg.dropped;
	pthread_mutex_unlock(&lg.mu);
	return v;
}
