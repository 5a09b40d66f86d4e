/*
 * worker_msg_fuzzer.c - the decoder of the messages an unpacking worker
 * sends its caller (worker/proto.c), which reads them as hostile bytes:
 * every record decodes or is refused, every string it yields is
 * NUL-terminated inside its field, and what decodes encodes back to the
 * same bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t cap)
{
	if (!memchr(s, '\0', cap))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static vg_msg m;
	static vg_msg_out out;

	if (size > VG_MSG_MAX || vg_msg_decode(data, size, &m) != 0)
		return 0;
	switch (m.type) {
	case VG_MSG_MEMBER:
		check_str(m.u.member.name, sizeof m.u.member.name);
		break;
	case VG_MSG_FINDING:
		check_str(m.u.finding.stage, sizeof m.u.finding.stage);
		check_str(m.u.finding.name, sizeof m.u.finding.name);
		check_str(m.u.finding.layer, sizeof m.u.finding.layer);
		check_str(m.u.finding.detail, sizeof m.u.finding.detail);
		check_str(m.u.finding.reason, sizeof m.u.finding.reason);
		if (m.u.finding.verdict > VIGIL_MALICIOUS)
			abort();
		break;
	case VG_MSG_JOB:
		check_str(m.u.job.name, sizeof m.u.job.name);
		check_str(m.u.job.layer_path, sizeof m.u.job.layer_path);
		break;
	case VG_MSG_CONFIG:
		if (m.u.config.ndbs > VG_MSG_MAX_DBS)
			abort();
		break;
	default:
		break;
	}
	/* a record that decodes is the canonical form of its message */
	if (vg_msg_encode(&m, &out) != 0 || out.len + out.tail_len != size ||
	    memcmp(out.buf, data, out.len) != 0 ||
	    (out.tail_len && memcmp(out.tail, data + out.len, out.tail_len)))
		abort();
	return 0;
}
