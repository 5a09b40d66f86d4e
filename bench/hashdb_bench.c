/*
 * hashdb_bench.c - load, freeze and look up a million-entry hash list
 * (MD5, SHA-1 and SHA-256 in thirds, unique ClamAV-shaped names): CPU
 * time of load+freeze, memory per entry, nanoseconds per look-up. The
 * speed budget lives here, not in a unit test (tests/check_hashdb.c
 * asserts what the set finds, and its memory): a unit test asserts
 * behaviour, a benchmark measures speed.
 *
 * Usage: hashdb_bench [MAX_CPU_SECONDS]   exits 1 when load+freeze takes
 * more CPU time than that (default 1.0; 0 prints only). CPU time, not
 * wall time: on a shared machine wall time measures the neighbours.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/digest.h"
#include "signatures/hashdb.h"
#include "vigil/vigil.h"

#define N 1000000

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void entry(uint64_t i, uint8_t hash[32], uint32_t *size,
                  vg_hash_kind *kind)
{
	uint64_t s = i * 0x5851f42d4c957f2dull;
	for (int j = 0; j < 32; j += 8) {
		uint64_t v = splitmix(&s);
		memcpy(hash + j, &v, 8);
	}
	*size = (uint32_t)(splitmix(&s) % 10000000) + 1;
	*kind = (vg_hash_kind)(i % 3);
}

static double since(clockid_t clock, const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(clock, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	double budget = argc > 1 ? atof(argv[1]) : 1.0, cpu, wall;
	const char *tmp = getenv("TMPDIR");
	char path[4096];
	struct timespec t0, c0;
	vigil_engine *e;
	vg_hashdb *db;
	size_t found = 0;
	FILE *f;
	int fd;

	snprintf(path, sizeof path, "%s/vigil-hashdb-bench-XXXXXX.hdb",
	         tmp && *tmp ? tmp : "/tmp");
	if ((fd = mkstemps(path, 4)) < 0 || !(f = fdopen(fd, "w")))
		return 2;
	for (uint64_t i = 0; i < N; i++) {
		uint8_t hash[32];
		char hex[65];
		uint32_t size;
		vg_hash_kind kind;
		entry(i, hash, &size, &kind);
		vg_hex(hash, vg_hash_len(kind), hex);
		fprintf(f, "%s:%u:Win.Test.Generated-%07u-0\n", hex, size,
		        (unsigned)i);
	}
	if (fclose(f) != 0 || vigil_engine_new(&e) != VIGIL_OK ||
	    !(db = vg_hashdb_new()))
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	if (vg_hashdb_load(db, e, path) != VIGIL_OK ||
	    vg_hashdb_freeze(db) != VIGIL_OK) {
		fprintf(stderr, "%s\n", vigil_engine_last_error(e));
		return 2;
	}
	cpu = since(CLOCK_PROCESS_CPUTIME_ID, &c0);
	wall = since(CLOCK_MONOTONIC, &t0);
	unlink(path);
	printf("hashdb: %d entries: load+freeze %.3f s CPU (%.3f s wall), "
	       "%.1f bytes/entry\n", N, cpu, wall,
	       (double)vg_hashdb_memory(db) / N);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t i = 0; i < N; i++) {
		uint8_t hash[32];
		uint32_t size;
		vg_hash_kind kind;
		entry(i, hash, &size, &kind);
		found += vg_hashdb_lookup(db, kind, hash, size) != NULL;
	}
	printf("hashdb: %.0f ns per look-up (%zu of %d found)\n",
	       since(CLOCK_MONOTONIC, &t0) * 1e9 / N, found, N);
	vg_hashdb_free(db);
	vigil_engine_free(e);
	if (budget > 0 && cpu > budget) {
		printf("hashdb: over the budget of %.2f s CPU\n", budget);
		return 1;
	}
	return found == N ? 0 : 1;
}
