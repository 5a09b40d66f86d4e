/*
 * wire.c - encodes and decodes the worker and engine-process messages
 * (see wire.h). Decoding goes through a cursor over engine/bytes.h's
 * checked reads, so a lying length can only fail the message.
 */
#include "config.h"

#include <string.h>

#include "engine/bytes.h"
#include "onaccess/wire.h"

#define JOB_MAGIC 0x3151474bu   /* "KGQ1" */
#define REPLY_MAGIC 0x3152474bu /* "KGR1" */

/* --- writing ----------------------------------------------------- */

typedef struct vg_out {
	uint8_t *buf;
	size_t cap, len;
	int full;
} vg_out;

static void put(vg_out *o, const void *p, size_t n)
{
	if (o->full || !vg_fits(o->cap, o->len, n)) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void put_u8(vg_out *o, uint8_t v) { put(o, &v, 1); }

static void put_u16(vg_out *o, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	put(o, b, 2);
}

static void put_u32(vg_out *o, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	                 (uint8_t)(v >> 24) };
	put(o, b, 4);
}

static void put_u64(vg_out *o, uint64_t v)
{
	put_u32(o, (uint32_t)v);
	put_u32(o, (uint32_t)(v >> 32));
}

/* A string of at most max bytes (cut, never split mid-message). */
static void put_str16(vg_out *o, const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n > max)
		n = max;
	put_u16(o, (uint16_t)n);
	put(o, s, n);
}

/* --- reading ----------------------------------------------------- */

typedef struct vg_in {
	const uint8_t *buf;
	size_t len, off;
	int bad;
} vg_in;

static uint8_t get_u8(vg_in *in)
{
	uint8_t v = 0;
	if (!in->bad && vg_u8(in->buf, in->len, in->off, &v))
		in->off += 1;
	else
		in->bad = 1;
	return v;
}

static uint16_t get_u16(vg_in *in)
{
	uint16_t v = 0;
	if (!in->bad && vg_u16le(in->buf, in->len, in->off, &v))
		in->off += 2;
	else
		in->bad = 1;
	return v;
}

static uint32_t get_u32(vg_in *in)
{
	uint32_t v = 0;
	if (!in->bad && vg_u32le(in->buf, in->len, in->off, &v))
		in->off += 4;
	else
		in->bad = 1;
	return v;
}

static uint64_t get_u64(vg_in *in)
{
	uint64_t v = 0;
	if (!in->bad && vg_u64le(in->buf, in->len, in->off, &v))
		in->off += 8;
	else
		in->bad = 1;
	return v;
}

/* Points at n bytes, or NULL (and marks the message bad). */
static const uint8_t *get_bytes(vg_in *in, size_t n)
{
	const uint8_t *p = in->bad ? NULL : vg_at(in->buf, in->len, in->off, n);
	if (!p) {
		in->bad = 1;
		return NULL;
	}
	in->off += n;
	return p;
}

/* --- jobs -------------------------------------------------------- */

size_t vg_wire_job_encode(uint8_t *buf, uint64_t job_id, uint32_t flags,
                          const char *name)
{
	vg_out o = { buf, VG_WIRE_MAX, 0, 0 };
	size_t n = name ? strlen(name) : 0;

	if (n > VG_WIRE_MAX_NAME)
		return 0;
	put_u32(&o, JOB_MAGIC);
	put_u64(&o, job_id);
	put_u32(&o, flags);
	put_str16(&o, name, VG_WIRE_MAX_NAME);
	return o.full ? 0 : o.len;
}

int vg_wire_job_decode(const uint8_t *buf, size_t len, vg_wire_job *job)
{
	vg_in in = { buf, len, 0, 0 };
	const uint8_t *name;
	uint16_t n;

	if (get_u32(&in) != JOB_MAGIC)
		return -1;
	job->job_id = get_u64(&in);
	job->flags = get_u32(&in);
	n = get_u16(&in);
	if (n > VG_WIRE_MAX_NAME || !(name = get_bytes(&in, n)) || in.off != len)
		return -1;
	if (memchr(name, 0, n))
		return -1;
	memcpy(job->name, name, n);
	job->name[n] = 0;
	return 0;
}

/* --- replies ----------------------------------------------------- */

void vg_reply_init(vg_reply *r, uint64_t job_id, vg_reply_status status)
{
	r->job_id = job_id;
	r->status = status;
	r->verdict = 0;
	r->error = 0;
	r->cached = 0;
	r->truncated = 0;
	r->size = r->time_us = r->bytes_scanned = 0;
	r->sha256[0] = 0;
	r->nfindings = 0;
	r->text_used = 1;
	r->text[0] = 0;
	r->type = r->text;
	r->message = r->text;
}

const char *vg_reply_strdup(vg_reply *r, const char *s, size_t len)
{
	char *p;

	if (!s || !vg_fits(sizeof r->text, r->text_used, len + 1))
		return r->text; /* text[0] is always "" */
	p = r->text + r->text_used;
	memcpy(p, s, len);
	p[len] = 0;
	r->text_used += len + 1;
	return p;
}

int vg_reply_add_finding(vg_reply *r, const char *stage, const char *name,
                         const char *layer, int verdict, double score,
                         const char *detail)
{
	vg_reply_finding *f;

	if (r->nfindings >= VG_REPLY_MAX_FINDINGS) {
		r->truncated = 1;
		return -1;
	}
	f = &r->findings[r->nfindings++];
	f->stage = vg_reply_strdup(r, stage, strlen(stage ? stage : ""));
	f->name = vg_reply_strdup(r, name, strlen(name ? name : ""));
	f->layer = vg_reply_strdup(r, layer, strlen(layer ? layer : ""));
	f->detail = vg_reply_strdup(r, detail, strlen(detail ? detail : ""));
	f->verdict = verdict;
	f->score = score;
	return 0;
}

/* Per-field caps: the finding count is what gives, not the fields. */
#define CAP_NAME 512
#define CAP_LAYER 2048
#define CAP_DETAIL 1024

size_t vg_wire_reply_encode(uint8_t *buf, const vg_reply *r)
{
	vg_out o = { buf, VG_WIRE_MAX, 0, 0 };
	size_t count_at, nfind = 0, flags_at;
	char sha[64];

	put_u32(&o, REPLY_MAGIC);
	put_u64(&o, r->job_id);
	put_u8(&o, (uint8_t)r->status);
	put_u8(&o, (uint8_t)r->verdict);
	put_u16(&o, (uint16_t)r->error);
	flags_at = o.len;
	put_u8(&o, (uint8_t)((r->cached ? 1 : 0) | (r->truncated ? 2 : 0)));
	put_u64(&o, r->size);
	put_u64(&o, r->time_us);
	put_u64(&o, r->bytes_scanned);
	memset(sha, 0, sizeof sha);
	memcpy(sha, r->sha256, strnlen(r->sha256, 64));
	put(&o, sha, 64);
	put_str16(&o, r->type, 64);
	put_str16(&o, r->message, 1024);
	count_at = o.len;
	put_u16(&o, 0);
	if (o.full)
		return 0;
	for (size_t i = 0; i < r->nfindings; i++) {
		const vg_reply_finding *f = &r->findings[i];
		size_t before = o.len;
		put_u8(&o, (uint8_t)f->verdict);
		put_u32(&o, (uint32_t)(f->score * 1e6 + 0.5));
		put_str16(&o, f->stage, 64);
		put_str16(&o, f->name, CAP_NAME);
		put_str16(&o, f->layer, CAP_LAYER);
		put_str16(&o, f->detail, CAP_DETAIL);
		if (o.full) {
			/* drop this one and the rest: say so */
			o.full = 0;
			o.len = before;
			buf[flags_at] |= 2;
			break;
		}
		nfind++;
	}
	buf[count_at] = (uint8_t)nfind;
	buf[count_at + 1] = (uint8_t)(nfind >> 8);
	return o.len;
}

static const char *get_str16(vg_in *in, vg_reply *r, size_t max)
{
	uint16_t n = get_u16(in);
	const uint8_t *p;

	if (n > max || !(p = get_bytes(in, n))) {
		in->bad = 1;
		return r->text;
	}
	if (memchr(p, 0, n)) {
		in->bad = 1;
		return r->text;
	}
	return vg_reply_strdup(r, (const char *)p, n);
}

int vg_wire_reply_decode(const uint8_t *buf, size_t len, vg_reply *r)
{
	vg_in in = { buf, len, 0, 0 };
	const uint8_t *sha;
	uint8_t flags;
	uint16_t nfind;

	vg_reply_init(r, 0, VG_REPLY_ERROR);
	if (len > VG_WIRE_MAX || get_u32(&in) != REPLY_MAGIC)
		return -1;
	r->job_id = get_u64(&in);
	r->status = (vg_reply_status)get_u8(&in);
	r->verdict = get_u8(&in);
	r->error = get_u16(&in);
	flags = get_u8(&in);
	r->cached = flags & 1;
	r->truncated = (flags & 2) != 0;
	r->size = get_u64(&in);
	r->time_us = get_u64(&in);
	r->bytes_scanned = get_u64(&in);
	if (!(sha = get_bytes(&in, 64)))
		return -1;
	/* a worker only ever reports these two; the rest are vigild's own */
	if (r->status != VG_REPLY_SCANNED && r->status != VG_REPLY_ERROR)
		return -1;
	if (r->verdict > 3)
		return -1;
	for (size_t i = 0; i < 64; i++) {
		uint8_t c = sha[i];
		if (!c && i == 0)
			break;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		r->sha256[i] = (char)c;
		r->sha256[i + 1] = 0;
	}
	r->type = get_str16(&in, r, 64);
	r->message = get_str16(&in, r, 1024);
	nfind = get_u16(&in);
	if (in.bad || nfind > VG_REPLY_MAX_FINDINGS)
		return -1;
	for (uint16_t i = 0; i < nfind; i++) {
		vg_reply_finding *f = &r->findings[i];
		f->verdict = get_u8(&in);
		f->score = get_u32(&in) / 1e6;
		f->stage = get_str16(&in, r, 64);
		f->name = get_str16(&in, r, CAP_NAME);
		f->layer = get_str16(&in, r, CAP_LAYER);
		f->detail = get_str16(&in, r, CAP_DETAIL);
		if (in.bad || f->verdict > 3 || f->score > 1.0)
			return -1;
		r->nfindings = (size_t)i + 1;
	}
	return in.off == len ? 0 : -1;
}

/* --- engine process ---------------------------------------------- */

size_t vg_zy_encode(uint8_t *buf, size_t cap, const vg_zy_msg *m)
{
	vg_out o = { buf, cap, 0, 0 };

	put_u8(&o, (uint8_t)m->kind);
	switch (m->kind) {
	case VG_ZY_READY:
		put_u64(&o, m->count);
		put_u64(&o, m->version);
		put_str16(&o, m->text, sizeof m->text - 1);
		break;
	case VG_ZY_FAILED:
		put_str16(&o, m->text, sizeof m->text - 1);
		break;
	case VG_ZY_WORKER:
		put_u32(&o, m->pid);
		break;
	case VG_ZY_DIED:
		put_u32(&o, m->pid);
		put_u32(&o, (uint32_t)m->status);
		break;
	case VG_ZY_SPAWN:
		break;
	default:
		return 0;
	}
	return o.full ? 0 : o.len;
}

int vg_zy_decode(const uint8_t *buf, size_t len, vg_zy_msg *m)
{
	vg_in in = { buf, len, 0, 0 };
	uint16_t n;
	const uint8_t *p;

	memset(m, 0, sizeof *m);
	m->kind = (char)get_u8(&in);
	switch (m->kind) {
	case VG_ZY_READY:
		m->count = get_u64(&in);
		m->version = get_u64(&in);
		/* fall through */
	case VG_ZY_FAILED:
		n = get_u16(&in);
		if (n >= sizeof m->text || !(p = get_bytes(&in, n)))
			return -1;
		memcpy(m->text, p, n);
		m->text[n] = 0;
		if (strlen(m->text) != n)
			return -1;
		break;
	case VG_ZY_WORKER:
		m->pid = get_u32(&in);
		break;
	case VG_ZY_DIED:
		m->pid = get_u32(&in);
		m->status = (int32_t)get_u32(&in);
		break;
	case VG_ZY_SPAWN:
		break;
	default:
		return -1;
	}
	return !in.bad && in.off == len ? 0 : -1;
}

void vg_reply_copy(vg_reply *dst, const vg_reply *src)
{
	const char *lo = src->text, *hi = src->text + sizeof src->text;
#define MOVE(field) \
	if (src->field >= lo && src->field < hi) \
		dst->field = dst->text + (src->field - lo)

	memcpy(dst, src, sizeof *dst);
	MOVE(type);
	MOVE(message);
	for (size_t i = 0; i < src->nfindings; i++) {
		MOVE(findings[i].stage);
		MOVE(findings[i].name);
		MOVE(findings[i].layer);
		MOVE(findings[i].detail);
	}
#undef MOVE
}
