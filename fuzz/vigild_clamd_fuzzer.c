/*
 * vigild_clamd_fuzzer.c - the clamd command framing and parser on
 * arbitrary bytes, as a client would send them: every framed command
 * parses, arguments stay inside the buffer, INSTREAM chunk headers read
 * in bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onaccess/clamd_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CMD 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	size_t off = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	while (off < size) {
		long n = vg_clamd_frame(buf + off, size - off, MAX_CMD);
		vg_clamd_cmd cmd;
		if (n <= 0)
			break;
		if ((size_t)n > size - off || n > MAX_CMD)
			abort();
		vg_clamd_parse(buf + off, (size_t)n, &cmd);
		if (cmd.arg && (cmd.arg < (char *)buf + off ||
		                cmd.arg + strlen(cmd.arg) >= (char *)buf + off + n))
			abort();
		if (cmd.id == VG_CLAMD_UNKNOWN && cmd.arg)
			abort();
		(void)vg_clamd_name(cmd.id);
		off += (size_t)n;
		if (cmd.id == VG_CLAMD_INSTREAM && size - off >= 4) {
			(void)vg_clamd_chunk_len(buf + off);
			off += 4;
		}
	}
	free(buf);
	return 0;
}
