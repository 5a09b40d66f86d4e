/*
 * alloc_torture.c - out of memory is an error, never CLEAN (curl's
 * torture mode, for a scanner). For every input, one scan counts the
 * allocations the scan makes (T) and gives the verdict it must keep;
 * then for N = 1, 1 + S, 1 + 2S, ... up to T, a scan runs with the Nth
 * allocation failing. Each such scan must end with the same detection,
 * with an error, or INCOMPLETE: never CLEAN or a weaker verdict, never a
 * crash (and under ASan, never a leak).
 *
 * Every input is scanned in-process (VIGIL_OPT_NO_ISOLATION), where
 * the unpackers' allocations fail in turn too; five (clam.zip,
 * clam.exe.bz2 and the archives built here) again through vigil-unpackd,
 * where the caller's side of the worker protocol fails instead.
 *
 * Inputs: every clamav-testfile (found by the built-in clam.exe
 * signature in whatever layer holds it) and two archives with a YARA
 * hit built here: a zip whose member matches, and a gzip whose 3 MB
 * member matches only at offset 3000000 (the member grows through
 * reallocs: a failed one once turned MALICIOUS into CLEAN). And one
 * whose only finding is a limit (a zip member over a 1000-byte member
 * size limit, INCOMPLETE), for the reports of limits that were once
 * dropped when they failed.
 *
 * Usage: alloc_torture [-v] [-s STRIDE] [-f FILE]...  With no -f, the
 * inputs above; -v prints the outcome of every run. STRIDE defaults
 * to $VIGIL_TORTURE_STRIDE, else to the one that
 * keeps each input at about VIGIL_TORTURE_RUNS (default 64) failing
 * runs: bounded time (47 inputs, about 2,300 scans), and every
 * allocation of the archives built here and of most clamav-testfiles
 * still fails in turn (they make at most 64); the few large ones
 * (InstallShield, OLE2, CHM) are sampled evenly.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/alloc_fail.h"
#include "vigil/vigil.h"

#define MARK "vigil-torture-mark-5d3a"
#define DEEP_OFFSET 3000000

typedef struct input {
	char name[256];
	unsigned char *data;
	size_t size;
	int small_limits;   /* scan with the 1000-byte member size limit */
	int isolated;       /* tortured through vigil-unpackd too */
} input;

static input inputs[128];
static size_t ninputs;
static int failures;
static int verbose;

static void add_input(const char *name, unsigned char *data, size_t size)
{
	if (ninputs == sizeof inputs / sizeof *inputs) {
		free(data);
		return;
	}
	snprintf(inputs[ninputs].name, sizeof inputs[ninputs].name, "%s", name);
	inputs[ninputs].isolated = !strcmp(name, "clam.zip") ||
	                           !strcmp(name, "clam.exe.bz2");
	inputs[ninputs].data = data;
	inputs[ninputs].size = size;
	ninputs++;
}

static int add_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	add_input(strrchr(path, '/') ? strrchr(path, '/') + 1 : path, buf,
	          (size_t)n);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[128];
	size_t n = 0;
	char path[4096];

	if (!d)
		return -1;
	while ((de = readdir(d)) && n < 128)
		if (de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, name_cmp);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		add_file(path);
		free(names[i]);
	}
	return n ? 0 : -1;
}

/* One member in a new archive of the given format and filter. */
static void add_archive(const char *name, const char *format,
                        const char *filter, const char *member,
                        const void *data, size_t size)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t cap = size + (1u << 20), used = 0;
	unsigned char *buf = malloc(cap);

	if (!a || !e || !buf ||
	    archive_write_set_format_by_name(a, format) != ARCHIVE_OK ||
	    (filter && archive_write_add_filter_by_name(a, filter) != ARCHIVE_OK) ||
	    archive_write_open_memory(a, buf, cap, &used) != ARCHIVE_OK) {
		fprintf(stderr, "cannot build %s\n", name);
		exit(99);
	}
	archive_entry_set_pathname(e, member);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    archive_write_data(a, data, size) != (la_ssize_t)size ||
	    archive_write_close(a) != ARCHIVE_OK) {
		fprintf(stderr, "cannot build %s: %s\n", name,
		        archive_error_string(a));
		exit(99);
	}
	archive_entry_free(e);
	archive_write_free(a);
	add_input(name, buf, used);
}

static void add_yara_archives(void)
{
	size_t n = DEEP_OFFSET + 4096;
	unsigned char *deep = malloc(n);
	static const char small[] = "some text, then " MARK ", then more";
	uint32_t x = 12345;

	if (!deep)
		exit(99);
	/* bytes that do not compress: the ratio limit stays out of it */
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		deep[i] = (unsigned char)(x >> 24);
	}
	memcpy(deep + DEEP_OFFSET, MARK, sizeof MARK - 1);
	add_archive("yara-hit.zip", "zip", NULL, "dir/payload.txt", small,
	            sizeof small - 1);
	inputs[ninputs - 1].isolated = 1;
	add_archive("yara-deep.bin.gz", "raw", "gzip", "deep.bin", deep, n);
	inputs[ninputs - 1].isolated = 1;
	add_archive("limit.zip", "zip", NULL, "big.bin", deep, 4000);
	inputs[ninputs - 1].small_limits = 1;
	inputs[ninputs - 1].isolated = 1;
	free(deep);
}

static size_t nisolated(void)
{
	size_t n = 0;
	for (size_t i = 0; i < ninputs; i++)
		n += inputs[i].isolated != 0;
	return n;
}

static vigil_engine *make_engine(const char *rules, uint64_t member_size,
                                 int isolated)
{
	vigil_engine *e;

	if (vigil_engine_new(&e) != VIGIL_OK ||
	    vigil_engine_set_limit(e, VIGIL_LIMIT_CACHE_ENTRIES, 0) != VIGIL_OK ||
	    vigil_engine_set_option(e, VIGIL_OPT_NO_ISOLATION, !isolated) !=
	    VIGIL_OK ||
	    (member_size && vigil_engine_set_limit(e,
	        VIGIL_LIMIT_MAX_MEMBER_SIZE, member_size) != VIGIL_OK) ||
	    vigil_engine_load(e, rules) != VIGIL_OK ||
	    vigil_engine_freeze(e) != VIGIL_OK) {
		fprintf(stderr, "engine: %s\n", vigil_engine_last_error(e));
		exit(99);
	}
	return e;
}

/* Scans one input with the Nth allocation failing (0: none). */
static vigil_error scan(vigil_scanner *s, const input *in, long n,
                        vigil_verdict *v, int *hit)
{
	vigil_result *r = NULL;
	vigil_error err;

	if (n)
		vg_alloc_fail_arm(n);
	err = vigil_scan_mem(s, in->data, in->size, in->name, &r);
	*hit = n ? vg_alloc_fail_disarm() : 0;
	*v = err == VIGIL_OK ? vigil_result_verdict(r) : VIGIL_CLEAN;
	vigil_result_free(r);
	return err;
}

static void torture(vigil_scanner *s, const input *in, const char *how,
                    long stride_opt, long runs)
{
	vigil_verdict want, v;
	long total, stride, n_err = 0, n_incomplete = 0, n_found = 0, tried = 0;
	vigil_error err;
	int hit;

	vg_alloc_count_start();
	err = scan(s, in, 0, &want, &hit);
	total = vg_alloc_count_stop();
	if (err != VIGIL_OK || want == VIGIL_CLEAN) {
		printf("FAIL: %s%s: %s without failures (%s)\n", in->name, how,
		       err ? vigil_strerror(err) : vigil_verdict_name(want),
		       vigil_scanner_last_error(s));
		failures++;
		return;
	}
	stride = stride_opt > 0 ? stride_opt : (total + runs - 1) / runs;
	if (stride < 1)
		stride = 1;
	for (long n = 1; n <= total; n += stride) {
		err = scan(s, in, n, &v, &hit);
		tried++;
		if (verbose)
			printf("  %s: allocation %ld: %s%s\n", in->name, n,
			       err ? vigil_strerror(err) : vigil_verdict_name(v),
			       hit ? "" : " (no allocation failed)");
		if (err != VIGIL_OK)
			n_err++;
		else if (v == VIGIL_INCOMPLETE)
			n_incomplete++;
		else if (v >= want)
			n_found++;
		if (err == VIGIL_OK && v != VIGIL_INCOMPLETE && v < want) {
			printf("FAIL: %s%s: allocation %ld of %ld failed, verdict "
			       "%s\n", in->name, how, n, total, vigil_verdict_name(v));
			failures++;
		}
	}
	printf("ok: %s%s: %ld allocations, %ld failed one by one (stride %ld): "
	       "%ld %s, %ld errors, %ld INCOMPLETE\n", in->name, how, total, tried,
	       stride, n_found, vigil_verdict_name(want), n_err, n_incomplete);
}

int main(int argc, char **argv)
{
	const char *dir = getenv("CLAMAV_TESTFILES");
	const char *env = getenv("VIGIL_TORTURE_STRIDE");
	const char *runs_env = getenv("VIGIL_TORTURE_RUNS");
	long stride = env ? atol(env) : 0;
	long runs = runs_env ? atol(runs_env) : 64;
	char rules[] = "alloc-torture-XXXXXX.yar";
	vigil_engine *e, *small;
	vigil_scanner *s, *s_small;
	int opt, fd, named = 0;

	while ((opt = getopt(argc, argv, "s:f:v")) != -1) {
		switch (opt) {
		case 'v': verbose = 1; break;
		case 's': stride = atol(optarg); break;
		case 'f':
			if (add_file(optarg) != 0) {
				perror(optarg);
				return 99;
			}
			named = 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-v] [-s STRIDE] [-f FILE]...\n",
			        argv[0]);
			return 99;
		}
	}
	if (!named) {
		if (add_dir(dir ? dir : "/usr/share/clamav-testfiles") != 0) {
			printf("SKIP: no clamav-testfiles (package "
			       "clamav-testfiles)\n");
			return 77;
		}
		add_yara_archives();
	}
	if (runs < 1)
		runs = 1;
	/* in the build folder, where make check runs */
	if ((fd = mkstemps(rules, 4)) < 0 ||
	    dprintf(fd, "rule torture_mark { strings: $a = \"%s\" "
	            "condition: $a }\nrule torture_deep { strings: $a = "
	            "\"%s\" condition: $a at %d }\n", MARK, MARK,
	            DEEP_OFFSET) < 0) {
		perror(rules);
		return 99;
	}
	close(fd);
	/* In-process, every allocation of the unpackers fails in turn; the
	 * isolated pass adds the caller's side of vigil-unpackd (the same
	 * code for every input, so a few inputs cover it: each failure
	 * there costs a worker's restart) */
	for (int iso = 0; iso <= 1; iso++) {
		e = make_engine(rules, 0, iso);
		small = make_engine(rules, 1000, iso);
		if (vigil_scanner_new(e, &s) != VIGIL_OK ||
		    vigil_scanner_new(small, &s_small) != VIGIL_OK)
			return 99;
		for (size_t i = 0; i < ninputs; i++) {
			if (iso && !inputs[i].isolated)
				continue;
			torture(inputs[i].small_limits ? s_small : s, &inputs[i],
			        iso ? " (isolated)" : "", stride, runs);
			fflush(stdout);
		}
		vigil_scanner_free(s);
		vigil_scanner_free(s_small);
		vigil_engine_free(e);
		vigil_engine_free(small);
	}
	unlink(rules);
	for (size_t i = 0; i < ninputs; i++)
		free(inputs[i].data);
	printf("%zu inputs (%zu also isolated), %d failure(s)\n", ninputs,
	       nisolated(), failures);
	return failures ? 1 : 0;
}
