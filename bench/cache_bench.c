/*
 * cache_bench.c - one process scans the same unchanged tree twice and
 * prints how much faster the second pass is (the verdict cache), with
 * the time to get an engine ready and the peak RSS after loading.
 *
 *   cache_bench [-j N] [-d FILE|DIR]... [-l LIST]... [--no-unpack]
 *               [--cache-entries N] [--load-only] [-v] [TREE]
 *
 * -d loads a signature file or folder, as vigil scan -d does. -l loads
 * every file named in LIST, one path a line, relative to LIST's folder
 * unless absolute (the format of signature-base's DEFAULT-SET.txt). The built-in test
 * signatures are left out, as with vigil scan --no-default-signatures.
 * --cache-entries sets VIGIL_LIMIT_CACHE_ENTRIES (default: the engine's).
 * --load-only stops after the engine is ready (for the memory figure).
 * -v lists on stderr the first files the second pass did not take from
 * the cache, to see why it is slower than it should be.
 *
 * The tree is walked once into a list before any timing; then N threads
 * (default 2), each with its own vigil_scanner on the one frozen engine,
 * take files from the list in turn. Uses only the public API.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <vigil/vigil.h>

struct file_list {
	char **paths;
	uint64_t *sizes;
	size_t n, cap;
	uint64_t bytes;
};

/* What one pass over the list found. */
struct pass {
	const struct file_list *files;
	vigil_scanner **scanners;
	atomic_size_t next;
	atomic_size_t infected, errors, cached;
	atomic_int uncached_shown; /* -v on the second pass, else -1 */
};

struct worker {
	struct pass *pass;
	vigil_scanner *scanner;
};

/* nftw has no user pointer: the list it fills is file-global. */
static struct file_list walked;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mb(uint64_t bytes)
{
	return (double)bytes / 1e6;
}

static int on_entry(const char *path, const struct stat *st, int type,
                    struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if (walked.n == walked.cap) {
		size_t ncap = walked.cap ? 2 * walked.cap : 4096;
		char **np = realloc(walked.paths, ncap * sizeof *np);
		uint64_t *ns;
		if (!np)
			return -1;
		walked.paths = np;
		if (!(ns = realloc(walked.sizes, ncap * sizeof *ns)))
			return -1;
		walked.sizes = ns;
		walked.cap = ncap;
	}
	if (!(walked.paths[walked.n] = strdup(path)))
		return -1;
	walked.sizes[walked.n++] = (uint64_t)st->st_size;
	walked.bytes += (uint64_t)st->st_size;
	return 0;
}

static void *scan_files(void *arg)
{
	struct worker *w = arg;
	struct pass *p = w->pass;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->files->n) {
		vigil_result *r = NULL;
		if (vigil_scan_path(w->scanner, p->files->paths[i], &r) != VIGIL_OK) {
			atomic_fetch_add(&p->errors, 1);
			continue;
		}
		if (vigil_result_verdict(r) >= VIGIL_SUSPICIOUS)
			atomic_fetch_add(&p->infected, 1);
		if (vigil_result_cached(r))
			atomic_fetch_add(&p->cached, 1);
		else if (atomic_load(&p->uncached_shown) >= 0 &&
		         atomic_fetch_add(&p->uncached_shown, 1) < 20)
			fprintf(stderr, "not cached: %s (%s, %s, %.1f ms)\n",
			        p->files->paths[i],
			        vigil_verdict_name(vigil_result_verdict(r)),
			        vigil_result_type(r),
			        (double)vigil_result_time_us(r) / 1000.0);
		vigil_result_free(r);
	}
	return NULL;
}

/* One pass over the list with nthreads scanners; returns seconds or -1. */
static double run_pass(const struct file_list *files, vigil_scanner **scanners,
                       int nthreads, int show_uncached, struct pass *p)
{
	pthread_t tid[64];
	struct worker w[64];
	double t0;
	int started = 0;

	p->files = files;
	atomic_init(&p->next, 0);
	atomic_init(&p->infected, 0);
	atomic_init(&p->errors, 0);
	atomic_init(&p->cached, 0);
	atomic_init(&p->uncached_shown, show_uncached ? 0 : -1);
	t0 = now();
	for (int i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ p, scanners[i] };
		if (pthread_create(&tid[i], NULL, scan_files, &w[i]) != 0)
			break;
		started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	return started == nthreads ? now() - t0 : -1;
}

static void print_pass(const char *what, const struct file_list *files,
                       const struct pass *p, double secs)
{
	printf("%s: %.3f s (%.1f MB/s), %zu infected, %zu errors, %zu cached\n",
	       what, secs, secs > 0 ? mb(files->bytes) / secs : 0.0,
	       (size_t)atomic_load(&p->infected), (size_t)atomic_load(&p->errors),
	       (size_t)atomic_load(&p->cached));
}

/* Loads every path listed in list, relative to the list's folder. */
static int load_list(vigil_engine *e, const char *list)
{
	const char *slash = strrchr(list, '/');
	int dirlen = slash ? (int)(slash - list) : 1;
	const char *dir = slash ? list : ".";
	char line[4096], path[8192];
	FILE *f = fopen(list, "r");
	int rc = 0;

	if (!f) {
		fprintf(stderr, "cache_bench: %s: %s\n", list, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof line, f)) {
		vigil_error err;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (line[0] == '/')
			snprintf(path, sizeof path, "%s", line);
		else
			snprintf(path, sizeof path, "%.*s/%s", dirlen, dir, line);
		if ((err = vigil_engine_load(e, path)) != VIGIL_OK) {
			fprintf(stderr, "cache_bench: %s: %s: %s\n", path,
			        vigil_strerror(err), vigil_engine_last_error(e));
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}

static void usage(void)
{
	fputs("usage: cache_bench [-j N] [-d FILE|DIR]... [-l LIST]... "
	      "[--no-unpack] [--cache-entries N] [--load-only] [-v] [TREE]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	vigil_engine *engine = NULL;
	vigil_scanner *scanners[64] = { NULL };
	struct pass first, second;
	struct rusage ru;
	const char *tree = NULL;
	int nthreads = 2, load_only = 0, no_unpack = 0, verbose = 0, rc = 1;
	double t0, ready, t_first, t_second;
	vigil_error err;

	t0 = now();
	if (vigil_engine_new(&engine) != VIGIL_OK ||
	    vigil_engine_set_option(engine, VIGIL_OPT_NO_DEFAULT_SIGNATURES, 1) != VIGIL_OK) {
		fputs("cache_bench: cannot create an engine\n", stderr);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-j") && i + 1 < argc) {
			nthreads = atoi(argv[++i]);
			if (nthreads < 1 || nthreads > 64)
				usage();
		} else if (!strcmp(a, "-d") && i + 1 < argc) {
			if ((err = vigil_engine_load(engine, argv[++i])) != VIGIL_OK) {
				fprintf(stderr, "cache_bench: %s: %s: %s\n", argv[i],
				        vigil_strerror(err), vigil_engine_last_error(engine));
				goto out;
			}
		} else if (!strcmp(a, "-l") && i + 1 < argc) {
			if (load_list(engine, argv[++i]) != 0)
				goto out;
		} else if (!strcmp(a, "--cache-entries") && i + 1 < argc) {
			char *end;
			unsigned long long n = strtoull(argv[++i], &end, 10);
			if (*end || vigil_engine_set_limit(engine, VIGIL_LIMIT_CACHE_ENTRIES,
			                                   n) != VIGIL_OK)
				usage();
		} else if (!strcmp(a, "--no-unpack")) {
			no_unpack = 1;
		} else if (!strcmp(a, "--load-only")) {
			load_only = 1;
		} else if (!strcmp(a, "-v")) {
			verbose = 1;
		} else if (a[0] == '-' || tree) {
			usage();
		} else {
			tree = a;
		}
	}
	if (!tree && !load_only)
		usage();
	if (no_unpack &&
	    (err = vigil_engine_set_option(engine, VIGIL_OPT_NO_UNPACK, 1)) != VIGIL_OK) {
		fprintf(stderr, "cache_bench: --no-unpack: %s\n", vigil_strerror(err));
		goto out;
	}
	if ((err = vigil_engine_freeze(engine)) != VIGIL_OK) {
		fprintf(stderr, "cache_bench: freeze: %s: %s\n", vigil_strerror(err),
		        vigil_engine_last_error(engine));
		goto out;
	}
	ready = now() - t0;
	getrusage(RUSAGE_SELF, &ru);
	printf("engine ready: %.3f s (%llu signatures)\n", ready,
	       (unsigned long long)vigil_engine_signature_count(engine));
	printf("peak RSS after load: %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
	if (load_only) {
		rc = 0;
		goto out;
	}

	if (nftw(tree, on_entry, 64, FTW_PHYS) != 0) {
		fprintf(stderr, "cache_bench: cannot walk %s: %s\n", tree, strerror(errno));
		goto out;
	}
	printf("files: %zu (%.1f MB), threads: %d\n", walked.n, mb(walked.bytes),
	       nthreads);
	for (int i = 0; i < nthreads; i++) {
		if ((err = vigil_scanner_new(engine, &scanners[i])) != VIGIL_OK) {
			fprintf(stderr, "cache_bench: scanner: %s\n", vigil_strerror(err));
			goto out;
		}
	}
	if ((t_first = run_pass(&walked, scanners, nthreads, 0, &first)) < 0 ||
	    (t_second = run_pass(&walked, scanners, nthreads, verbose, &second)) < 0) {
		fputs("cache_bench: cannot start threads\n", stderr);
		goto out;
	}
	print_pass("first scan", &walked, &first, t_first);
	print_pass("second scan", &walked, &second, t_second);
	printf("second scan speed-up: %.1fx\n",
	       t_second > 0 ? t_first / t_second : 0.0);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS after scans: %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
	rc = 0;
	/* The cache must not change a verdict. */
	if (atomic_load(&first.infected) != atomic_load(&second.infected)) {
		fputs("cache_bench: the two scans found different numbers of "
		      "infected files\n", stderr);
		rc = 1;
	}
out:
	for (int i = 0; i < 64; i++)
		vigil_scanner_free(scanners[i]);
	vigil_engine_free(engine);
	for (size_t i = 0; i < walked.n; i++)
		free(walked.paths[i]);
	free(walked.paths);
	free(walked.sizes);
	return rc;
}
