/*
 * bundle_bench.c - memory and time of engines built from loose files or
 * from a bundle, for bench/bundle.sh. Uses the public API only.
 *
 *   bundle_bench load   [--warm N] SOURCE...   one engine: load time, RSS
 *   bundle_bench reload [--warm N] SOURCE... [-- NEW...]   a second engine
 *                        (of NEW, default the same sources) built while the
 *                        first serves, as a daemon reloads: the first is
 *                        warm, the second cold until the swap; peak RSS
 *                        and PSS against the steady state
 *   bundle_bench hold   [--warm N] SOURCE...   load, warm, print "ready",
 *                        wait for stdin to close (for PSS of N processes)
 *
 * Sources are what `vigil scan -d` takes; bundles are checked against
 * the trust store of --trust DIR (first option), or taken unsigned
 * without it. RSS is given whole and as anonymous (private heap) and
 * file (mapped bundle pages, shared) parts. "Warm"
 * scans N random 64-byte buffers, each an MD5 look-up when the hash
 * list has wildcard sizes: the pages of the hash set a long-running
 * scanner would touch become resident.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vigil/vigil.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A field of /proc/self/status in kB ("VmRSS", "VmHWM"). */
static long status_kb(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, field, n) && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kb;
}

/* Proportional set size of this process in kB: a page mapped twice
 * (both engines mapping one bundle) counts once, where RSS counts it
 * for each mapping. */
static long pss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps_rollup", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "Pss:", 4))
			kb = strtol(line + 4, NULL, 10);
	fclose(f);
	return kb;
}

/* Resets VmHWM to the current RSS (Linux 4.0+). */
static void reset_peak(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");

	if (f) {
		fputs("5", f);
		fclose(f);
	}
}

static const char *trust;

static vigil_engine *build(char **src, int n)
{
	vigil_engine *e = NULL;

	if (vigil_engine_new(&e) != VIGIL_OK ||
	    vigil_engine_set_option(e, VIGIL_OPT_ALLOW_UNSIGNED, !trust) ||
	    (trust && vigil_engine_set_trust_dir(e, trust)) ||
	    vigil_engine_set_option(e, VIGIL_OPT_NO_UNPACK, 1))
		exit(2);
	for (int i = 0; i < n; i++)
		if (vigil_engine_load(e, src[i]) != VIGIL_OK) {
			fprintf(stderr, "bundle_bench: %s\n", vigil_engine_last_error(e));
			exit(2);
		}
	if (vigil_engine_freeze(e) != VIGIL_OK) {
		fprintf(stderr, "bundle_bench: %s\n", vigil_engine_last_error(e));
		exit(2);
	}
	return e;
}

static void warm(const vigil_engine *e, long n)
{
	vigil_scanner *s = NULL;
	uint64_t x = 88172645463325252ull;
	uint8_t buf[64];

	if (n <= 0)
		return;
	if (vigil_scanner_new(e, &s) != VIGIL_OK)
		exit(2);
	for (long i = 0; i < n; i++) {
		vigil_result *r = NULL;
		for (size_t j = 0; j < sizeof buf; j += 8) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			memcpy(buf + j, &x, 8);
		}
		if (vigil_scan_mem(s, buf, sizeof buf, "w.bin", &r) == VIGIL_OK)
			vigil_result_free(r);
	}
	vigil_scanner_free(s);
}

int main(int argc, char **argv)
{
	long warm_n = 0;
	const char *mode;
	vigil_engine *e1, *e2;
	double t0, t1;
	int first = 2;

	if (argc < 3) {
		fputs("usage: bundle_bench load|reload|hold [--trust DIR] [--warm N] "
		      "SOURCE...\n", stderr);
		return 2;
	}
	mode = argv[1];
	if (!strcmp(argv[first], "--trust") && argc > first + 2) {
		trust = argv[first + 1];
		first += 2;
	}
	if (!strcmp(argv[first], "--warm") && argc > first + 2) {
		warm_n = atol(argv[first + 1]);
		first += 2;
	}
	/* "reload ... -- NEW...": the second engine's sources */
	int n1 = argc - first, n2 = 0;
	char **src2 = NULL;
	for (int i = first; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			n1 = i - first;
			src2 = argv + i + 1;
			n2 = argc - i - 1;
			break;
		}
	if (!src2) {
		src2 = argv + first;
		n2 = n1;
	}
	t0 = now_s();
	e1 = build(argv + first, n1);
	t1 = now_s();
	warm(e1, warm_n);
	if (!strcmp(mode, "load")) {
		printf("load_s %.3f rss_kb %ld anon_kb %ld file_kb %ld peak_kb %ld "
		       "pss_kb %ld signatures %llu\n", t1 - t0, status_kb("VmRSS"),
		       status_kb("RssAnon"), status_kb("RssFile"), status_kb("VmHWM"),
		       pss_kb(), (unsigned long long)vigil_engine_signature_count(e1));
	} else if (!strcmp(mode, "reload")) {
		long steady = status_kb("VmRSS"), steady_pss = pss_kb();
		long peak, both_pss, after;
		reset_peak();
		t0 = now_s();
		e2 = build(src2, n2);
		t1 = now_s();
		peak = status_kb("VmHWM");
		both_pss = pss_kb();
		/* the swap: the old engine goes, the new one warms up */
		vigil_engine_free(e1);
		warm(e2, warm_n);
		after = status_kb("VmRSS");
		printf("steady_kb %ld steady_pss_kb %ld reload_peak_kb %ld "
		       "both_pss_kb %ld after_kb %ld ratio %.2f pss_ratio %.2f "
		       "reload_s %.3f\n", steady, steady_pss, peak, both_pss, after,
		       (double)peak / (double)steady,
		       (double)both_pss / (double)steady_pss, t1 - t0);
		e1 = e2;
	} else if (!strcmp(mode, "hold")) {
		char c;
		printf("ready %ld\n", (long)getpid());
		fflush(stdout);
		while (read(0, &c, 1) > 0)
			;
	} else {
		fprintf(stderr, "bundle_bench: unknown mode %s\n", mode);
		return 2;
	}
	vigil_engine_free(e1);
	return 0;
}
