/*
 * decode.h - HTTP Content-Encoding decoders (gzip, deflate, br, zstd)
 * for srv_vigil: the bytes a browser would see are what gets scanned.
 *
 * The input is untrusted. A decoder stops at its limits (output size,
 * ratio of output to input past a minimum size) and reports it; it never
 * grows memory with the input beyond its fixed window. No c-icap types
 * here, so the fuzz target can link this file alone.
 */
#ifndef VIGIL_ICAP_DECODE_H
#define VIGIL_ICAP_DECODE_H

#include <stddef.h>
#include <stdint.h>

enum vg_enc {
	VG_ENC_IDENTITY = 0,
	VG_ENC_GZIP,    /* gzip, x-gzip: RFC 1952, members may follow */
	VG_ENC_DEFLATE, /* deflate: zlib (RFC 1950), or raw deflate as sent by some servers */
	VG_ENC_BR,      /* br: brotli (RFC 7932) */
	VG_ENC_ZSTD,    /* zstd (RFC 8878), window at most 8 MiB */
	VG_ENC_UNKNOWN
};

/* Most codings one Content-Encoding header may stack. */
#define VG_ENC_MAX 4

/*
 * Parses a Content-Encoding value ("gzip", "br, gzip"...) into the codings
 * in the order they were applied, identity dropped. Returns their number
 * (0 for none), or -1 when there are more than max or one is unknown
 * (then *unknown names it, static storage).
 */
int vg_enc_parse(const char *value, enum vg_enc *out, int max,
                 const char **unknown);

/* "gzip", "deflate", "br", "zstd", "identity", "unknown". */
const char *vg_enc_name(enum vg_enc enc);

enum vg_dec_status {
	VG_DEC_OK = 0,     /* all input decoded, stream complete */
	VG_DEC_TRUNCATED,  /* input ended inside the stream */
	VG_DEC_CORRUPT,    /* not a valid stream of this coding */
	VG_DEC_TRAILING,   /* valid stream followed by other bytes */
	VG_DEC_LIMIT,      /* output size or ratio limit: a bomb */
	VG_DEC_NOMEM,      /* out of memory */
	VG_DEC_SINK        /* the sink failed */
};

const char *vg_dec_status_name(enum vg_dec_status st);

struct vg_dec_limits {
	uint64_t max_out;   /* most bytes of output; 0: no limit */
	uint64_t max_ratio; /* most output per input byte; 0: no limit */
	uint64_t ratio_min; /* output below this size is exempt from the ratio */
};

/* Receives decoded bytes; returns 0, or -1 to stop with VG_DEC_SINK. */
typedef int (*vg_dec_sink)(void *ctx, const void *buf, size_t len);

struct vg_decoder;

/* NULL when out of memory or for IDENTITY / UNKNOWN. */
struct vg_decoder *vg_decoder_new(enum vg_enc enc,
                                  const struct vg_dec_limits *limits);
void vg_decoder_free(struct vg_decoder *d);

/*
 * Feeds the next input bytes; decoded output goes to sink. Returns
 * VG_DEC_OK while the stream goes on; any other status is final (feed no
 * more). TRAILING is reported as soon as bytes follow a complete stream.
 */
enum vg_dec_status vg_decoder_feed(struct vg_decoder *d, const void *in,
                                   size_t len, vg_dec_sink sink, void *ctx);

/* Ends the input: VG_DEC_OK if the stream was complete, else TRUNCATED. */
enum vg_dec_status vg_decoder_finish(struct vg_decoder *d);

/* Bytes decoded so far. */
uint64_t vg_decoder_out_bytes(const struct vg_decoder *d);

#endif
