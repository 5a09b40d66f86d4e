# bench/local.mk - benchmarks against yara, clamscan and clamd; not part
# of make check (see doc/benchmarks.md). cache_bench is built with the
# rest so that an API change that breaks it shows at once.
noinst_PROGRAMS += bench/cache_bench
bench_cache_bench_SOURCES = bench/cache_bench.c
bench_cache_bench_LDADD = libvigil.la

EXTRA_DIST += bench/run.sh bench/make_corpus.sh bench/make_hashlist.sh \
	bench/compare_matches.py doc/benchmarks.md
EXTRA_DIST += bench/archive_bench.sh
EXTRA_DIST += bench/isolation_bench.sh

# the million-entry hash list's load time and look-up speed (its CPU
# budget, once an assertion of tests/check_hashdb)
noinst_PROGRAMS += bench/hashdb_bench
bench_hashdb_bench_SOURCES = bench/hashdb_bench.c
bench_hashdb_bench_LDFLAGS = -static
bench_hashdb_bench_LDADD = libvigil.la $(libvigil_la_LIBADD)
