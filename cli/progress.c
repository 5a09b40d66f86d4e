/*
 * progress.c - the progress line (see progress.h).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/progress.h"

#define TICK_MS 200

struct vg_progress {
	vg_out *out;
	char *const *roots;
	int nroots;
	vg_walk_opts walk;
	atomic_int stop;            /* ends the counting walk */
	atomic_ullong counted;      /* files found by the counting walk */
	atomic_int counted_all;     /* the counting walk finished */
	struct timespec t0;

	pthread_mutex_t lock;
	pthread_cond_t wake;
	int done;
	pthread_t drawer, counter;
	int have_counter;
};

static int count_file(void *ud, const char *path, size_t len, int nofollow)
{
	vg_progress *p = ud;

	atomic_fetch_add_explicit(&p->counted, 1, memory_order_relaxed);
	return 0;
}

static void *count_files(void *arg)
{
	static const vg_walk_ops ops = { .file = count_file };
	vg_progress *p = arg;
	vg_walker *w = vg_walker_new(&p->walk, &ops, p);
	int r = 0;

	for (int i = 0; w && r == 0 && i < p->nroots; i++)
		r = vg_walker_run(w, p->roots[i]);
	if (w && r == 0)
		atomic_store(&p->counted_all, 1);
	vg_walker_free(w);
	return NULL;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void draw(vg_progress *p)
{
	double t = seconds_since(&p->t0), mb;
	unsigned long long done;
	struct winsize ws;
	char line[256];
	int n;
	vg_stats s;

	vg_out_stats(p->out, &s);
	done = s.files + s.errors + s.skipped;
	mb = s.bytes_read / (1024.0 * 1024.0);
	n = snprintf(line, sizeof line, "%llu files, %.1f MB, %.1f MB/s, %llu found",
	             done, mb, t > 0 ? mb / t : 0.0,
	             (unsigned long long)(s.malicious + s.suspicious));
	if (atomic_load(&p->counted_all) && done && t > 0) {
		unsigned long long total = atomic_load(&p->counted);
		unsigned long long left = total > done ? total - done : 0;
		unsigned long eta = (unsigned long)(left * t / done);
		snprintf(line + n, sizeof line - (size_t)n,
		         ", %llu%%, ETA %lu:%02lu:%02lu",
		         total ? (done >= total ? 100 : done * 100 / total) : 100,
		         eta / 3600, eta / 60 % 60, eta % 60);
	}
	/* a wrapped line could not be redrawn with a carriage return */
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
	    (size_t)ws.ws_col - 1 < sizeof line)
		line[ws.ws_col - 1] = '\0';
	vg_out_progress(p->out, line);
}

static void *draw_loop(void *arg)
{
	vg_progress *p = arg;
	struct timespec until;

	pthread_mutex_lock(&p->lock);
	while (!p->done) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&p->wake, &p->lock, &until) == ETIMEDOUT &&
		    !p->done) {
			pthread_mutex_unlock(&p->lock);
			draw(p);
			pthread_mutex_lock(&p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

vg_progress *vg_progress_start(vg_out *out, char *const *roots, int nroots,
                               const vg_walk_opts *walk)
{
	vg_progress *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	p->out = out;
	p->roots = roots;
	p->nroots = nroots;
	p->walk = *walk;
	p->walk.stop = &p->stop;
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	if (pthread_create(&p->drawer, NULL, draw_loop, p) != 0) {
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->wake);
		free(p);
		return NULL;
	}
	/* without the count the line just shows no ETA */
	p->have_counter = pthread_create(&p->counter, NULL, count_files, p) == 0;
	return p;
}

void vg_progress_stop(vg_progress *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, 1);
	pthread_mutex_lock(&p->lock);
	p->done = 1;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->drawer, NULL);
	if (p->have_counter)
		pthread_join(p->counter, NULL);
	vg_out_progress(p->out, NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->wake);
	free(p);
}
