/*
 * queue.c - bounded queue of paths (see queue.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli/queue.h"

typedef struct slot {
	char *path;
	size_t len, cap;
	int flags;
} slot;

struct vg_queue {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	slot *slots;
	size_t capacity, head, count;
	/* Sleepers, so a push or pop only signals when someone waits; a
	 * full queue wakes its pusher only once it has drained to half, so
	 * the walker refills in one go instead of one path per wake-up. */
	int push_waiting, pop_waiting;
	int closed;
};

vg_queue *vg_queue_new(size_t capacity)
{
	vg_queue *q = calloc(1, sizeof *q);

	if (!q || !(q->slots = calloc(capacity, sizeof *q->slots))) {
		free(q);
		return NULL;
	}
	q->capacity = capacity;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	return q;
}

void vg_queue_free(vg_queue *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->capacity; i++)
		free(q->slots[i].path);
	free(q->slots);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	free(q);
}

/* Makes *buf hold at least need bytes. */
static int reserve(char **buf, size_t *cap, size_t need)
{
	char *grown;

	if (need <= *cap)
		return 0;
	if (need < 256)
		need = 256;
	if (!(grown = realloc(*buf, need)))
		return -1;
	*buf = grown;
	*cap = need;
	return 0;
}

int vg_queue_push(vg_queue *q, const char *path, size_t len, int flags)
{
	slot *s;
	int r = -1;

	pthread_mutex_lock(&q->lock);
	while (q->count == q->capacity && !q->closed) {
		q->push_waiting++;
		pthread_cond_wait(&q->not_full, &q->lock);
		q->push_waiting--;
	}
	if (q->closed)
		goto out;
	s = &q->slots[(q->head + q->count) % q->capacity];
	if (reserve(&s->path, &s->cap, len + 1) != 0)
		goto out;
	memcpy(s->path, path, len);
	s->path[len] = '\0';
	s->len = len;
	s->flags = flags;
	q->count++;
	if (q->pop_waiting)
		pthread_cond_signal(&q->not_empty);
	r = 0;
out:
	pthread_mutex_unlock(&q->lock);
	return r;
}

int vg_queue_pop(vg_queue *q, char **buf, size_t *cap, int *flags)
{
	slot *s;
	int r = 0;

	pthread_mutex_lock(&q->lock);
	while (q->count == 0 && !q->closed) {
		q->pop_waiting++;
		pthread_cond_wait(&q->not_empty, &q->lock);
		q->pop_waiting--;
	}
	if (q->count == 0)
		goto out;
	s = &q->slots[q->head];
	if (reserve(buf, cap, s->len + 1) != 0) {
		r = -1;
		goto out;
	}
	memcpy(*buf, s->path, s->len + 1);
	*flags = s->flags;
	q->head = (q->head + 1) % q->capacity;
	q->count--;
	if (q->push_waiting && q->count <= q->capacity / 2)
		pthread_cond_signal(&q->not_full);
	r = 1;
out:
	pthread_mutex_unlock(&q->lock);
	return r;
}

void vg_queue_close(vg_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
}
