/*
 * bundle_fuzzer.c - the bundle reader: the input is written as a .vgb
 * file and goes through the public handle (open, verify against a
 * trust store with one key, check the parts, describe them) and into an
 * engine that takes unsigned bundles without checking part digests, so
 * the hash set and model parsers see the mutated bytes; the engine then
 * scans a few buffers. YARA and ClamAV parts are skipped: their bytes go
 * to libyara and libclamav, which trust them (bundles are signed).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/bundle.h"
#include "vigil/bundle.h"
#include "vigil/vigil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (1024 * 1024)

static char dir[4096], path[4200], trust[4200], sec[4200], pub[4200];

static void cleanup(void)
{
	unlink(path);
	unlink(sec);
	unlink(pub);
	rmdir(trust);
	rmdir(dir);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof dir, "%s/vigil-bundle-fuzz-XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof path, "%s/input.vgb", dir);
	snprintf(trust, sizeof trust, "%s/trust", dir);
	snprintf(sec, sizeof sec, "%s/k.sec", dir);
	snprintf(pub, sizeof pub, "%s/trust/k.pub", dir);
	if (mkdir(trust, 0700) != 0 || vigil_key_generate(sec, pub) != VIGIL_OK)
		abort();
	atexit(cleanup);
}

static void describe(void)
{
	vigil_bundle *b = NULL;
	vigil_bundle_part_info info;

	if (vigil_bundle_new(&b) != VIGIL_OK)
		abort();
	if (vigil_bundle_open(b, path) == VIGIL_OK) {
		(void)vigil_bundle_verify(b, trust);
		(void)vigil_bundle_check_parts(b);
		(void)vigil_bundle_signer(b);
		for (size_t i = 0; i < vigil_bundle_part_count(b); i++)
			if (vigil_bundle_part(b, i, &info) != VIGIL_OK ||
			    info.offset % 4096 != 0)
				abort(); /* the reader let a bad part through */
	} else if (!*vigil_bundle_last_error(b)) {
		abort(); /* every refusal says why */
	}
	vigil_bundle_free(b);
}

static void scan(const vigil_engine *e, const void *buf, size_t n)
{
	vigil_scanner *s = NULL;
	vigil_result *r = NULL;

	if (vigil_scanner_new(e, &s) != VIGIL_OK)
		abort();
	if (vigil_scan_mem(s, buf, n, "fuzz.bin", &r) == VIGIL_OK)
		for (size_t i = 0; i < vigil_result_finding_count(r); i++)
			if (!vigil_finding_name(vigil_result_finding(r, i)))
				abort();
	vigil_result_free(r);
	vigil_scanner_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char hello[] = "hello world\n";
	vigil_engine *e = NULL;
	FILE *f;

	if (size > MAX_INPUT)
		return 0;
	if (!dir[0])
		setup();
	if (!(f = fopen(path, "wb")) || (size && fwrite(data, 1, size, f) != size) ||
	    fclose(f) != 0)
		abort();
	describe();
	if (vigil_engine_new(&e) != VIGIL_OK ||
	    vigil_engine_set_limit(e, VIGIL_LIMIT_CACHE_ENTRIES, 0) ||
	    vigil_engine_set_option(e, VIGIL_OPT_NO_UNPACK, 1) ||
	    vigil_engine_set_option(e, VIGIL_OPT_ALLOW_UNSIGNED, 1) ||
	    vigil_engine_set_trust_dir(e, trust))
		abort();
	if (vg_bundle_load(e, path, VG_BUNDLE_LOAD_NO_DIGESTS |
	                            VG_BUNDLE_LOAD_OWN_PARTS) == VIGIL_OK &&
	    vigil_engine_freeze(e) == VIGIL_OK) {
		scan(e, hello, sizeof hello - 1);
		scan(e, data, size < 4096 ? size : 4096);
	} else if (!*vigil_engine_last_error(e)) {
		abort();
	}
	vigil_engine_free(e);
	return 0;
}
