# ml/local.mk - the ML stage: PE parser, features, model tables, stage
# (see ml/README.md). The model tables (ml/model_tables.c) are generated
# by ml/codegen.py and committed, so building needs no Python.
libvigil_la_SOURCES += \
	ml/pe.h ml/pe.c ml/features.h ml/features.c \
	ml/model.h ml/model.c ml/model_avx512.c ml/model_tables.c \
	ml/stage_ml.c
libvigil_la_LIBADD += -lm

# The feature extractor as CSV: used by ml/train.py (which can also build
# it itself with cc) and by the pefile differential test.
check_PROGRAMS += ml/ml_extract
ml_ml_extract_SOURCES = ml/ml_extract.c ml/pe.c ml/features.c
ml_ml_extract_LDADD = -lm

if HAVE_CHECK
check_PROGRAMS += tests/check_ml
TESTS += tests/check_ml
tests_check_ml_CFLAGS = $(VG_TEST_CFLAGS)
tests_check_ml_LDFLAGS = -static
tests_check_ml_LDADD = $(VG_TEST_LIBS)
endif

# Differential test against pefile on real PE files of Debian packages
# (fetched with apt-get download into tests/ml-debian-pe of the build
# tree; skipped when apt cannot fetch them).
TESTS += tests/ml_pefile_diff.py
dist_check_SCRIPTS += tests/ml_pefile_diff.py tests/ml_fetch_debian_pe.sh

# `vigil scan` flags a packed PE by the model alone, explanation in text
# and JSON; benign Debian PE files (ml_pefile_diff.py's cache) are not.
TESTS += tests/ml_scan_cli.sh
dist_check_SCRIPTS += tests/ml_scan_cli.sh

# Fuzz target for the PE parser and feature extractor (see fuzz/local.mk).
EXTRA_PROGRAMS += fuzz/pe_fuzzer
FUZZERS += fuzz/pe_fuzzer$(EXEEXT)
fuzz_pe_fuzzer_LDFLAGS = -static $(FUZZ_FLAGS)
fuzz_pe_fuzzer_LDADD = $(VG_FUZZ_LIBS)
check_PROGRAMS += fuzz/pe_replay
TESTS += fuzz/pe_replay
fuzz_pe_replay_SOURCES = fuzz/pe_fuzzer.c fuzz/replay_main.c
fuzz_pe_replay_LDFLAGS = -static
fuzz_pe_replay_LDADD = $(VG_FUZZ_LIBS)
EXTRA_DIST += fuzz/pe_fuzzer_corpus

EXTRA_DIST += ml/README.md ml/REPORT.md ml/roc.png ml/model_testvectors.csv \
	ml/mldata.py ml/train.py ml/codegen.py ml/evaluate.py ml/transfer.py \
	bench/ml_bench.py bench/ml_bench_c.c
# Retrain from scratch (fetches the Debian PE files, trains, regenerates
# ml/model_tables.c and ml/model_testvectors.csv, writes ml/REPORT.md).
# Needs /usr/bin/python3 with python3-xgboost, -sklearn, -matplotlib.
ML_ENV = VIGIL_SHARED="$${VIGIL_SHARED:-$(abs_top_srcdir)/../shared}"
ml-retrain:
	$(ML_ENV) /usr/bin/python3 $(srcdir)/ml/train.py
	$(ML_ENV) /usr/bin/python3 $(srcdir)/ml/transfer.py
	$(ML_ENV) /usr/bin/python3 $(srcdir)/ml/evaluate.py
ml-report:
	$(ML_ENV) /usr/bin/python3 $(srcdir)/ml/evaluate.py
ml-bench: ml/ml_extract
	$(ML_ENV) /usr/bin/python3 $(srcdir)/bench/ml_bench.py
.PHONY: ml-retrain ml-report ml-bench

# The fetched Debian packages are a cache of the build tree (kept between
# runs of make check); distclean removes it.
distclean-local: ml-debian-pe-distclean
ml-debian-pe-distclean:
	rm -rf tests/ml-debian-pe
.PHONY: ml-debian-pe-distclean
