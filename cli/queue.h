/*
 * queue.h - the bounded queue of paths between the walker and the scan
 * workers. Its slots keep their buffers, so a long walk allocates only
 * when a path longer than any before it comes along.
 */
#ifndef VIGIL_CLI_QUEUE_H
#define VIGIL_CLI_QUEUE_H

#include <stddef.h>

typedef struct vg_queue vg_queue;

/* A queue of at most capacity paths; NULL when out of memory. */
vg_queue *vg_queue_new(size_t capacity);
void vg_queue_free(vg_queue *q);

/*
 * Adds a path, waiting while the queue is full. flags travel with the
 * path. Returns 0, or -1 when out of memory or the queue is closed.
 */
int vg_queue_push(vg_queue *q, const char *path, size_t len, int flags);

/*
 * Takes the oldest path into *buf (grown as needed, *cap its size),
 * waiting while the queue is empty. Returns 1 with a path, 0 when the
 * queue is closed and empty, -1 when out of memory.
 */
int vg_queue_pop(vg_queue *q, char **buf, size_t *cap, int *flags);

/* No more pushes: poppers drain what is left, then get 0. */
void vg_queue_close(vg_queue *q);

#endif /* VIGIL_CLI_QUEUE_H */
