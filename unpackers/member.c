/*
 * member.c - the member sink: every unpacker streams members through
 * here, so the extraction limits live in one place. Small members stay
 * in memory; large ones spill into an unlinked temporary file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unpackers/unpack.h"

int vg_unpack_should_stop(vg_ctx *ctx, const vg_layer *layer)
{
	return ctx->stop || vg_ctx_timed_out(ctx, layer);
}

/* "parent!name" for findings about a member that never became a layer. */
static vigil_error report_member(vg_ctx *ctx, const vg_layer *parent,
                                 const char *name, const char *stage,
                                 const char *finding, vigil_verdict v,
                                 const char *detail)
{
	const char *pp = parent->layer_path;
	size_t len = strlen(pp) + (name ? strlen(name) : 0) + 2;
	char *path = malloc(len);
	vg_layer at;
	vigil_error err;

	if (!path)
		return vg_ctx_fail(ctx, VIGIL_ENOMEM);
	/* no name: the finding is about the parent layer itself */
	if (name)
		snprintf(path, len, "%s%s%s", pp, *pp ? "!" : "", name);
	else
		snprintf(path, len, "%s", pp);
	at = *parent;
	at.layer_path = path;
	if (strcmp(stage, "limit") == 0) {
		err = vg_limit_hit(ctx, &at, finding, detail);
	} else {
		if (v == VIGIL_INCOMPLETE)
			ctx->incomplete = 1;
		err = vg_report(ctx, &at, stage, finding, v, 0.0, detail);
	}
	free(path);
	return err;
}

/* Ends the member with an error of vigil's own (out of memory): the
 * unpacker stops, and the scan returns the error (see vg_ctx in vg.h). */
static vg_member_status member_fail(vg_member *m, vigil_error err)
{
	m->err = vg_ctx_fail(m->ctx, err);
	return m->status = VG_MEMBER_STOP;
}

static vg_member_status member_limit(vg_member *m, const char *limit,
                                     const char *reason,
                                     vg_member_status status)
{
	vigil_error err = report_member(m->ctx, m->parent, m->name, "limit",
	                                limit, VIGIL_INCOMPLETE, reason);

	if (err != VIGIL_OK)
		return member_fail(m, err);
	m->status = status;
	return status;
}

/* The size limit a member of newsize bytes crosses, or NULL: the
 * member-size limit, and the file-size limit, which holds for every
 * object, top-level or not. 0 is no limit (vigil.h). */
static const char *size_limit(const vg_member *m, uint64_t newsize)
{
	const uint64_t *lim = m->ctx->engine->limits;

	if (lim[VIGIL_LIMIT_MAX_MEMBER_SIZE] &&
	    newsize > lim[VIGIL_LIMIT_MAX_MEMBER_SIZE])
		return VG_F(MAX_MEMBER_SIZE);
	if (lim[VIGIL_LIMIT_MAX_FILESIZE] &&
	    newsize > lim[VIGIL_LIMIT_MAX_FILESIZE])
		return VG_F(MAX_FILESIZE);
	return NULL;
}

/* The smallest container on the way to the top: a member's compressed
 * bytes lie inside every one of them. */
static uint64_t smallest_container(const vg_layer *l, uint64_t *top)
{
	uint64_t min = l->size;

	for (; l; l = l->parent) {
		if (l->size < min)
			min = l->size;
		*top = l->size;
	}
	return min;
}

vigil_error vg_member_encrypted(vg_ctx *ctx, const vg_layer *parent,
                                const char *name, const char *what)
{
	int suspicious = ctx->engine->options[VIGIL_OPT_ENCRYPTED_SUSPICIOUS];
	char detail[160];

	snprintf(detail, sizeof detail, "%s is encrypted; its content was "
	         "not scanned", what && *what ? what : "member");
	return report_member(ctx, parent, name && !*name ? "(unnamed)" : name,
	                     "unpack", VG_F(ENCRYPTED),
	                     suspicious ? VIGIL_SUSPICIOUS : VIGIL_CLEAN,
	                     detail);
}

vigil_error vg_member_damaged(vg_ctx *ctx, const vg_layer *parent,
                              const char *name, const char *why)
{
	return report_member(ctx, parent, name && !*name ? "(unnamed)" : name,
	                     "unpack", VG_F(DAMAGED), VIGIL_INCOMPLETE,
	                     why);
}

/* The limits that hold before any byte of a member is read. */
static vg_member_status check_start(vg_member *m, uint64_t expected)
{
	vg_ctx *ctx = m->ctx;
	const uint64_t *lim = ctx->engine->limits;
	const char *too_big = size_limit(m, expected);

	if (vg_unpack_should_stop(ctx, m->parent))
		return m->status = VG_MEMBER_STOP;
	if (m->parent->depth + 1 > vg_max_depth(ctx->engine))
		return member_limit(m, VG_F(MAX_DEPTH),
		                    "nesting deeper than the depth limit",
		                    VG_MEMBER_STOP);
	if (lim[VIGIL_LIMIT_MAX_MEMBERS] &&
	    ctx->budget.members >= lim[VIGIL_LIMIT_MAX_MEMBERS])
		return member_limit(m, VG_F(MAX_MEMBERS),
		                    "more members than the member limit",
		                    VG_MEMBER_STOP);
	if (lim[VIGIL_LIMIT_MAX_EXTRACTED] &&
	    ctx->budget.extracted >= lim[VIGIL_LIMIT_MAX_EXTRACTED])
		return member_limit(m, VG_F(MAX_EXTRACTED),
		                    "more data extracted than the total limit",
		                    VG_MEMBER_STOP);
	if (too_big)
		return member_limit(m, too_big, "member declared larger than "
		                    "the size limit", VG_MEMBER_SKIP);
	return VG_MEMBER_OK;
}

/* The limits on a member's growth to newsize bytes. */
static vg_member_status check_growth(vg_member *m, uint64_t newsize)
{
	vg_ctx *ctx = m->ctx;
	const uint64_t *lim = ctx->engine->limits;
	uint64_t ratio = lim[VIGIL_LIMIT_MAX_RATIO];
	const char *too_big = size_limit(m, newsize);

	if (too_big)
		return member_limit(m, too_big, "member larger than the size "
		                    "limit", VG_MEMBER_SKIP);
	if (lim[VIGIL_LIMIT_MAX_EXTRACTED] &&
	    ctx->budget.extracted + newsize > lim[VIGIL_LIMIT_MAX_EXTRACTED])
		return member_limit(m, VG_F(MAX_EXTRACTED),
		                    "more data extracted than the total limit",
		                    VG_MEMBER_STOP);
	/* The smallest container's size bounds the member's compressed
	 * size, so this underestimates the true ratio: it never fires
	 * wrongly, and it sees through nesting (42.zip). */
	if (ratio && newsize > lim[VIGIL_LIMIT_RATIO_MIN_SIZE] &&
	    newsize / ratio > m->packed) {
		/* When the whole object is what inflates past the ratio
		 * (42.zip), every sibling would trip it again: stop the
		 * object. Otherwise stop only this member's container. */
		if (m->smallest == m->top_size)
			ctx->stop = 1;
		return member_limit(m, VG_F(MAX_RATIO),
		                    "member inflates past the compression "
		                    "ratio limit", VG_MEMBER_STOP);
	}
	if (vg_unpack_should_stop(ctx, m->parent))
		return m->status = VG_MEMBER_STOP;
	return VG_MEMBER_OK;
}

/* Bytes a member may hold in memory before it spills: in a worker,
 * members past the size that travels inline go to a memfd at once (the
 * caller gets that memfd, not a copy). */
static size_t spill_at(const vg_ctx *ctx)
{
	return ctx->spill_at && ctx->spill_at < VG_MEMBER_MEM_MAX ?
	       ctx->spill_at : VG_MEMBER_MEM_MAX;
}

vg_member_status vg_member_begin(vg_member *m, vg_ctx *ctx,
                                 const vg_layer *parent, const char *name,
                                 uint64_t expected)
{
	*m = (vg_member){ .ctx = ctx, .parent = parent, .fd = -1 };
	m->packed = m->smallest = smallest_container(parent, &m->top_size);
	m->name = strdup(name && *name ? name : "(unnamed)");
	if (!m->name)
		return member_fail(m, VIGIL_ENOMEM);
	if (check_start(m, expected) != VG_MEMBER_OK)
		return m->status;
	if (expected && expected <= spill_at(ctx)) {
		/* a hint only: never trust it beyond the memory threshold */
		if ((m->buf = malloc(expected)))
			m->cap = expected;
	}
	return VG_MEMBER_OK;
}

/* An unlinked file in $TMPDIR (or /tmp) that vanishes when closed. */
static int spill_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	/* file systems without O_TMPFILE: create, then unlink at once */
	snprintf(path, sizeof path, "%s/vigil-member-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static vg_member_status spill(vg_member *m, const uint8_t *data, size_t n)
{
	if (m->fd < 0) {
		m->fd = m->ctx->spill_fd ? m->ctx->spill_fd() : spill_file();
		if (m->fd < 0 ||
		    write_all(m->fd, m->buf, (size_t)(m->size)) != 0)
			return member_limit(m, VG_F(TEMP_FILE),
			                    "cannot write a temporary file for a "
			                    "large member", VG_MEMBER_SKIP);
		free(m->buf);
		m->buf = NULL;
		m->cap = 0;
	}
	if (write_all(m->fd, data, n) != 0)
		return member_limit(m, VG_F(TEMP_FILE),
		                    "cannot write a temporary file for a large "
		                    "member", VG_MEMBER_SKIP);
	m->size += n;
	return VG_MEMBER_OK;
}

void vg_member_packed(vg_member *m, uint64_t bound)
{
	if (bound < m->packed)
		m->packed = bound;
}

vg_member_status vg_member_write(vg_member *m, const void *data, size_t n)
{
	uint64_t newsize = m->size + n;

	if (m->status != VG_MEMBER_OK)
		return m->status;
	if (n == 0)
		return VG_MEMBER_OK;
	if (check_growth(m, newsize) != VG_MEMBER_OK) {
		m->size = newsize; /* the bytes were produced: they count */
		return m->status;
	}
	if (m->fd >= 0 || newsize > spill_at(m->ctx))
		return m->status = spill(m, data, n);
	if (newsize > m->cap) {
		size_t cap = m->cap ? m->cap : 65536;
		uint8_t *nb;
		while (cap < newsize)
			cap *= 2;
		if (cap > spill_at(m->ctx))
			cap = spill_at(m->ctx);
		if (!(nb = realloc(m->buf, cap)))
			return member_fail(m, VIGIL_ENOMEM);
		m->buf = nb;
		m->cap = cap;
	}
	memcpy(m->buf + m->size, data, n);
	m->size = newsize;
	return VG_MEMBER_OK;
}

static void member_free(vg_member *m)
{
	free(m->buf);
	free(m->name);
	if (m->fd >= 0)
		close(m->fd);
	m->buf = NULL;
	m->name = NULL;
	m->fd = -1;
}

/* Every member counts against the object's budget, scanned or not:
 * bytes inflated and thrown away too, or a bomb of members each stopped
 * by the ratio would never end. */
static void member_count(vg_member *m)
{
	m->ctx->budget.extracted += m->size;
	m->ctx->budget.members++;
}

vigil_error vg_member_discard(vg_member *m)
{
	vigil_error err = m->err;

	member_count(m);
	member_free(m);
	return err;
}

vigil_error vg_member_finish(vg_member *m)
{
	vigil_error err = VIGIL_OK;

	if (m->status != VG_MEMBER_OK)
		return vg_member_discard(m);
	member_count(m);
	if (m->fd >= 0 && m->ctx->child_fd) {
		err = m->ctx->child_fd(m->ctx, m->parent, m->name, m->fd,
		                       (size_t)m->size);
	} else if (m->fd >= 0) {
		void *p = m->size ? mmap(NULL, (size_t)m->size, PROT_READ,
		                         MAP_SHARED, m->fd, 0) : NULL;
		if (p == MAP_FAILED) {
			member_limit(m, VG_F(TEMP_FILE), "cannot map a "
			             "temporary file", VG_MEMBER_SKIP);
			err = m->err;
			member_free(m);
			return err;
		}
		err = vg_scan_child(m->ctx, m->parent, m->name, p, (size_t)m->size);
		if (p)
			munmap(p, (size_t)m->size);
	} else {
		err = vg_scan_child(m->ctx, m->parent, m->name, m->buf,
		                 (size_t)m->size);
	}
	member_free(m);
	return err;
}

vg_member_status vg_member_scan(vg_ctx *ctx, const vg_layer *parent,
                                const char *name, const uint8_t *data,
                                size_t size, vigil_error *err)
{
	vg_member m;
	vg_member_status st;

	*err = VIGIL_OK;
	st = vg_member_begin(&m, ctx, parent, name, 0);
	if (st == VG_MEMBER_OK)
		st = check_growth(&m, size);
	m.size = size;
	if (st != VG_MEMBER_OK) {
		*err = vg_member_discard(&m);
		return st;
	}
	member_count(&m);
	*err = vg_scan_child(ctx, parent, m.name, data, size);
	member_free(&m);
	return *err ? VG_MEMBER_STOP : VG_MEMBER_OK;
}
