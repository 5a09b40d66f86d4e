/*
 * serve.c - the worker side: vigil-unpackd reads its configuration,
 * sets up libclamav, confines itself, then runs one job per layer the
 * caller sends. The unpackers run here exactly as they would in the
 * caller, through the same member sink (so they stop at the limits
 * before inflating further); what the sink would scan as a child layer
 * is handed back as a sealed memfd instead, and every finding goes back
 * as it is made, so a crash later in the job loses none.
 */
#include "config.h"

#include <clamav.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unpackers/clamav.h"
#include "unpackers/unpack.h"
#include "worker/proto.h"
#include "worker/worker.h"

void (*vg_worker_test_hook)(const char *name);
volatile int vg_worker_alloc_failed;

static int sock = VG_WORKER_FD;
/* rbuf holds the job's record (and its inline bytes) for the whole
 * job; ACKs are read into abuf and ack */
static uint8_t rbuf[VG_MSG_MAX], abuf[VG_MSG_MAX];
static vg_msg in, out, ack;

/* The caller is gone or talks nonsense: nothing left to do. */
static void __attribute__((noreturn)) hang_up(void)
{
	_exit(0);
}

static void send_or_die(const vg_msg *m, int fd)
{
	if (vg_msg_send(sock, m, fd, 0) != 0)
		hang_up();
}

/* The finding callback of the worker's scanner: straight back. */
static int forward(const vigil_finding *f, void *ud)
{
	vg_msg_finding *o = &out.u.finding;

	(void)ud;
	out.type = VG_MSG_FINDING;
	o->verdict = (uint32_t)f->verdict;
	o->score = f->score;
	snprintf(o->stage, sizeof o->stage, "%s", f->stage);
	snprintf(o->name, sizeof o->name, "%s", f->name);
	/* a deep path keeps its tail (proto.c), like the caller's check */
	snprintf(o->layer, sizeof o->layer, "%s", f->layer);
	snprintf(o->detail, sizeof o->detail, "%s", f->detail);
	snprintf(o->reason, sizeof o->reason, "%s", f->reason);
	send_or_die(&out, -1);
	return VIGIL_CONTINUE;
}

/*
 * Members in flight: the worker sends up to VG_ACK_WINDOW members before it
 * waits for the caller's answer to the oldest, so the two processes
 * work side by side instead of taking turns (a round trip per member
 * cost more system time than the member's bytes). The caller still
 * checks every member against the limits; the worker learns of a stop
 * or of the budget spent below it a few members late, and the caller
 * drops members that come after a stop.
 */
static unsigned unacked;

static vigil_error wait_ack(vg_ctx *ctx);

/* The member sink's large members, written into a memfd from their
 * first byte past the inline size (unpackers/member.c). */
static int member_memfd(void)
{
	return memfd_create("vigil-member", MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

/* A MEMBER record's fields but the bytes, in out. */
static void member_head(const vg_ctx *ctx, const char *name, size_t size)
{
	vg_msg_member *m = &out.u.member;

	if (vg_worker_test_hook)
		vg_worker_test_hook(name ? name : "");
	out.type = VG_MSG_MEMBER;
	m->size = size;
	/* the sink counted this member already; the caller's sink counts
	 * it again when it scans it */
	m->members = ctx->budget.members ? ctx->budget.members - 1 : 0;
	m->extracted = ctx->budget.extracted >= size ?
	               ctx->budget.extracted - size : 0;
	m->stop = (uint32_t)(ctx->stop != 0);
	snprintf(m->name, sizeof m->name, "%s", name ? name : "");
	m->data = NULL;
}

/* vg_scan_child in the worker: the member goes back to the caller as a
 * sealed memfd, and the caller's budget and stop flag come back. */
static vigil_error ship_member(vg_ctx *ctx, const vg_layer *parent,
                               const char *name, const uint8_t *data,
                               size_t size)
{
	vg_msg_member *m = &out.u.member;
	int fd;

	(void)parent;
	member_head(ctx, name, size);
	if (size <= VG_MSG_INLINE_MAX) {
		m->data = data ? data : (const uint8_t *)"";
		send_or_die(&out, -1);
		unacked++;
		return wait_ack(ctx);
	}
	/* bytes handed over whole (libclamav's members) */
	if ((fd = member_memfd()) < 0)
		return VIGIL_ENOMEM;
	if (vg_write_full(fd, data, size) != 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	          F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
		close(fd);
		return VIGIL_ENOMEM;
	}
	send_or_die(&out, fd);
	close(fd);
	unacked++;
	return wait_ack(ctx);
}

/* A member the sink wrote into a memfd: sealed and handed over as it
 * is, no copy. The sink closes fd. */
static vigil_error ship_member_fd(vg_ctx *ctx, const vg_layer *parent,
                                  const char *name, int fd, size_t size)
{
	(void)parent;
	member_head(ctx, name, size);
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	          F_SEAL_WRITE | F_SEAL_SEAL) != 0)
		return VIGIL_ENOMEM;
	send_or_die(&out, fd);
	unacked++;
	return wait_ack(ctx);
}

/* The caller scanned members: their budget and stop flag. */
static void read_ack(vg_ctx *ctx)
{
	int fd, r;

	r = vg_msg_recv(sock, abuf, &ack, &fd);
	if (fd >= 0)
		close(fd);
	if (r != 1 || ack.type != VG_MSG_ACK || ack.u.ack.count > unacked)
		hang_up();
	unacked -= ack.u.ack.count;
	/* what the caller found below the member (nested containers)
	 * counts here too; the member itself this side counted already */
	ctx->budget.members += ack.u.ack.members;
	ctx->budget.extracted += ack.u.ack.extracted;
	if (ack.u.ack.stop)
		ctx->stop = 1;
}

/* Reads the ACKs that are there; with a full window, waits for one. */
static vigil_error wait_ack(vg_ctx *ctx)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };

	while (unacked && (unacked >= VG_ACK_WINDOW || poll(&pfd, 1, 0) == 1))
		read_ack(ctx);
	return VIGIL_OK;
}

/* At DONE: the ACKs still to come are read (and dropped) before the
 * next job; the caller skips them when it sees DONE already queued. */
static void forget_acks(void)
{
	unacked = 0;
}

/* libclamav as the caller configured it, with its temporary files in
 * the worker's private folder. */
static vigil_error setup_clamav(vigil_engine *e, const vg_msg_config *c)
{
	vg_clamav *cl;
	vigil_error err;

	if ((err = vg_clamav_new(&cl)) != VIGIL_OK)
		return err;
	e->stage_state[VG_STAGE_clamav] = cl;
	if (cl_engine_set_str(cl->cl, CL_ENGINE_TMPDIR, c->tmpdir) != CL_SUCCESS)
		return VIGIL_ECLAMAV;
	for (uint32_t i = 0; i < c->ndbs; i++) {
		unsigned int signo = 0;
		if (cl_load(c->dbs[i], cl->cl, &signo, CL_DB_STDOPT) != CL_SUCCESS)
			return VIGIL_EDATABASE;
		cl->sigs += signo;
	}
	cl->dbs = c->ndbs;
	return vg_clamav_compile(e, cl);
}

static vigil_engine *setup_engine(const vg_msg_config *c)
{
	vigil_engine *e;

	if (vigil_engine_new(&e) != VIGIL_OK)
		return NULL;
	memcpy(e->limits, c->limits, sizeof e->limits);
	for (int i = 0; i < VIGIL_OPTION_COUNT; i++)
		e->options[i] = (c->options >> i) & 1;
	if (c->clamav && setup_clamav(e, c) != VIGIL_OK) {
		vigil_engine_free(e);
		return NULL;
	}
	e->frozen = 1;
	return e;
}

static vigil_error run_job(vg_ctx *ctx, vg_layer *layer, const vg_msg_job *j)
{
	const vg_unpacker *u;

	if (j->kind == VG_JOB_CLAMAV_PASS)
		return vg_clamav_pass(ctx, layer, j->arg, NULL);
	if (!(u = vg_unpacker_at(j->arg)))
		hang_up();
	return u->extract(ctx, layer);
}

/*
 * A CPU-time bound for the job, a little past its deadline: the caller
 * kills a worker at the deadline, but a caller that died (SIGKILL) can
 * kill nothing, and an orphan stuck in a loop must not spin forever.
 *
 * Set again only when the bound set last may be too tight: the process
 * has one thread, so the CPU time it used since is at most the wall
 * time since. Most jobs take microseconds, and three system calls each
 * were a measurable part of their cost.
 */
static void cpu_bound(uint64_t ms_left)
{
	static int armed;           /* 1: a bound is set, 2: none is */
	static uint64_t armed_us;   /* when it was set */
	static uint64_t room_ms;    /* the time it left for jobs then */
	uint64_t now = vg_now_us();
	struct rusage ru;
	struct rlimit rl;

	if (ms_left ? armed == 1 && (now - armed_us) / 1000 + ms_left <= room_ms
	            : armed == 2)
		return;
	if (getrlimit(RLIMIT_CPU, &rl) != 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	armed = 2;
	if (ms_left && getrusage(RUSAGE_SELF, &ru) == 0) {
		/* whole seconds, rounded up: at least ms_left + 2 s left */
		rlim_t want = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		                       (time_t)((ms_left + 999) / 1000) + 4);
		if (want < rl.rlim_max) {
			rl.rlim_cur = want;
			armed = 1;
			armed_us = now;
			room_ms = ms_left + 2000;
		}
	}
	if (setrlimit(RLIMIT_CPU, &rl) != 0)
		armed = 0;
}

/* One job: the layer rebuilt from the message (with stand-ins for its
 * containers, whose sizes the ratio check needs), run, DONE. */
static void serve_job(vigil_scanner *s, const vg_msg_job *jm, int fd)
{
	vg_msg_job j = *jm;
	vg_layer top = { .size = j.top_size, .layer_path = "", .name = "",
	                 .path = "", .owner = "", .fd = -1 };
	vg_layer above = top;
	vg_layer layer = {
		.type = (vg_filetype)j.type, .name = j.name, .path = j.name,
		.layer_path = j.layer_path, .depth = j.depth, .fd = -1,
		.owner = "", .size = (size_t)j.size,
	};
	vg_ctx ctx = {
		.scanner = s, .engine = s->engine, .child = ship_member,
		.spill_at = VG_MSG_INLINE_MAX, .spill_fd = member_memfd,
		.child_fd = ship_member_fd,
		.stop = (int)j.stop,
		.budget = { .members = j.members, .extracted = j.extracted },
	};
	struct stat st;
	void *p = NULL;
	vigil_error err;

	if (j.data) {
		/* in rbuf, which stays put until the next job */
		if (fd >= 0)
			hang_up();
		layer.data = j.data;
	} else {
		if (fd < 0 || fstat(fd, &st) != 0 ||
		    (uint64_t)st.st_size != j.size)
			hang_up();
		if (j.size && (p = mmap(NULL, (size_t)j.size, PROT_READ,
		                        MAP_PRIVATE | MAP_POPULATE, fd, 0)) ==
		    MAP_FAILED)
			hang_up();
		close(fd);
		layer.data = p ? p : (const uint8_t *)"";
	}
	above.size = j.smallest;
	above.parent = &top;
	if (j.depth)
		layer.parent = j.smallest == j.top_size ? &top : &above;
	if (j.ms_left)
		ctx.budget.deadline_us = vg_now_us() + j.ms_left * 1000;
	cpu_bound(j.ms_left);
	if (!(ctx.result = vg_result_new()))
		hang_up();

	if (j.kind == VG_JOB_UNPACK)
		layer.unpacker = vg_unpacker_at(j.arg);
	err = run_job(&ctx, &layer, &j);
	forget_acks();
	if (err == VIGIL_OK)
		err = ctx.err;
	/* out of memory here is the worker's limit, not vigil's failure
	 * (vg_worker_alloc_failed: the allocator wrappers of unpackd.c):
	 * the layer is INCOMPLETE, the object goes on (vg_ctx_fail's stop
	 * was about this job only) */
	out.u.done.retire = 0;
	if (err == VIGIL_ENOMEM || vg_worker_alloc_failed) {
		ctx.err = VIGIL_OK;
		ctx.stop = (int)j.stop;
		err = vg_limit_hit(&ctx, &layer, VG_F(MAX_WORKER_MEMORY),
		                   "the unpacking worker reached its memory "
		                   "limit; what it read before is kept");
		out.u.done.retire = 1;
	}
	vigil_result_free(ctx.result);
	if (p)
		munmap(p, (size_t)j.size);
	out.type = VG_MSG_DONE;
	out.u.done.err = (uint32_t)err;
	out.u.done.stop = (uint32_t)(ctx.stop != 0);
	out.u.done.members = ctx.budget.members;
	out.u.done.extracted = ctx.budget.extracted;
	send_or_die(&out, -1);
	if (out.u.done.retire)
		hang_up();
}

int vg_worker_main(void)
{
	vigil_scanner s = { .magic = VG_SCANNER_MAGIC, .cb = forward };
	char why[256];
	vigil_engine *e;
	int fd, r;

	vg_worker_process = 1;
	r = vg_msg_recv(sock, rbuf, &in, &fd);
	if (fd >= 0)
		close(fd);
	if (r != 1 || in.type != VG_MSG_CONFIG)
		return 2;
	/* large members spill to a temporary file (unpackers/member.c):
	 * here, into the one folder the worker can still write */
	if (setenv("TMPDIR", in.u.config.tmpdir, 1) != 0)
		return 3;
	if (!(e = setup_engine(&in.u.config)))
		return 3;
	s.engine = e;
	if (vg_confine(&in.u.config, why, sizeof why) != 0) {
		fprintf(stderr, "vigil-unpackd: %s\n", why);
		return 4;
	}
	vg_confine_signals(sock);
	out.type = VG_MSG_READY;
	send_or_die(&out, -1);
	for (;;) {
		r = vg_msg_recv(sock, rbuf, &in, &fd);
		/* ACKs of the last job's last members, sent after its DONE */
		if (r == 1 && in.type == VG_MSG_ACK && fd < 0)
			continue;
		if (r != 1 || in.type != VG_MSG_JOB)
			hang_up();
		serve_job(&s, &in.u.job, fd);
	}
}
