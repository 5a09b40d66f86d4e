/*
 * map.c - reading objects into memory.
 *
 * Files up to MMAP_MIN are read into the scanner's reusable buffer: for
 * the small files that make up most trees, one read(2) costs less than
 * setting up and tearing down a mapping, and a file truncated under us
 * cannot raise SIGBUS. Larger files are mapped read-only.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/map.h"

#define MMAP_MIN (64u << 20)      /* map files larger than this */
#define KEEP_BUF (8u << 20)       /* keep a buffer this big between scans */
#define STREAM_CHUNK (256u << 10)

static const uint8_t empty[1];

/* Grows *buf (capacity *cap) to hold need bytes. */
static vigil_error grow(uint8_t **buf, size_t *cap, size_t need)
{
	uint8_t *nb;
	size_t ncap;

	if (need <= *cap)
		return VIGIL_OK;
	ncap = *cap ? *cap : 64 * 1024;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	nb = realloc(*buf, ncap);
	if (!nb)
		return VIGIL_ENOMEM;
	*buf = nb;
	*cap = ncap;
	return VIGIL_OK;
}

/* The buffer to read into: the scanner's own for top-level objects,
 * a private one (freed by vg_unmap) for anything else. */
static vigil_error buffer_for(vigil_scanner *s, vg_map *m, int shared,
                              size_t need, uint8_t **out)
{
	vigil_error err;

	if (shared) {
		err = grow(&s->buf, &s->bufcap, need);
		*out = s->buf;
	} else {
		err = grow(&m->owned, &m->ownedcap, need);
		*out = m->owned;
	}
	return err;
}

/* Reads until EOF or limit bytes; *got gets the count. */
static vigil_error read_all(int fd, uint8_t *dst, size_t limit, size_t *got)
{
	size_t n = 0;

	while (n < limit) {
		ssize_t r = read(fd, dst + n, limit - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return vg_error_from_errno(errno);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*got = n;
	return VIGIL_OK;
}

static vigil_error map_stream(vigil_scanner *s, int fd, uint64_t max,
                              int shared, vg_map *m)
{
	size_t n = 0;
	uint8_t *buf;
	vigil_error err;

	for (;;) {
		size_t got = 0;
		if ((err = buffer_for(s, m, shared, n + STREAM_CHUNK, &buf)))
			return err;
		if ((err = read_all(fd, buf + n, STREAM_CHUNK, &got)))
			return err;
		n += got;
		if (n > max)
			return VIGIL_ETOOLARGE;
		if (got < STREAM_CHUNK)
			break;
	}
	m->data = n ? buf : empty;
	m->size = n;
	return VIGIL_OK;
}

vigil_error vg_map_fd(vigil_scanner *s, int fd, int is_reg, uint64_t st_size,
                      uint64_t max, int shared, vg_map *m)
{
	vigil_error err;
	uint8_t *buf;
	size_t got;

	memset(m, 0, sizeof *m);
	m->shared = shared;
	if (!is_reg)
		return map_stream(s, fd, max, shared, m);
	if (st_size > max || st_size > SIZE_MAX)
		return VIGIL_ETOOLARGE;
	if (st_size == 0) {
		m->data = empty;
		return VIGIL_OK;
	}
	if (st_size > MMAP_MIN) {
		void *p = mmap(NULL, (size_t)st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			return vg_error_from_errno(errno);
		madvise(p, (size_t)st_size, MADV_SEQUENTIAL | MADV_WILLNEED);
		m->mapped = p;
		m->data = p;
		m->size = (size_t)st_size;
		return VIGIL_OK;
	}
	if ((err = buffer_for(s, m, shared, (size_t)st_size, &buf)))
		return err;
	/* pread from 0: the caller's offset is not ours to move. A file
	 * that shrank since fstat is scanned as it is now. */
	got = 0;
	while (got < st_size) {
		ssize_t r = pread(fd, buf + got, (size_t)st_size - got, (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return vg_error_from_errno(errno);
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	m->data = got ? buf : empty;
	m->size = got;
	return VIGIL_OK;
}

void vg_unmap(vigil_scanner *s, vg_map *m)
{
	if (m->mapped)
		munmap(m->mapped, m->size);
	free(m->owned);
	if (m->shared && s->bufcap > KEEP_BUF) {
		free(s->buf);
		s->buf = NULL;
		s->bufcap = 0;
	}
	memset(m, 0, sizeof *m);
}

int vg_write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
