/*
 * decode.c - streaming Content-Encoding decoders with limits. Each
 * decoder keeps a fixed output window and hands every decoded block to a
 * sink at once, so memory does not grow with the body.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <brotli/decode.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include "icap/decode.h"

/* Output block handed to the sink. */
#define VG_DEC_BLOCK 65536
/* zstd window limit: RFC 8878 asks HTTP decoders for at least 8 MiB. */
#define VG_ZSTD_WINDOW_LOG 23

struct vg_decoder {
	enum vg_enc enc;
	struct vg_dec_limits lim;
	uint64_t in_total;  /* input bytes consumed */
	uint64_t out_total; /* output bytes produced */
	int done;           /* a complete stream (member, frame) ended last */
	int started;        /* zlib/brotli/zstd state set up */
	unsigned members;   /* gzip members complete */
	uint8_t hdr[2];     /* deflate: first bytes, to tell zlib from raw */
	size_t hdr_len;
	z_stream z;
	BrotliDecoderState *br;
	ZSTD_DStream *zs;
	uint8_t out[VG_DEC_BLOCK];
};

static const struct {
	const char *name;
	enum vg_enc enc;
} enc_names[] = {
	{"identity", VG_ENC_IDENTITY}, {"gzip", VG_ENC_GZIP},
	{"x-gzip", VG_ENC_GZIP},       {"deflate", VG_ENC_DEFLATE},
	{"br", VG_ENC_BR},             {"zstd", VG_ENC_ZSTD},
};

const char *vg_enc_name(enum vg_enc enc)
{
	switch (enc) {
	case VG_ENC_IDENTITY: return "identity";
	case VG_ENC_GZIP: return "gzip";
	case VG_ENC_DEFLATE: return "deflate";
	case VG_ENC_BR: return "br";
	case VG_ENC_ZSTD: return "zstd";
	default: return "unknown";
	}
}

int vg_enc_parse(const char *value, enum vg_enc *out, int max,
                 const char **unknown)
{
	int n = 0;
	const char *p = value;

	*unknown = NULL;
	while (p && *p) {
		const char *start, *end;
		size_t len, i;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		len = (size_t)(end - start);
		for (i = 0; i < sizeof enc_names / sizeof enc_names[0]; i++)
			if (strlen(enc_names[i].name) == len &&
			    strncasecmp(enc_names[i].name, start, len) == 0)
				break;
		if (i == sizeof enc_names / sizeof enc_names[0]) {
			*unknown = "unknown coding";
			return -1;
		}
		if (enc_names[i].enc == VG_ENC_IDENTITY)
			continue;
		if (n == max) {
			*unknown = "too many codings";
			return -1;
		}
		out[n++] = enc_names[i].enc;
	}
	return n;
}

const char *vg_dec_status_name(enum vg_dec_status st)
{
	switch (st) {
	case VG_DEC_OK: return "ok";
	case VG_DEC_TRUNCATED: return "truncated stream";
	case VG_DEC_CORRUPT: return "corrupt stream";
	case VG_DEC_TRAILING: return "data after the stream";
	case VG_DEC_LIMIT: return "decoded size or ratio limit";
	case VG_DEC_NOMEM: return "out of memory";
	case VG_DEC_SINK: return "output error";
	}
	return "?";
}

struct vg_decoder *vg_decoder_new(enum vg_enc enc,
                                  const struct vg_dec_limits *limits)
{
	struct vg_decoder *d;

	if (enc != VG_ENC_GZIP && enc != VG_ENC_DEFLATE && enc != VG_ENC_BR &&
	    enc != VG_ENC_ZSTD)
		return NULL;
	if (!(d = calloc(1, sizeof *d)))
		return NULL;
	d->enc = enc;
	if (limits)
		d->lim = *limits;
	if (enc == VG_ENC_GZIP) {
		if (inflateInit2(&d->z, 15 + 16) != Z_OK)
			goto fail;
		d->started = 1;
	} else if (enc == VG_ENC_BR) {
		if (!(d->br = BrotliDecoderCreateInstance(NULL, NULL, NULL)))
			goto fail;
		d->started = 1;
	} else if (enc == VG_ENC_ZSTD) {
		if (!(d->zs = ZSTD_createDStream()) ||
		    ZSTD_isError(ZSTD_initDStream(d->zs)) ||
		    ZSTD_isError(ZSTD_DCtx_setParameter(
		            d->zs, ZSTD_d_windowLogMax, VG_ZSTD_WINDOW_LOG)))
			goto fail;
		d->started = 1;
	}
	return d;
fail:
	vg_decoder_free(d);
	return NULL;
}

void vg_decoder_free(struct vg_decoder *d)
{
	if (!d)
		return;
	if ((d->enc == VG_ENC_GZIP || d->enc == VG_ENC_DEFLATE) && d->started)
		inflateEnd(&d->z);
	if (d->br)
		BrotliDecoderDestroyInstance(d->br);
	if (d->zs)
		ZSTD_freeDStream(d->zs);
	free(d);
}

uint64_t vg_decoder_out_bytes(const struct vg_decoder *d)
{
	return d->out_total;
}

/* Hands n bytes of output to the sink within the limits. */
static enum vg_dec_status emit(struct vg_decoder *d, size_t n,
                               vg_dec_sink sink, void *ctx)
{
	enum vg_dec_status st = VG_DEC_OK;

	if (n == 0)
		return VG_DEC_OK;
	if (d->lim.max_out && d->out_total + n > d->lim.max_out) {
		/* the part below the limit is still scanned */
		n = (size_t)(d->lim.max_out - d->out_total);
		st = VG_DEC_LIMIT;
	}
	d->out_total += n;
	if (n && sink(ctx, d->out, n) != 0)
		return VG_DEC_SINK;
	if (st == VG_DEC_OK && d->lim.max_ratio &&
	    d->out_total > d->lim.ratio_min &&
	    d->out_total / d->lim.max_ratio > d->in_total)
		st = VG_DEC_LIMIT;
	return st;
}

/* zlib: gzip members back to back, or one zlib / raw deflate stream. */
static enum vg_dec_status feed_zlib(struct vg_decoder *d, const uint8_t *in,
                                    size_t len, vg_dec_sink sink, void *ctx)
{
	enum vg_dec_status st;

	d->z.next_in = (Bytef *)(uintptr_t)in;
	d->z.avail_in = (uInt)len;
	for (;;) {
		uInt before_in = d->z.avail_in;
		size_t produced;
		int rc;

		if (d->done) {
			if (d->z.avail_in == 0)
				return VG_DEC_OK;
			/* another gzip member may follow; anything else is trailing */
			if (d->enc != VG_ENC_GZIP || d->z.next_in[0] != 0x1f)
				return VG_DEC_TRAILING;
			if (inflateReset(&d->z) != Z_OK)
				return VG_DEC_NOMEM;
			d->done = 0;
		}
		d->z.next_out = d->out;
		d->z.avail_out = sizeof d->out;
		rc = inflate(&d->z, Z_NO_FLUSH);
		produced = sizeof d->out - d->z.avail_out;
		d->in_total += before_in - d->z.avail_in;
		if ((st = emit(d, produced, sink, ctx)) != VG_DEC_OK)
			return st;
		if (rc == Z_STREAM_END) {
			d->done = 1;
			d->members++;
			continue;
		}
		if (rc == Z_MEM_ERROR)
			return VG_DEC_NOMEM;
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return d->members ? VG_DEC_TRAILING : VG_DEC_CORRUPT;
		if (d->z.avail_in == 0 && d->z.avail_out != 0)
			return VG_DEC_OK;
		if (produced == 0 && d->z.avail_in == before_in)
			return VG_DEC_OK; /* no progress possible: wait for input */
	}
}

/* deflate: a zlib header, else raw deflate (what some servers send). */
static enum vg_dec_status feed_deflate(struct vg_decoder *d, const uint8_t *in,
                                       size_t len, vg_dec_sink sink,
                                       void *ctx)
{
	if (!d->started) {
		int zlib_hdr, wbits;
		enum vg_dec_status st;

		while (d->hdr_len < 2 && len > 0) {
			d->hdr[d->hdr_len++] = *in++;
			len--;
		}
		if (d->hdr_len < 2)
			return VG_DEC_OK;
		zlib_hdr = (d->hdr[0] & 0x0f) == 8 && (d->hdr[0] >> 4) <= 7 &&
		           ((d->hdr[0] << 8) | d->hdr[1]) % 31 == 0;
		wbits = zlib_hdr ? 15 : -15;
		if (inflateInit2(&d->z, wbits) != Z_OK)
			return VG_DEC_NOMEM;
		d->started = 1;
		if ((st = feed_zlib(d, d->hdr, 2, sink, ctx)) != VG_DEC_OK)
			return st;
	}
	return feed_zlib(d, in, len, sink, ctx);
}

static enum vg_dec_status feed_brotli(struct vg_decoder *d, const uint8_t *in,
                                      size_t len, vg_dec_sink sink, void *ctx)
{
	size_t avail_in = len;
	const uint8_t *next_in = in;

	if (d->done)
		return len ? VG_DEC_TRAILING : VG_DEC_OK;
	for (;;) {
		size_t avail_out = sizeof d->out, before = avail_in;
		uint8_t *next_out = d->out;
		BrotliDecoderResult r;
		enum vg_dec_status st;

		r = BrotliDecoderDecompressStream(d->br, &avail_in, &next_in,
		                                  &avail_out, &next_out, NULL);
		d->in_total += before - avail_in;
		if ((st = emit(d, sizeof d->out - avail_out, sink, ctx)) != VG_DEC_OK)
			return st;
		switch (r) {
		case BROTLI_DECODER_RESULT_SUCCESS:
			d->done = 1;
			return avail_in ? VG_DEC_TRAILING : VG_DEC_OK;
		case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
			continue;
		case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
			return VG_DEC_OK;
		default:
			if (BrotliDecoderGetErrorCode(d->br) <=
			    BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES &&
			    BrotliDecoderGetErrorCode(d->br) >=
			            BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES)
				return VG_DEC_NOMEM;
			return VG_DEC_CORRUPT;
		}
	}
}

static enum vg_dec_status feed_zstd(struct vg_decoder *d, const uint8_t *in,
                                    size_t len, vg_dec_sink sink, void *ctx)
{
	ZSTD_inBuffer ib = {in, len, 0};

	for (;;) {
		ZSTD_outBuffer ob = {d->out, sizeof d->out, 0};
		size_t before = ib.pos, ret;
		enum vg_dec_status st;

		ret = ZSTD_decompressStream(d->zs, &ob, &ib);
		d->in_total += ib.pos - before;
		if (ZSTD_isError(ret)) {
			if (ZSTD_getErrorCode(ret) ==
			    ZSTD_error_frameParameter_windowTooLarge)
				return VG_DEC_LIMIT;
			if (ZSTD_getErrorCode(ret) == ZSTD_error_memory_allocation)
				return VG_DEC_NOMEM;
			/* garbage after a complete frame */
			return d->done ? VG_DEC_TRAILING : VG_DEC_CORRUPT;
		}
		if ((st = emit(d, ob.pos, sink, ctx)) != VG_DEC_OK)
			return st;
		if (ret == 0)
			d->done = 1; /* frame complete; another may follow */
		else if (ib.pos > before || ob.pos)
			d->done = 0;
		if (ib.pos == ib.size && ob.pos < ob.size)
			return VG_DEC_OK;
	}
}

enum vg_dec_status vg_decoder_feed(struct vg_decoder *d, const void *in,
                                   size_t len, vg_dec_sink sink, void *ctx)
{
	const uint8_t *p = in;
	enum vg_dec_status st = VG_DEC_OK;

	switch (d->enc) {
	case VG_ENC_GZIP:
	case VG_ENC_DEFLATE:
		/* zlib counts input in uInt */
		do {
			size_t n = len > (1u << 30) ? (1u << 30) : len;
			st = d->enc == VG_ENC_GZIP ? feed_zlib(d, p, n, sink, ctx)
			                           : feed_deflate(d, p, n, sink, ctx);
			p += n;
			len -= n;
		} while (st == VG_DEC_OK && len > 0);
		return st;
	case VG_ENC_BR: return feed_brotli(d, in, len, sink, ctx);
	case VG_ENC_ZSTD: return feed_zstd(d, in, len, sink, ctx);
	default: return VG_DEC_CORRUPT;
	}
}

enum vg_dec_status vg_decoder_finish(struct vg_decoder *d)
{
	if (d->in_total == 0 && d->hdr_len == 0)
		return VG_DEC_OK; /* an empty body stays empty */
	if (d->enc == VG_ENC_BR)
		return BrotliDecoderIsFinished(d->br) ? VG_DEC_OK
		                                       : VG_DEC_TRUNCATED;
	return d->done ? VG_DEC_OK : VG_DEC_TRUNCATED;
}
