/*
 * scan_fuzzer.c - the whole pipeline on a buffer: type detection,
 * digests, every stage (built-in signatures, ML) and every unpacker,
 * recursively. Limits are tighter than the defaults so that one input
 * stays fast, but every limit path is still reachable.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "vigil/vigil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static vigil_engine *engine;
static vigil_scanner *scanner;

static void setup(void)
{
	if (vigil_engine_new(&engine) != VIGIL_OK ||
	    vigil_engine_set_limit(engine, VIGIL_LIMIT_CACHE_ENTRIES, 0) ||
	    vigil_engine_set_limit(engine, VIGIL_LIMIT_MAX_DEPTH, 6) ||
	    vigil_engine_set_limit(engine, VIGIL_LIMIT_MAX_MEMBERS, 200) ||
	    vigil_engine_set_limit(engine, VIGIL_LIMIT_MAX_EXTRACTED, 16 << 20) ||
	    vigil_engine_set_limit(engine, VIGIL_LIMIT_MAX_MEMBER_SIZE, 4 << 20) ||
	    vigil_engine_set_limit(engine, VIGIL_LIMIT_MAX_SCAN_MS, 3000) ||
	    /* vigil's own code, in this process where libFuzzer sees it;
	     * the worker boundary has worker_msg_fuzzer */
	    vigil_engine_set_option(engine, VIGIL_OPT_NO_ISOLATION, 1) ||
	    vigil_engine_freeze(engine) != VIGIL_OK ||
	    vigil_scanner_new(engine, &scanner) != VIGIL_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vigil_result *r = NULL;
	vigil_error err;

	if (!engine)
		setup();
	err = vigil_scan_mem(scanner, data, size, "fuzz.bin", &r);

	/* a bug of vigil's own, never an answer to hostile input */
	if (err == VIGIL_EINTERNAL || err == VIGIL_EINVAL)
		abort();
	if (err == VIGIL_OK) {
		/* every finding must be readable, whatever stopped the scan */
		for (size_t i = 0; i < vigil_result_finding_count(r); i++) {
			const vigil_finding *f = vigil_result_finding(r, i);
			if (!vigil_finding_name(f) || !vigil_finding_layer(f))
				abort();
		}
	}
	vigil_result_free(r);
	return 0;
}
