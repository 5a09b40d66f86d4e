/*
 * icap_decode_fuzzer.c - srv_vigil's Content-Encoding decoders. The
 * first byte picks the coding and how the body is cut into feeds (the
 * network hands bodies over in pieces); the rest is the body. The
 * output must stay within the limits given, whatever the input.
 * The first line of the input is also parsed as a Content-Encoding value.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "icap/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (256 * 1024)
#define MAX_OUT (4u << 20)

static uint64_t seen;

static int sink(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	seen += len;
	return 0;
}

static void parse_header(const uint8_t *data, size_t size)
{
	char value[64];
	enum vg_enc encs[VG_ENC_MAX];
	const char *why;
	size_t n = 0;

	while (n < size && n < sizeof value - 1 && data[n] != '\n')
		n++;
	memcpy(value, data, n);
	value[n] = '\0';
	if (vg_enc_parse(value, encs, VG_ENC_MAX, &why) > VG_ENC_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum vg_enc encs[4] = {VG_ENC_GZIP, VG_ENC_DEFLATE,
	                                    VG_ENC_BR, VG_ENC_ZSTD};
	struct vg_dec_limits lim = {MAX_OUT, 100, 64 * 1024};
	struct vg_decoder *d;
	enum vg_dec_status st = VG_DEC_OK;
	size_t step, off = 1;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	parse_header(data + 1, size - 1);
	if (!(d = vg_decoder_new(encs[data[0] & 3], &lim)))
		return 0;
	step = (data[0] >> 2) ? (size_t)(data[0] >> 2) * 97 : size;
	seen = 0;
	while (st == VG_DEC_OK && off < size) {
		size_t n = size - off < step ? size - off : step;
		st = vg_decoder_feed(d, data + off, n, sink, NULL);
		off += n;
	}
	if (st == VG_DEC_OK)
		st = vg_decoder_finish(d);
	if (seen != vg_decoder_out_bytes(d) || seen > MAX_OUT ||
	    !vg_dec_status_name(st))
		abort();
	vg_decoder_free(d);
	return 0;
}
