# bench/local.mk - benchmarks against yara, clamscan and clamd; not part
# of make check (see doc/benchmarks.md). cache_bench is built with the
# rest so that an API change that breaks it shows at once.
noinst_PROGRAMS += bench/cache_bench
bench_cache_bench_SOURCES = bench/cache_bench.c
bench_cache_bench_LDADD = libvigil.la

EXTRA_DIST += bench/run.sh bench/make_corpus.sh bench/make_hashlist.sh \
	bench/compare_matches.py doc/benchmarks.md
EXTRA_DIST += bench/archive_bench.sh
EXTRA_DIST += bench/scand.sh bench/instream_load.py
# c-icap services side by side: echo, virus_scan + clamav_mod, srv_vigil
EXTRA_DIST += bench/icap.sh bench/icap_load.py
EXTRA_DIST += bench/onaccess.sh bench/open_lat.c
# loose files against a bundle: load, reload peak, PSS (bench/bundle.sh)
noinst_PROGRAMS += bench/bundle_bench
bench_bundle_bench_SOURCES = bench/bundle_bench.c
bench_bundle_bench_LDADD = libvigil.la
EXTRA_DIST += bench/bundle.sh bench/vigild_reload.sh
EXTRA_DIST += bench/isolation_bench.sh

# the million-entry hash list's load time and look-up speed (its CPU
# budget, once an assertion of tests/check_hashdb)
noinst_PROGRAMS += bench/hashdb_bench
bench_hashdb_bench_SOURCES = bench/hashdb_bench.c
bench_hashdb_bench_LDFLAGS = -static
bench_hashdb_bench_LDADD = libvigil.la $(libvigil_la_LIBADD)
