/*
 * vigild_wire_fuzzer.c - what vigild reads from its scan workers and
 * engine processes, which have read hostile files: replies, jobs and
 * engine-process messages on arbitrary bytes. A decoded reply must be
 * consistent and survive a round trip.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onaccess/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static vg_reply r, back;
	static uint8_t buf[VG_WIRE_MAX];
	static vg_wire_job job;
	vg_zy_msg m;

	if (size > VG_WIRE_MAX)
		return 0;
	if (vg_wire_reply_decode(data, size, &r) == 0) {
		size_t n;
		if (r.nfindings > VG_REPLY_MAX_FINDINGS || r.verdict > 3)
			abort();
		for (size_t i = 0; i < r.nfindings; i++)
			if (strlen(r.findings[i].name) > 4096)
				abort();
		n = vg_wire_reply_encode(buf, &r);
		if (!n || vg_wire_reply_decode(buf, n, &back) != 0 ||
		    back.nfindings != r.nfindings || back.job_id != r.job_id)
			abort();
	}
	if (vg_wire_job_decode(data, size, &job) == 0 &&
	    strlen(job.name) > VG_WIRE_MAX_NAME)
		abort();
	if (vg_zy_decode(data, size, &m) == 0 &&
	    strlen(m.text) >= sizeof m.text)
		abort();
	return 0;
}
