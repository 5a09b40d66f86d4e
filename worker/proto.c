/*
 * proto.c - encoding and decoding of the caller/worker messages (see
 * proto.h), and sending and receiving them with a descriptor beside.
 * Decoding reads through engine/bytes.h only: its input comes from a
 * process that parsed hostile bytes.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/bytes.h"
#include "worker/proto.h"

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

static void put(vg_msg_out *o, const void *p, size_t n)
{
	if (o->overflow || !vg_fits(sizeof o->buf, o->len, n)) {
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void put_u32(vg_msg_out *o, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	                 (uint8_t)(v >> 24) };
	put(o, b, sizeof b);
}

static void put_u64(vg_msg_out *o, uint64_t v)
{
	put_u32(o, (uint32_t)v);
	put_u32(o, (uint32_t)(v >> 32));
}

/* Strings longer than VG_MSG_STR_MAX keep their tail: the end of a
 * layer path names the member. */
static void put_str(vg_msg_out *o, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > VG_MSG_STR_MAX) {
		s += n - VG_MSG_STR_MAX;
		n = VG_MSG_STR_MAX;
	}
	put_u32(o, (uint32_t)n);
	put(o, s, n);
}

/* Inline bytes: a length (0 when they come as a memfd) and the bytes. */
static void put_data(vg_msg_out *o, const uint8_t *data, uint64_t size)
{
	if (!data || size > VG_MSG_INLINE_MAX) {
		put_u32(o, 0);
		return;
	}
	put_u32(o, (uint32_t)size);
	if (!vg_fits(sizeof o->buf, o->len, (size_t)size))
		o->overflow = 1;
	o->tail = data;
	o->tail_len = (size_t)size;
}

int vg_msg_encode(const vg_msg *m, vg_msg_out *o)
{
	uint64_t score;

	o->len = 0;
	o->tail = NULL;
	o->tail_len = 0;
	o->overflow = 0;
	put_u32(o, m->type);
	switch (m->type) {
	case VG_MSG_CONFIG: {
		const vg_msg_config *c = &m->u.config;
		put_u32(o, VIGIL_LIMIT_COUNT);
		for (int i = 0; i < VIGIL_LIMIT_COUNT; i++)
			put_u64(o, c->limits[i]);
		put_u32(o, c->options);
		put_u32(o, c->clamav);
		put_u32(o, c->ndbs);
		for (uint32_t i = 0; i < c->ndbs && i < VG_MSG_MAX_DBS; i++)
			put_str(o, c->dbs[i]);
		put_str(o, c->tmpdir);
		break;
	}
	case VG_MSG_JOB: {
		const vg_msg_job *j = &m->u.job;
		put_u32(o, j->kind);
		put_u32(o, j->arg);
		put_u32(o, j->type);
		put_u32(o, j->depth);
		put_u32(o, j->stop);
		put_u64(o, j->size);
		put_u64(o, j->smallest);
		put_u64(o, j->top_size);
		put_u64(o, j->members);
		put_u64(o, j->extracted);
		put_u64(o, j->ms_left);
		put_str(o, j->name);
		put_str(o, j->layer_path);
		put_data(o, j->data, j->size);
		break;
	}
	case VG_MSG_ACK:
		put_u32(o, m->u.ack.stop);
		put_u32(o, m->u.ack.count);
		put_u64(o, m->u.ack.members);
		put_u64(o, m->u.ack.extracted);
		break;
	case VG_MSG_READY:
		break;
	case VG_MSG_MEMBER:
		put_u64(o, m->u.member.size);
		put_u64(o, m->u.member.members);
		put_u64(o, m->u.member.extracted);
		put_u32(o, m->u.member.stop);
		put_str(o, m->u.member.name);
		put_data(o, m->u.member.data, m->u.member.size);
		break;
	case VG_MSG_FINDING: {
		const vg_msg_finding *f = &m->u.finding;
		memcpy(&score, &f->score, sizeof score);
		put_u32(o, f->verdict);
		put_u64(o, score);
		put_str(o, f->stage);
		put_str(o, f->name);
		put_str(o, f->layer);
		put_str(o, f->detail);
		put_str(o, f->reason);
		break;
	}
	case VG_MSG_DONE:
		put_u32(o, m->u.done.err);
		put_u32(o, m->u.done.retire);
		put_u32(o, m->u.done.stop);
		put_u64(o, m->u.done.members);
		put_u64(o, m->u.done.extracted);
		break;
	case VG_MSG_DYING:
		put_u32(o, m->u.dying.kind);
		put_u32(o, m->u.dying.signo);
		break;
	default:
		return -1;
	}
	return o->overflow ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

typedef struct reader {
	const uint8_t *p;
	size_t n, off;
	int bad;
} reader;

static uint32_t get_u32(reader *r)
{
	uint32_t v = 0;

	if (r->bad || !vg_u32le(r->p, r->n, r->off, &v)) {
		r->bad = 1;
		return 0;
	}
	r->off += 4;
	return v;
}

static uint64_t get_u64(reader *r)
{
	uint64_t v = 0;

	if (r->bad || !vg_u64le(r->p, r->n, r->off, &v)) {
		r->bad = 1;
		return 0;
	}
	r->off += 8;
	return v;
}

/* A string into out (cap bytes with its NUL); too long for out, or
 * holding a NUL, is malformed. */
static void get_str(reader *r, char *out, size_t cap)
{
	uint32_t len = get_u32(r);
	const uint8_t *s;

	out[0] = '\0';
	if (r->bad)
		return;
	if (len >= cap || !(s = vg_at(r->p, r->n, r->off, len)) ||
	    memchr(s, '\0', len)) {
		r->bad = 1;
		return;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	r->off += len;
}

/* Inline bytes: none (NULL), or exactly size of them. A size of 0 is
 * always inline (a memfd of nothing is pointless). */
static const uint8_t *get_data(reader *r, uint64_t size)
{
	uint32_t len = get_u32(r);
	const uint8_t *p;

	if (r->bad)
		return NULL;
	if (len == 0)
		return size == 0 ? r->p + r->off : NULL;
	if (len != size || len > VG_MSG_INLINE_MAX ||
	    !(p = vg_at(r->p, r->n, r->off, len))) {
		r->bad = 1;
		return NULL;
	}
	r->off += len;
	return p;
}

static int flag(uint32_t v)
{
	return v <= 1;
}

static void decode_config(reader *r, vg_msg_config *c)
{
	if (get_u32(r) != VIGIL_LIMIT_COUNT) {
		r->bad = 1;
		return;
	}
	for (int i = 0; i < VIGIL_LIMIT_COUNT; i++)
		c->limits[i] = get_u64(r);
	c->options = get_u32(r);
	c->clamav = get_u32(r);
	c->ndbs = get_u32(r);
	if (!flag(c->clamav) || c->ndbs > VG_MSG_MAX_DBS) {
		r->bad = 1;
		return;
	}
	for (uint32_t i = 0; i < c->ndbs && !r->bad; i++)
		get_str(r, c->dbs[i], sizeof c->dbs[i]);
	get_str(r, c->tmpdir, sizeof c->tmpdir);
}

static void decode_job(reader *r, vg_msg_job *j)
{
	j->kind = get_u32(r);
	j->arg = get_u32(r);
	j->type = get_u32(r);
	j->depth = get_u32(r);
	j->stop = get_u32(r);
	j->size = get_u64(r);
	j->smallest = get_u64(r);
	j->top_size = get_u64(r);
	j->members = get_u64(r);
	j->extracted = get_u64(r);
	j->ms_left = get_u64(r);
	get_str(r, j->name, sizeof j->name);
	get_str(r, j->layer_path, sizeof j->layer_path);
	j->data = get_data(r, j->size);
	if (j->kind != VG_JOB_UNPACK && j->kind != VG_JOB_CLAMAV_PASS)
		r->bad = 1;
	if (!flag(j->stop) || j->type > 255 || j->depth > 1024)
		r->bad = 1;
}

static void decode_finding(reader *r, vg_msg_finding *f)
{
	uint64_t score;

	f->verdict = get_u32(r);
	score = get_u64(r);
	memcpy(&f->score, &score, sizeof score);
	get_str(r, f->stage, sizeof f->stage);
	get_str(r, f->name, sizeof f->name);
	get_str(r, f->layer, sizeof f->layer);
	get_str(r, f->detail, sizeof f->detail);
	get_str(r, f->reason, sizeof f->reason);
	/* NaN fails both comparisons */
	if (f->verdict > VIGIL_MALICIOUS || !(f->score >= 0 && f->score <= 1e9))
		r->bad = 1;
}

int vg_msg_decode(const uint8_t *rec, size_t len, vg_msg *m)
{
	reader r = { .p = rec, .n = len };

	m->type = get_u32(&r);
	switch (m->type) {
	case VG_MSG_CONFIG:
		decode_config(&r, &m->u.config);
		break;
	case VG_MSG_JOB:
		decode_job(&r, &m->u.job);
		break;
	case VG_MSG_ACK:
		m->u.ack.stop = get_u32(&r);
		m->u.ack.count = get_u32(&r);
		m->u.ack.members = get_u64(&r);
		m->u.ack.extracted = get_u64(&r);
		if (!flag(m->u.ack.stop) || m->u.ack.count < 1 ||
		    m->u.ack.count > VG_ACK_WINDOW)
			r.bad = 1;
		break;
	case VG_MSG_READY:
		break;
	case VG_MSG_MEMBER:
		m->u.member.size = get_u64(&r);
		m->u.member.members = get_u64(&r);
		m->u.member.extracted = get_u64(&r);
		m->u.member.stop = get_u32(&r);
		get_str(&r, m->u.member.name, sizeof m->u.member.name);
		m->u.member.data = get_data(&r, m->u.member.size);
		if (!flag(m->u.member.stop))
			r.bad = 1;
		break;
	case VG_MSG_FINDING:
		decode_finding(&r, &m->u.finding);
		break;
	case VG_MSG_DONE:
		m->u.done.err = get_u32(&r);
		m->u.done.retire = get_u32(&r);
		m->u.done.stop = get_u32(&r);
		m->u.done.members = get_u64(&r);
		m->u.done.extracted = get_u64(&r);
		if (m->u.done.err >= VIGIL_ERROR_COUNT ||
		    !flag(m->u.done.retire) || !flag(m->u.done.stop))
			r.bad = 1;
		break;
	case VG_MSG_DYING:
		m->u.dying.kind = get_u32(&r);
		m->u.dying.signo = get_u32(&r);
		if (m->u.dying.kind != VG_DYING_CRASH &&
		    m->u.dying.kind != VG_DYING_MEMORY)
			r.bad = 1;
		break;
	default:
		r.bad = 1;
	}
	/* bytes left over are as malformed as bytes missing */
	return r.bad || r.off != len ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* The socket                                                          */
/* ------------------------------------------------------------------ */

int vg_msg_send(int sock, const vg_msg *m, int fd, int nonblock)
{
	static __thread vg_msg_out out;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov[2];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	if (vg_msg_encode(m, &out) != 0) {
		errno = EMSGSIZE;
		return -1;
	}
	iov[0].iov_base = out.buf;
	iov[0].iov_len = out.len;
	iov[1].iov_base = (void *)out.tail;
	iov[1].iov_len = out.tail_len;
	if (fd >= 0) {
		memset(&ctl, 0, sizeof ctl);
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof ctl.buf;
		ctl.h.cmsg_level = SOL_SOCKET;
		ctl.h.cmsg_type = SCM_RIGHTS;
		ctl.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&ctl.h), &fd, sizeof fd);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)(out.len + out.tail_len) ? 0 : -1;
}

/* Closes every descriptor a control message carried. */
static void close_fds(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
			close(fd);
		}
	}
}

int vg_msg_recv(int sock, uint8_t *buf, vg_msg *m, int *fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = VG_MSG_MAX };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf,
	};
	struct cmsghdr *c;
	ssize_t n;
	int nfds = 0;

	*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n < 0)
		return -1;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		close_fds(&mh);
		return -1;
	}
	/* exactly one SCM_RIGHTS with one descriptor, or none */
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len != CMSG_LEN(sizeof(int)) || nfds++) {
			close_fds(&mh);
			return -1;
		}
		memcpy(fd, CMSG_DATA(c), sizeof *fd);
	}
	if (vg_msg_decode(buf, (size_t)n, m) != 0) {
		close_fds(&mh);
		*fd = -1;
		return -1;
	}
	return 1;
}
