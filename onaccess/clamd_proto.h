/*
 * clamd_proto.h - framing and parsing of clamd protocol commands, the
 * bytes vigild reads from any local (or TCP) client. Bounds-checked,
 * fuzzed (fuzz/vigild_clamd_fuzzer.c).
 *
 * Framing as clamd: "zCMD args\0" and "nCMD args\n" (the forms
 * IDSESSION needs), and the legacy "CMD args\n" (one command, then the
 * connection closes).
 */
#ifndef VIGIL_ONACCESS_CLAMD_PROTO_H
#define VIGIL_ONACCESS_CLAMD_PROTO_H

#include <stddef.h>
#include <stdint.h>

typedef enum vg_clamd_id {
	VG_CLAMD_UNKNOWN = 0,
	VG_CLAMD_PING,
	VG_CLAMD_VERSION,
	VG_CLAMD_VERSIONCOMMANDS,
	VG_CLAMD_RELOAD,
	VG_CLAMD_SHUTDOWN,
	VG_CLAMD_SCAN,
	VG_CLAMD_CONTSCAN,
	VG_CLAMD_MULTISCAN,
	VG_CLAMD_ALLMATCHSCAN,
	VG_CLAMD_INSTREAM,
	VG_CLAMD_FILDES,
	VG_CLAMD_STATS,
	VG_CLAMD_IDSESSION,
	VG_CLAMD_END,
	VG_CLAMD_AUTH /* vigild's own: AUTH <TCPToken> */
} vg_clamd_id;

typedef struct vg_clamd_cmd {
	vg_clamd_id id;
	char term;    /* '\0' (z), '\n' (n and legacy) */
	int legacy;   /* no z/n prefix: not allowed in IDSESSION */
	const char *arg; /* NUL-terminated, or NULL */
} vg_clamd_cmd;

/*
 * Looks for one whole command at the start of buf[0..len). Returns the
 * bytes it takes (prefix and terminator included), 0 when more bytes
 * are needed, -1 when it cannot end within max bytes.
 */
long vg_clamd_frame(const uint8_t *buf, size_t len, size_t max);

/*
 * Parses the framed command buf[0..n) (as vg_clamd_frame measured it)
 * into out, writing a NUL over its terminator so out->arg is a string
 * inside buf. Commands with a NUL byte in them are UNKNOWN.
 */
void vg_clamd_parse(uint8_t *buf, size_t n, vg_clamd_cmd *out);

/* The command's name as clamd spells it; "" for UNKNOWN. */
const char *vg_clamd_name(vg_clamd_id id);

/* The INSTREAM chunk length in a 4-byte big-endian header. */
uint32_t vg_clamd_chunk_len(const uint8_t b[4]);

#endif
