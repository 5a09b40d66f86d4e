/*
 * hashdb_fuzzer.c - the hash list reader: the input (after its first
 * byte, which picks .hdb, .hsb, .fp or .sfp) becomes a signature file,
 * loaded into a fresh engine, frozen, and used for a scan.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/vigil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Signature files are read line by line; a few lines are enough to
 * reach every branch, and a small cap keeps runs fast. */
#define MAX_INPUT (256 * 1024)

static const char *const extensions[4] = { ".hdb", ".hsb", ".fp", ".sfp" };
static char dir[4096];
static char paths[4][4200];

static void cleanup(void)
{
	for (int i = 0; i < 4; i++)
		unlink(paths[i]);
	rmdir(dir);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof dir, "%s/vigil-hashdb-fuzz-XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	for (int i = 0; i < 4; i++)
		snprintf(paths[i], sizeof paths[i], "%s/input%s", dir, extensions[i]);
	atexit(cleanup);
}

static int write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	if (size && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static void scan(const vigil_engine *e, const void *data, size_t size)
{
	vigil_scanner *s = NULL;
	vigil_result *r = NULL;

	if (vigil_scanner_new(e, &s) != VIGIL_OK)
		abort();
	if (vigil_scan_mem(s, data, size, "fuzz.bin", &r) == VIGIL_OK) {
		for (size_t i = 0; i < vigil_result_finding_count(r); i++)
			if (!*vigil_finding_name(vigil_result_finding(r, i)))
				abort(); /* names are never empty */
	}
	vigil_result_free(r);
	vigil_scanner_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char hello[] = "hello world\n";
	vigil_engine *e = NULL;
	const char *path;
	vigil_error err;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	if (!dir[0])
		setup();
	path = paths[data[0] % 4];
	if (write_file(path, data + 1, size - 1))
		abort();
	if (vigil_engine_new(&e) != VIGIL_OK ||
	    vigil_engine_set_limit(e, VIGIL_LIMIT_CACHE_ENTRIES, 0) ||
	    vigil_engine_set_option(e, VIGIL_OPT_NO_ML, 1) ||
	    vigil_engine_set_option(e, VIGIL_OPT_NO_UNPACK, 1))
		abort();
	err = vigil_engine_load(e, path);
	if (err == VIGIL_EDATABASE) {
		/* a bad line is named by file and line */
		const char *msg = vigil_engine_last_error(e);
		size_t n = strlen(path);
		if (strncmp(msg, path, n) != 0 || msg[n] != ':')
			abort();
	} else if (err != VIGIL_OK) {
		abort(); /* the file exists and is readable */
	}
	if (vigil_engine_freeze(e) != VIGIL_OK)
		abort();
	scan(e, hello, sizeof hello - 1);
	scan(e, data, size < 256 ? size : 256);
	vigil_engine_free(e);
	return 0;
}
