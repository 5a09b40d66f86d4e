/*
 * remote.c - one layer's job in a worker, from the caller's side: the
 * layer's bytes go over as a memfd, members come back as sealed memfds
 * and re-enter the pipeline here (through the member sink, which checks
 * them against the limits again: the worker may be the attacker's by
 * now), findings are re-reported, and a worker that runs past the
 * deadline, dies or breaks the protocol makes the layer INCOMPLETE with
 * a named limit while the scan goes on.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unpackers/clamav.h"
#include "unpackers/unpack.h"
#include "worker/proto.h"
#include "worker/worker.h"

/* A job's buffers: a received record and its decoded message (about
 * 160 KiB together, too much to allocate for every small gzip). */
struct vg_job_buf {
	uint8_t buf[VG_MSG_MAX];
	vg_msg msg;
	/* a memfd member's bytes, read rather than mapped: unmapping in a
	 * process whose other threads run flushes their TLBs (an IPI per
	 * member, which was a tenth of the system time isolation cost) */
	uint8_t *member;
	size_t member_cap;
	struct vg_job_buf *next;
};

/* Members up to this size are read into the job's buffer; larger ones
 * are mapped (one mapping per rare large member costs less than
 * keeping a buffer that size). */
#define MEMBER_READ_MAX (8u << 20)

static struct vg_job_buf *job_buf_get(vigil_scanner *s)
{
	struct vg_job_buf *b = s->job_bufs;

	if (b) {
		s->job_bufs = b->next;
		return b;
	}
	if ((b = malloc(sizeof *b))) {
		b->member = NULL;
		b->member_cap = 0;
	}
	return b;
}

static void job_buf_put(vigil_scanner *s, struct vg_job_buf *b)
{
	if (b) {
		b->next = s->job_bufs;
		s->job_bufs = b;
	}
}

void vg_job_bufs_free(vigil_scanner *s)
{
	while (s->job_bufs) {
		struct vg_job_buf *b = s->job_bufs;
		s->job_bufs = b->next;
		free(b->member);
		free(b);
	}
}

typedef struct job {
	vg_ctx *ctx;
	const vg_layer *layer;
	vg_worker *w;
	struct vg_job_buf *jb;
	uint8_t *buf;            /* one received record */
	vg_msg *msg;
	int dying;               /* the worker said why it dies */
	vg_msg_dying why;
	int done;                /* DONE read early (see take_done) */
	vg_msg_done done_msg;
	vg_msg_ack ack;          /* members scanned, not acknowledged yet */
	char broke[160];         /* how it broke the protocol */
} job;

/* The layer's bytes in a sealed memfd the worker maps. */
static int object_fd(const vg_layer *layer)
{
	const uint8_t *p = layer->data;
	size_t left = layer->size;
	int fd = memfd_create("vigil-object", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
	      F_SEAL_SEAL);
	return fd;
}

/* The sizes the member sink's ratio check walks up to. */
static void container_sizes(const vg_layer *layer, uint64_t *smallest,
                            uint64_t *top)
{
	*smallest = UINT64_MAX;
	*top = layer->size;
	for (const vg_layer *l = layer->parent; l; l = l->parent) {
		if (l->size < *smallest)
			*smallest = l->size;
		*top = l->size;
	}
	if (*smallest == UINT64_MAX)
		*smallest = layer->size;
}

static int broke(job *j, const char *what)
{
	snprintf(j->broke, sizeof j->broke, "%s", what);
	return -1;
}

/* The stage names a worker may report under, as static strings. */
static const char *known_stage(const char *s)
{
	static const char *const stages[] = { "limit", "unpack", "clamav" };

	for (size_t i = 0; i < sizeof stages / sizeof *stages; i++)
		if (strcmp(s, stages[i]) == 0)
			return stages[i];
	return NULL;
}

/* 1 for a name of engine/finding_list.h: a worker reports no other */
static int known_limit(const char *name)
{
	for (int i = 0; i < VG_F_COUNT; i++)
		if (vg_finding_names[i] && strcmp(vg_finding_names[i], name) == 0)
			return 1;
	return 0;
}

/* 1 when the result already has this finding on this layer: libclamav
 * reports a signature again on each normalised copy, and in-process
 * the ClamAV pass drops the repeats against the whole result
 * (unpackers/clamav.c), siblings' passes included. */
static int repeated(const vg_ctx *ctx, const vg_msg_finding *f)
{
	const vigil_result *r = ctx->result;

	for (size_t i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].stage, f->stage) == 0 &&
		    strcmp(r->findings[i].name, f->name) == 0 &&
		    strcmp(r->findings[i].layer, f->layer) == 0)
			return 1;
	return 0;
}

/* A worker's finding, re-reported here. It must be about this layer or
 * below it. */
static int on_finding(job *j, vigil_error *err)
{
	const vg_msg_finding *f = &j->msg->u.finding;
	const char *lp = j->layer->layer_path;
	size_t n = strlen(lp);
	const char *stage = known_stage(f->stage);
	vg_layer at = *j->layer;

	if (!stage)
		return broke(j, "finding from an unknown stage");
	if (n <= VG_MSG_STR_MAX && (strncmp(f->layer, lp, n) != 0 ||
	    (f->layer[n] && n && f->layer[n] != '!')))
		return broke(j, "finding about another layer");
	at.layer_path = f->layer;
	if (stage[0] == 'l') {
		if (!known_limit(f->name) || f->verdict != VIGIL_INCOMPLETE)
			return broke(j, "malformed limit finding");
		*err = vg_limit_hit(j->ctx, &at, f->name, f->detail);
		return 0;
	}
	if (f->verdict == VIGIL_INCOMPLETE)
		j->ctx->incomplete = 1;
	if (stage[0] == 'c' && repeated(j->ctx, f))
		return 0;
	*err = vg_report_why(j->ctx, &at, stage, f->name, f->verdict,
	                     f->score, f->detail, f->reason);
	return 0;
}

/* The worker counted members it threw away; the larger count holds. */
static void merge_budget(vg_ctx *ctx, uint64_t members, uint64_t extracted,
                         uint32_t stop)
{
	if (members > ctx->budget.members)
		ctx->budget.members = members;
	if (extracted > ctx->budget.extracted)
		ctx->budget.extracted = extracted;
	if (stop)
		ctx->stop = 1;
}

/* 1 when the next record waiting on the socket is a DONE. */
static int done_queued(int sock)
{
	uint8_t head[4];
	uint32_t type;

	if (recv(sock, head, sizeof head, MSG_PEEK | MSG_DONTWAIT) !=
	    (ssize_t)sizeof head)
		return 0;
	type = (uint32_t)head[0] | (uint32_t)head[1] << 8 |
	       (uint32_t)head[2] << 16 | (uint32_t)head[3] << 24;
	return type == VG_MSG_DONE;
}

static uint64_t delta(uint64_t after, uint64_t before, uint64_t self)
{
	return after - before > self ? after - before - self : 0;
}

/*
 * The worker's DONE, when it already follows the member being handled:
 * the job is over on its side, so the worker goes back to the pool
 * before the member is scanned, and a container nested in the member
 * (gzip in gzip, a .tar.gz) gets the same worker instead of a new one.
 * 1 when taken; -1 on a malformed record; -2 out of memory.
 */
static int take_done(job *j)
{
	uint8_t rec[64];
	struct iovec iov = { .iov_base = rec, .iov_len = sizeof rec };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	vg_msg *m;
	ssize_t n;

	if (!done_queued(j->w->sock))
		return 0;
	n = recvmsg(j->w->sock, &mh, MSG_DONTWAIT);
	if (n <= 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return -1;
	if (!(m = malloc(sizeof *m)))
		return -2;  /* vigil's own failure, not the worker's */
	if (vg_msg_decode(rec, (size_t)n, m) != 0 || m->type != VG_MSG_DONE) {
		free(m);
		return -1;
	}
	j->done_msg = m->u.done;
	j->done = 1;
	free(m);
	if (j->done_msg.retire)
		vg_worker_end(j->w);
	else
		vg_pool_put(j->ctx->engine->pool, j->w);
	j->w = NULL;
	return 1;
}

/* Reads a sealed memfd member of size bytes into the job's buffer.
 * 0, -1 when it cannot be read whole (the worker's fault: the seals
 * keep its size), -2 out of memory. */
static int read_member(struct vg_job_buf *jb, int fd, size_t size)
{
	size_t got = 0;

	if (size > jb->member_cap) {
		uint8_t *nb = realloc(jb->member, size);
		if (!nb)
			return -2;
		jb->member = nb;
		jb->member_cap = size;
	}
	while (got < size) {
		ssize_t n = pread(fd, jb->member + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* A member: inline, or a sealed memfd of exactly the size announced, scanned as a
 * child layer through the sink; then the worker learns the budget. */
static int on_member(job *j, int fd, vigil_error *err)
{
	const vg_msg_member *m = &j->msg->u.member;
	vg_ctx *ctx = j->ctx;
	vg_budget before;
	struct stat st;
	void *p = NULL;
	int seals, done, r;
	vg_msg ack = { .type = VG_MSG_ACK };

	if (m->data) {
		/* small: the bytes came in the record, which stays put while
		 * the member is scanned (a nested job has its own buffer) */
		if (fd >= 0) {
			close(fd);
			return broke(j, "member both inline and as a memfd");
		}
		if ((done = take_done(j)) == -2) {
			*err = VIGIL_ENOMEM;
			return 0;
		}
		if (done < 0)
			return broke(j, "malformed message");
		merge_budget(ctx, m->members, m->extracted, m->stop);
		before = ctx->budget;
		vg_member_scan(ctx, j->layer, m->name, m->data, (size_t)m->size,
		               err);
		goto ack;
	}
	if (fd < 0)
		return broke(j, "member without its bytes");
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_WRITE)) !=
	    (F_SEAL_SHRINK | F_SEAL_WRITE) || fstat(fd, &st) != 0 ||
	    (uint64_t)st.st_size != m->size || m->size > SIZE_MAX) {
		close(fd);
		return broke(j, "member not a sealed memfd of its size");
	}
	if ((done = take_done(j)) < 0) {
		close(fd);
		if (done == -2) {
			*err = VIGIL_ENOMEM;
			return 0;
		}
		return broke(j, "malformed message");
	}
	merge_budget(ctx, m->members, m->extracted, m->stop);
	before = ctx->budget;
	if (m->size <= MEMBER_READ_MAX) {
		if ((r = read_member(j->jb, fd, (size_t)m->size)) != 0) {
			close(fd);
			if (r == -2) {
				*err = VIGIL_ENOMEM;
				return 0;
			}
			return broke(j, "member memfd unreadable");
		}
		close(fd);
		vg_member_scan(ctx, j->layer, m->name,
		               m->size ? j->jb->member : (const uint8_t *)"",
		               (size_t)m->size, err);
		goto ack;
	}
	if ((p = mmap(NULL, (size_t)m->size, PROT_READ,
	              MAP_PRIVATE | MAP_POPULATE, fd, 0)) == MAP_FAILED) {
		close(fd);
		*err = VIGIL_ENOMEM;
		return 0;
	}
	close(fd);
	vg_member_scan(ctx, j->layer, m->name, p, (size_t)m->size, err);
	munmap(p, (size_t)m->size);
ack:
	if (*err || j->done)
		return 0;
	/* what the member brought beyond itself (nested members), which
	 * the worker cannot see; it counted the member itself */
	j->ack.members += delta(ctx->budget.members, before.members, 1);
	j->ack.extracted += delta(ctx->budget.extracted, before.extracted,
	                          m->size);
	j->ack.count++;
	j->ack.stop = ctx->stop ||
	              (ctx->budget.deadline_us &&
	               vg_now_us() >= ctx->budget.deadline_us);
	/* a few members at a time, a stop at once */
	if (j->ack.count < VG_ACK_EVERY && !j->ack.stop)
		return 0;
	/* the job is over already: the worker would drop the ACK */
	if (done_queued(j->w->sock))
		return 0;
	ack.u.ack = j->ack;
	j->ack = (vg_msg_ack){ 0 };
	/* a worker that does not read its socket is broken, not waited for */
	if (vg_msg_send(j->w->sock, &ack, -1, 1) != 0)
		return broke(j, "worker does not read its socket");
	return 0;
}

static const char *signal_name(int sig)
{
	const char *n = sigabbrev_np(sig);
	return n ? n : "?";
}

/* The worker is gone or must go: reap it and say why, as a limit. */
static vigil_error lost(job *j, int timed_out)
{
	char why[256];
	const char *limit = VG_F(CRASH);
	int status;

	if (timed_out) {
		kill(j->w->pid, SIGKILL);
		j->w->killed = 1;
	}
	status = vg_worker_end(j->w);
	j->w = NULL;
	if (timed_out) {
		return vg_limit_hit(j->ctx, j->layer, VG_F(MAX_SCAN_MS),
		                    "the unpacking worker ran past the time "
		                    "limit and was stopped; what it reported "
		                    "before is kept");
	}
	if (j->broke[0]) {
		snprintf(why, sizeof why, "the unpacking worker broke the "
		         "protocol (%s) and was stopped", j->broke);
	} else if (j->dying && j->why.kind == VG_DYING_MEMORY) {
		limit = VG_F(MAX_WORKER_MEMORY);
		snprintf(why, sizeof why, "the unpacking worker reached its "
		         "memory limit and died (%s%s)",
		         j->why.signo ? "SIG" : "",
		         j->why.signo ? signal_name((int)j->why.signo)
		                      : "sanitizer report");
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
		snprintf(why, sizeof why, "the unpacking worker made a system "
		         "call its sandbox forbids and was killed");
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		/* not ours (timed_out is handled above): the OOM killer */
		limit = VG_F(MAX_WORKER_MEMORY);
		snprintf(why, sizeof why, "the unpacking worker was killed "
		         "(SIGKILL: out of memory)");
	} else if (WIFSIGNALED(status)) {
		snprintf(why, sizeof why, "the unpacking worker crashed (SIG%s)",
		         signal_name(WTERMSIG(status)));
	} else if (j->dying) {
		snprintf(why, sizeof why, "the unpacking worker crashed (%s%s)",
		         j->why.signo ? "SIG" : "",
		         j->why.signo ? signal_name((int)j->why.signo)
		                      : "sanitizer report");
	} else {
		snprintf(why, sizeof why, "the unpacking worker exited with "
		         "status %d in the middle of a job",
		         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	return vg_limit_hit(j->ctx, j->layer, limit,
	                    strcat(why, "; what it reported before is kept"));
}

/* Milliseconds to wait for the next message: the object's deadline. */
static int wait_ms(const vg_ctx *ctx)
{
	uint64_t now, left;

	if (!ctx->budget.deadline_us)
		return -1;
	now = vg_now_us();
	if (now >= ctx->budget.deadline_us)
		return 0;
	left = (ctx->budget.deadline_us - now + 999) / 1000;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/* Reads the worker's messages until DONE; the job's error. */
static vigil_error converse(job *j)
{
	vigil_error err = VIGIL_OK;

	for (;;) {
		struct pollfd pfd = { .fd = j->w->sock, .events = POLLIN };
		int fd = -1, r;

		r = poll(&pfd, 1, wait_ms(j->ctx));
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return lost(j, 1);
		r = vg_msg_recv(j->w->sock, j->buf, j->msg, &fd);
		if (r == 0)
			return lost(j, 0);
		if (r < 0) {
			if (errno != ECONNRESET)
				broke(j, "malformed message");
			return lost(j, 0);
		}
		switch (j->msg->type) {
		case VG_MSG_FINDING:
			r = on_finding(j, &err);
			break;
		case VG_MSG_MEMBER:
			r = on_member(j, fd, &err);
			fd = -1;
			if (r == 0 && j->done) {
				/* the worker went back at take_done; the DONE's
				 * budget counts after the member's own */
				merge_budget(j->ctx, j->done_msg.members,
				             j->done_msg.extracted,
				             j->done_msg.stop);
				return err ? err : (vigil_error)j->done_msg.err;
			}
			break;
		case VG_MSG_DYING:
			j->dying = 1;
			j->why = j->msg->u.dying;
			r = 0;
			break;
		case VG_MSG_DONE: {
			const vg_msg_done *d = &j->msg->u.done;
			merge_budget(j->ctx, d->members, d->extracted, d->stop);
			if (d->retire) {
				vg_worker_end(j->w);
				j->w = NULL;
			}
			return (vigil_error)d->err;
		}
		default:
			r = broke(j, "unexpected message");
		}
		if (fd >= 0) {
			close(fd);
			r = broke(j, "descriptor with a message that has none");
		}
		if (r < 0)
			return lost(j, 0);
		if (err != VIGIL_OK) {
			/* vigil's own failure here (ENOMEM): the worker is in
			 * the middle of its job and cannot be reused */
			vg_worker_end(j->w);
			j->w = NULL;
			return err;
		}
	}
}

static vigil_error run(vg_ctx *ctx, const vg_layer *layer, uint32_t kind,
                       uint32_t arg)
{
	vg_pool *pool = ctx->engine->pool;
	job j = { .ctx = ctx, .layer = layer };
	struct vg_job_buf *jb = NULL;
	vg_msg_job *jm;
	vigil_error err;
	char why[512];
	int fd;

	if (ctx->stop || vg_ctx_timed_out(ctx, layer))
		return VIGIL_OK;
	if (!(jb = job_buf_get(ctx->scanner))) {
		err = VIGIL_ENOMEM;
		goto out;
	}
	j.jb = jb;
	j.buf = jb->buf;
	j.msg = &jb->msg;
	/* no worker, no unpacking: an error, never a silent in-process
	 * fallback (why goes nowhere yet: the scan's error names the
	 * file and the error code) */
	if (!(j.w = vg_pool_get(pool, why, sizeof why))) {
		err = vg_ctx_fail(ctx, VIGIL_EWORKER);
		goto out;
	}
	j.msg->type = VG_MSG_JOB;
	jm = &j.msg->u.job;
	fd = -1;
	jm->data = NULL;
	if (layer->size <= VG_MSG_INLINE_MAX)
		jm->data = layer->data;
	else if ((fd = object_fd(layer)) < 0) {
		vg_pool_put(pool, j.w);
		err = VIGIL_ENOMEM;
		goto out;
	}
	jm->kind = kind;
	jm->arg = arg;
	jm->type = (uint32_t)layer->type;
	jm->depth = layer->depth;
	jm->stop = (uint32_t)(ctx->stop != 0);
	jm->size = layer->size;
	container_sizes(layer, &jm->smallest, &jm->top_size);
	jm->members = ctx->budget.members;
	jm->extracted = ctx->budget.extracted;
	jm->ms_left = 0;
	if (ctx->budget.deadline_us) {
		int ms = wait_ms(ctx);
		jm->ms_left = ms > 0 ? (uint64_t)ms : 1;
	}
	snprintf(jm->name, sizeof jm->name, "%s", layer->name ? layer->name : "");
	snprintf(jm->layer_path, sizeof jm->layer_path, "%s", layer->layer_path);
	if (vg_msg_send(j.w->sock, j.msg, fd, 1) != 0) {
		if (fd >= 0)
			close(fd);
		broke(&j, "worker does not read its socket");
		err = lost(&j, 0);
		goto out;
	}
	if (fd >= 0)
		close(fd);
	err = converse(&j);
	if (j.w)
		vg_pool_put(pool, j.w);
out:
	job_buf_put(ctx->scanner, jb);
	return err ? vg_ctx_fail(ctx, err) : VIGIL_OK;
}

vigil_error vg_remote_unpack(vg_ctx *ctx, const vg_layer *layer,
                             const vg_unpacker *u)
{
	return run(ctx, layer, VG_JOB_UNPACK, (uint32_t)vg_unpacker_index(u));
}

vigil_error vg_remote_clamav(vg_ctx *ctx, const vg_layer *layer,
                             unsigned flags)
{
	return run(ctx, layer, VG_JOB_CLAMAV_PASS, flags);
}
