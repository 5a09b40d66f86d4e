/*
 * bundle_write.c - writing a bundle: parts streamed to a temporary file
 * beside the target, each padded to a page boundary and digested as it
 * goes; then the manifest, the header and an empty signature block;
 * then fsync and rename, so the target is never half written.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/bundle.h"

struct vg_bundle_writer {
	FILE *f;
	char *path, *tmp;
	uint64_t off;             /* bytes written so far */
	vg_bundle_part *parts;
	uint32_t nparts, cap;
	int in_part;
	crypto_generichash_state digest;
	int failed;               /* a write failed: errno kept in err */
	int err;
};

static void wr_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void wr_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void whyf(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void whyf(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* "dir/.name.tmp-XXXXXX" beside path. */
static char *temp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
	const char *base = path + dlen;
	size_t n = dlen + 1 + strlen(base) + 12;
	char *t = malloc(n);

	if (t)
		snprintf(t, n, "%.*s.%s.tmp-XXXXXX", (int)dlen, path, base);
	return t;
}

/* Syncs the directory holding path, so a rename there is durable. */
static int sync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = -1;

	if (!copy)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int vg_write_atomic(const char *path, const void *data, size_t n,
                    unsigned mode)
{
	char *tmp = temp_name(path);
	const uint8_t *p = data;
	int fd, e;

	if (!tmp) {
		errno = ENOMEM;
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		goto fail;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail_fd;
		p += w;
		n -= (size_t)w;
	}
	if (fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0)
		goto fail_fd;
	if (close(fd) != 0) {
		fd = -1;
		goto fail_fd;
	}
	if (rename(tmp, path) != 0)
		goto fail_unlink;
	free(tmp);
	return sync_dir_of(path);
fail_fd:
	e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
fail_unlink:
	e = errno;
	unlink(tmp);
	errno = e;
fail:
	e = errno;
	free(tmp);
	errno = e;
	return -1;
}

vigil_error vg_bundle_writer_open(const char *path, vg_bundle_writer **out,
                                  char *why, size_t whylen)
{
	vg_bundle_writer *w;
	int fd;

	*out = NULL;
	if (vg_sodium_ready() != 0) {
		whyf(why, whylen, "libsodium cannot start");
		return VIGIL_EINTERNAL;
	}
	if (!(w = calloc(1, sizeof *w)) || !(w->path = strdup(path)) ||
	    !(w->tmp = temp_name(path))) {
		if (w)
			free(w->path);
		free(w);
		whyf(why, whylen, "out of memory");
		return VIGIL_ENOMEM;
	}
	if ((fd = mkostemp(w->tmp, O_CLOEXEC)) < 0 ||
	    !(w->f = fdopen(fd, "wb"))) {
		int e = errno;
		whyf(why, whylen, "%s: %s", path, strerror(e));
		if (fd >= 0) {
			close(fd);
			unlink(w->tmp);
		}
		free(w->tmp);
		free(w->path);
		free(w);
		return vg_error_from_errno(e);
	}
	/* the header is written last, over these zeros */
	*out = w;
	return VIGIL_OK;
}

static void put(vg_bundle_writer *w, const void *data, size_t n)
{
	if (w->failed || n == 0)
		return;
	if (fwrite(data, 1, n, w->f) != n) {
		w->failed = 1;
		w->err = errno ? errno : EIO;
		return;
	}
	w->off += n;
}

static void pad_to(vg_bundle_writer *w, uint64_t align)
{
	static const uint8_t zeros[VG_BUNDLE_PAGE];

	while (w->off % align) {
		uint64_t n = align - w->off % align;
		put(w, zeros, n > sizeof zeros ? sizeof zeros : (size_t)n);
		if (w->failed)
			return;
	}
}

vigil_error vg_bundle_part_begin(vg_bundle_writer *w, vg_part_kind kind,
                                 uint32_t flags, const char *name)
{
	vg_bundle_part *p;

	if (w->in_part || strlen(name) >= VG_BUNDLE_NAME_MAX ||
	    w->nparts >= VG_BUNDLE_MAX_PARTS)
		return VIGIL_EINVAL;
	if (w->nparts == w->cap) {
		uint32_t ncap = w->cap ? w->cap * 2 : 16;
		vg_bundle_part *np = realloc(w->parts, ncap * sizeof *np);
		if (!np)
			return VIGIL_ENOMEM;
		w->parts = np;
		w->cap = ncap;
	}
	if (w->off == 0) {
		static const uint8_t header[VG_BUNDLE_HEADER_SIZE];
		put(w, header, sizeof header);
	}
	pad_to(w, VG_BUNDLE_PAGE);
	p = &w->parts[w->nparts];
	memset(p, 0, sizeof *p);
	p->kind = kind;
	p->flags = flags;
	p->offset = w->off;
	snprintf(p->name, sizeof p->name, "%s", name);
	crypto_generichash_init(&w->digest, NULL, 0, VG_BUNDLE_DIGEST_LEN);
	w->in_part = 1;
	return w->failed ? vg_error_from_errno(w->err) : VIGIL_OK;
}

vigil_error vg_bundle_part_write(vg_bundle_writer *w, const void *data,
                                 size_t n)
{
	if (!w->in_part)
		return VIGIL_EINVAL;
	put(w, data, n);
	crypto_generichash_update(&w->digest, data, n);
	return w->failed ? vg_error_from_errno(w->err) : VIGIL_OK;
}

vigil_error vg_bundle_part_end(vg_bundle_writer *w, uint64_t count)
{
	vg_bundle_part *p = &w->parts[w->nparts];

	if (!w->in_part)
		return VIGIL_EINVAL;
	p->size = w->off - p->offset;
	p->count = count;
	crypto_generichash_final(&w->digest, p->digest, VG_BUNDLE_DIGEST_LEN);
	w->nparts++;
	w->in_part = 0;
	return w->failed ? vg_error_from_errno(w->err) : VIGIL_OK;
}

void vg_bundle_writer_abort(vg_bundle_writer *w)
{
	if (!w)
		return;
	if (w->f)
		fclose(w->f);
	unlink(w->tmp);
	free(w->tmp);
	free(w->path);
	free(w->parts);
	free(w);
}

vigil_error vg_bundle_writer_finish(vg_bundle_writer *w, uint64_t version,
                                    char *why, size_t whylen)
{
	uint8_t header[VG_BUNDLE_HEADER_SIZE] = { 0 };
	uint8_t trailer[VG_BUNDLE_TRAILER_SIZE] = { 0 };
	uint64_t man_off, file_size;
	vigil_error err;
	int fd;

	if (w->in_part) {
		vg_bundle_writer_abort(w);
		whyf(why, whylen, "a part was left open");
		return VIGIL_EINTERNAL;
	}
	if (w->off == 0)
		put(w, header, sizeof header);
	pad_to(w, 8);
	man_off = w->off;
	for (uint32_t i = 0; i < w->nparts; i++) {
		uint8_t e[VG_BUNDLE_ENTRY_SIZE] = { 0 };
		const vg_bundle_part *p = &w->parts[i];
		wr_le32(e, p->kind);
		wr_le32(e + 4, p->flags);
		wr_le64(e + 8, p->offset);
		wr_le64(e + 16, p->size);
		wr_le64(e + 24, p->count);
		memcpy(e + 32, p->digest, VG_BUNDLE_DIGEST_LEN);
		memcpy(e + 64, p->name, VG_BUNDLE_NAME_MAX);
		put(w, e, sizeof e);
	}
	memcpy(trailer, VG_BUNDLE_SIG_MAGIC, 8);
	put(w, trailer, sizeof trailer);
	file_size = w->off;

	memcpy(header, VG_BUNDLE_MAGIC, 8);
	wr_le32(header + 8, VG_BUNDLE_FORMAT);
	wr_le64(header + 16, version);
	wr_le64(header + 24, (uint64_t)time(NULL));
	wr_le64(header + 32, file_size);
	wr_le64(header + 40, man_off);
	wr_le32(header + 48, w->nparts);
	if (!w->failed && (fflush(w->f) != 0 ||
	                   pwrite(fileno(w->f), header, sizeof header, 0) !=
	                   (ssize_t)sizeof header)) {
		w->failed = 1;
		w->err = errno ? errno : EIO;
	}
	fd = fileno(w->f);
	if (!w->failed && (fchmod(fd, 0644) != 0 || fsync(fd) != 0)) {
		w->failed = 1;
		w->err = errno;
	}
	if (fclose(w->f) != 0 && !w->failed) {
		w->failed = 1;
		w->err = errno;
	}
	w->f = NULL;
	if (!w->failed && rename(w->tmp, w->path) != 0) {
		w->failed = 1;
		w->err = errno;
	}
	if (w->failed) {
		err = vg_error_from_errno(w->err);
		whyf(why, whylen, "%s: %s", w->path, strerror(w->err));
		vg_bundle_writer_abort(w);
		return err;
	}
	sync_dir_of(w->path);
	free(w->tmp);
	free(w->path);
	free(w->parts);
	free(w);
	return VIGIL_OK;
}
