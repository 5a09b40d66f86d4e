/*
 * scan.c - see scan.h. Decoding writes into a second body (memory, then
 * a temporary file) so the engine scans the bytes a browser would see,
 * whole, with every stage and unpacker; the original body is what gets
 * echoed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icap/scan.h"

/* Bytes read from a body per decoder call. */
#define VG_DECODE_CHUNK (256 * 1024)

static void merge(struct vg_outcome *o, vigil_result *r)
{
	vigil_verdict v = vigil_result_verdict(r);
	size_t n = vigil_result_finding_count(r);

	o->bytes += vigil_result_bytes_scanned(r);
	if (v == VIGIL_INCOMPLETE)
		o->incomplete_other = 1;
	if (v < o->verdict || (v == o->verdict && o->threat[0]))
		return;
	o->verdict = v;
	for (size_t i = 0; i < n; i++) {
		const vigil_finding *f = vigil_result_finding(r, i);
		if (vigil_finding_verdict(f) != v)
			continue;
		snprintf(o->threat, sizeof o->threat, "%s", vigil_finding_name(f));
		snprintf(o->layer, sizeof o->layer, "%s", vigil_finding_layer(f));
		if (v == VIGIL_INCOMPLETE && !o->reason[0])
			snprintf(o->reason, sizeof o->reason, "%s%s%s",
			         vigil_finding_name(f),
			         *vigil_finding_detail(f) ? ": " : "",
			         vigil_finding_detail(f));
		break;
	}
}

static void fail(struct vg_outcome *o, const char *fmt, const char *a,
                 const char *b)
{
	o->error = 1;
	snprintf(o->reason, sizeof o->reason, fmt, a, b);
}

static void incomplete(struct vg_outcome *o, const char *what,
                       const char *why)
{
	o->incomplete_other = 1;
	if (o->verdict < VIGIL_INCOMPLETE)
		o->verdict = VIGIL_INCOMPLETE;
	if (!o->reason[0])
		snprintf(o->reason, sizeof o->reason, "%s: %s", what, why);
}

/* Scans the bytes of one body with libvigil: in place when they are in
 * memory or mapped (no copy into the scanner's buffer), else the file. */
static void scan_one(vigil_scanner *sc, struct vg_body *b, const char *name,
                     struct vg_outcome *o)
{
	const char *data = vg_body_data(b);
	vigil_result *r = NULL;
	vigil_error rc;
	int fd;

	if (b->size == 0)
		return;
	if (data) {
		rc = vigil_scan_mem(sc, data, (size_t)b->size, name, &r);
	} else if ((fd = vg_body_fd(b)) < 0) {
		fail(o, "cannot keep the body: %s%s", strerror(errno), "");
		return;
	} else {
		rc = vigil_scan_fd(sc, fd, name, &r);
	}
	if (rc != VIGIL_OK) {
		fail(o, "scan: %s: %s", vigil_strerror(rc),
		     vigil_scanner_last_error(sc));
		return;
	}
	merge(o, r);
	vigil_result_free(r);
}

static int sink_body(void *ctx, const void *buf, size_t len)
{
	return vg_body_append(ctx, buf, len);
}

/* Decodes src into dst; returns the decoder's final status. */
static enum vg_dec_status decode(struct vg_body *src, enum vg_enc enc,
                                 const struct vg_dec_limits *lim,
                                 struct vg_body *dst)
{
	struct vg_decoder *d = vg_decoder_new(enc, lim);
	const char *data = vg_body_data(src);
	enum vg_dec_status st = VG_DEC_OK;
	uint64_t off = 0;
	char *chunk = NULL;

	if (!d || (!data && !(chunk = malloc(VG_DECODE_CHUNK)))) {
		vg_decoder_free(d);
		return VG_DEC_NOMEM;
	}
	while (st == VG_DEC_OK && off < src->size) {
		ssize_t n;
		if (data) {
			size_t len = src->size - off > VG_DECODE_CHUNK
			                     ? VG_DECODE_CHUNK
			                     : (size_t)(src->size - off);
			st = vg_decoder_feed(d, data + off, len, sink_body, dst);
			off += len;
			continue;
		}
		if ((n = vg_body_read(src, off, chunk, VG_DECODE_CHUNK)) <= 0) {
			st = VG_DEC_SINK;
			break;
		}
		st = vg_decoder_feed(d, chunk, (size_t)n, sink_body, dst);
		off += (uint64_t)n;
	}
	if (st == VG_DEC_OK)
		st = vg_decoder_finish(d);
	vg_decoder_free(d);
	free(chunk);
	if (st != VG_DEC_SINK && st != VG_DEC_NOMEM && vg_body_seal(dst) != 0)
		st = VG_DEC_SINK; /* the decoded bytes could not be written */
	return st;
}

void vg_scan_body(struct vg_slot *slot, struct vg_body *body,
                  const enum vg_enc *encs, int nenc, const char *name,
                  const char *tmpdir, size_t mem_limit,
                  struct vg_outcome *o)
{
	vigil_scanner *sc;
	struct vg_body bufs[2], *cur = body;
	int used[2] = {0, 0}, scan_raw = 0;
	struct vg_dec_limits lim;
	const vigil_engine *e;

	if (!slot) {
		fail(o, "%s%s", "no engine loaded", "");
		return;
	}
	e = vg_slot_engine(slot);
	if (!(sc = vg_slot_scanner_get(slot))) {
		fail(o, "%s%s", "cannot make a scanner: out of memory", "");
		return;
	}
	lim.max_out = vigil_engine_get_limit(e, VIGIL_LIMIT_MAX_EXTRACTED);
	lim.max_ratio = vigil_engine_get_limit(e, VIGIL_LIMIT_MAX_RATIO);
	lim.ratio_min = vigil_engine_get_limit(e, VIGIL_LIMIT_RATIO_MIN_SIZE);

	if (nenc < 0) {
		incomplete(o, "Content-Encoding", "unknown coding");
		nenc = 0;
	}
	/* undo the codings last applied first, each into the other buffer */
	for (int i = nenc - 1; i >= 0 && !o->error; i--) {
		int k = (nenc - 1 - i) % 2;
		enum vg_dec_status st;
		if (used[k])
			vg_body_free(&bufs[k]);
		vg_body_init(&bufs[k], mem_limit, tmpdir, 0);
		used[k] = 1;
		st = decode(cur, encs[i], &lim, &bufs[k]);
		cur = &bufs[k];
		switch (st) {
		case VG_DEC_OK:
			break;
		case VG_DEC_TRAILING:
			scan_raw = 1; /* what follows the stream is scanned raw */
			break;
		case VG_DEC_LIMIT:
		case VG_DEC_TRUNCATED:
		case VG_DEC_CORRUPT:
			incomplete(o, vg_enc_name(encs[i]), vg_dec_status_name(st));
			scan_raw = 1;
			i = -1; /* scan what was decoded so far */
			break;
		default:
			fail(o, "decoding %s: %s", vg_enc_name(encs[i]),
			     vg_dec_status_name(st));
			break;
		}
	}
	if (!o->error)
		scan_one(sc, cur, name, o);
	if (!o->error && scan_raw && cur != body)
		scan_one(sc, body, name, o);
	for (int k = 0; k < 2; k++)
		if (used[k])
			vg_body_free(&bufs[k]);
	vg_slot_scanner_put(slot, sc);
}

int vg_policy_blocks(const struct vg_icap_conf *c, const struct vg_outcome *o)
{
	switch (o->verdict) {
	case VIGIL_MALICIOUS:
		return 1;
	case VIGIL_SUSPICIOUS:
		return c->block_suspicious;
	default:
		break;
	}
	if (o->error)
		return !c->pass_on_error;
	if (o->verdict == VIGIL_INCOMPLETE || o->oversize) {
		if (o->incomplete_other && !c->pass_incomplete)
			return 1;
		if (o->oversize && !c->pass_oversize)
			return 1;
	}
	return 0;
}

const char *vg_outcome_verdict_name(const struct vg_outcome *o)
{
	if (o->error && o->verdict < VIGIL_SUSPICIOUS)
		return "ERROR";
	if (o->oversize && o->verdict == VIGIL_CLEAN)
		return "INCOMPLETE";
	return vigil_verdict_name(o->verdict);
}
