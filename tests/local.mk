# tests/local.mk - unit tests (Check, one file per unit: tests/check_<unit>.c)
# and integration tests (tests/*.sh, run with $VIGIL, $top_srcdir,
# $top_builddir and $VIGIL_SHARED set). Unit tests link the static
# library, so they can test internals. Add a unit test with four lines
# as below.
EXTRA_DIST += tests/run_all.sh tests/lib.sh tests/yara_matches.py
dist_check_SCRIPTS += tests/api_sync.sh
TESTS += tests/api_sync.sh

if HAVE_CHECK
check_PROGRAMS += tests/check_engine
TESTS += tests/check_engine
tests_check_engine_CFLAGS = $(VG_TEST_CFLAGS)
tests_check_engine_LDFLAGS = -static
tests_check_engine_LDADD = $(VG_TEST_LIBS)

check_PROGRAMS += tests/check_hashdb
TESTS += tests/check_hashdb
tests_check_hashdb_CFLAGS = $(VG_TEST_CFLAGS)
tests_check_hashdb_LDFLAGS = -static
tests_check_hashdb_LDADD = $(VG_TEST_LIBS)

check_PROGRAMS += tests/check_builtin
TESTS += tests/check_builtin
tests_check_builtin_CFLAGS = $(VG_TEST_CFLAGS)
tests_check_builtin_LDFLAGS = -static
tests_check_builtin_LDADD = $(VG_TEST_LIBS)

check_PROGRAMS += tests/check_yara
TESTS += tests/check_yara
tests_check_yara_CFLAGS = $(VG_TEST_CFLAGS)
tests_check_yara_LDFLAGS = -static
tests_check_yara_LDADD = $(VG_TEST_LIBS)

check_PROGRAMS += tests/check_bundle
TESTS += tests/check_bundle
tests_check_bundle_CFLAGS = $(VG_TEST_CFLAGS)
tests_check_bundle_LDFLAGS = -static
tests_check_bundle_LDADD = $(VG_TEST_LIBS)

check_PROGRAMS += tests/check_unpack
TESTS += tests/check_unpack
tests_check_unpack_CFLAGS = $(VG_TEST_CFLAGS)
tests_check_unpack_LDFLAGS = -static
tests_check_unpack_LDADD = $(VG_TEST_LIBS)
endif

# unpackers and limits: clamav-testfiles 44 of 44, the bombs, YARA on
# members (issue 3)
TESTS += tests/clamav_testfiles.sh tests/bombs.py tests/unpack_yara.sh
EXTRA_DIST += tests/clamav_testfiles.sh tests/bombs.py tests/unpack_yara.sh

# the vigil command: reports, JSON, the walk, usage; docs kept in step
# with the headers
VG_CLI_TESTS = tests/cli_scan.sh tests/cli_json.sh tests/cli_walk.sh \
	tests/cli_limits.sh tests/cli_sigdir.sh \
	tests/cli_usage.sh tests/doc_sync.sh
TESTS += $(VG_CLI_TESTS)
EXTRA_DIST += $(VG_CLI_TESTS)

# signature bundles: build, sign, verify, scan, refusals (issue 14)
TESTS += tests/bundle_cli.sh tests/update.sh
EXTRA_DIST += tests/bundle_cli.sh tests/update.sh tests/update_mirror.py

# YARA: the same matches as the yara command; signature-base rules that
# read the filename and extension externals, through `vigil scan`
TESTS += tests/yara_vs_cli.sh tests/yara_signature_base.sh tests/yara_gate_vs_cli.sh
EXTRA_DIST += tests/yara_vs_cli.sh tests/yara_signature_base.sh \
	tests/yara_gate_vs_cli.sh

# real rule sets (issue 9): a match's verdict from the rule's metadata,
# bad rule files skipped and named; clam.exe in OneNote files
TESTS += tests/yara_severity.sh tests/onenote.sh tests/ml_csv.sh
EXTRA_DIST += tests/yara_severity.sh tests/onenote.sh tests/ml_csv.sh

# vigild: configuration, start, control socket, reload, stop
VG_VIGILD_TESTS = tests/vigild_config.sh tests/vigild_smoke.sh \
	tests/vigild_clamdscan.sh tests/vigild_pyclamd.py tests/vigild_access.sh \
	tests/vigild_hostile.py tests/vigild_crash.py tests/vigild_bundle_reload.py
TESTS += $(VG_VIGILD_TESTS)
EXTRA_DIST += $(VG_VIGILD_TESTS) tests/vigild_lib.sh tests/vigild_harness.py
# a preload that crashes a scan worker on a marker (tests/vigild_crash.py)
check_LTLIBRARIES = tests/libcrashshim.la
tests_libcrashshim_la_SOURCES = tests/crash_shim.c
tests_libcrashshim_la_LDFLAGS = -module -avoid-version -rpath /nowhere
tests_libcrashshim_la_LIBADD = -ldl
# remediation: quarantine, restore, remove, and the safety rules
# (issue 15)
VG_QUARANTINE_TESTS = tests/quarantine_cli.sh tests/quarantine_kill.py \
	tests/quarantine_fs.sh
TESTS += $(VG_QUARANTINE_TESTS)
EXTRA_DIST += $(VG_QUARANTINE_TESTS)
if HAVE_CHECK
check_PROGRAMS += tests/check_quarantine
TESTS += tests/check_quarantine
tests_check_quarantine_CFLAGS = $(VG_TEST_CFLAGS)
tests_check_quarantine_LDFLAGS = -static
tests_check_quarantine_LDADD = $(VG_TEST_LIBS)
endif

# on-access scanning through real fanotify, each test in its own mount
# namespace on a private tmpfs (skipped where fanotify is not allowed)
VG_ONACCESS_TESTS = tests/onaccess_block.py tests/onaccess_deadline.py \
	tests/onaccess_background.py tests/onaccess_quarantine.py \
	tests/onaccess_fallback.py
TESTS += $(VG_ONACCESS_TESTS)
EXTRA_DIST += $(VG_ONACCESS_TESTS) tests/onaccess_harness.py

# isolation (issue 8): misbehaving workers contained and replaced; the
# same verdicts with and without isolation; inputs of our own that
# crash, hang or blow up Debian's libarchive in-process bounded
# (hostile_inputs.py writes them). libarchive_hostile.sh bounds
# libarchive's own hostile inputs from a fetched libarchive tree
# (LIBARCHIVE_TESTS=DIR); it is run by hand, since CI has no such tree
TESTS += tests/isolation.sh tests/isolation_same.sh \
	tests/isolation_hostile.sh
EXTRA_DIST += tests/isolation.sh tests/isolation_same.sh \
	tests/isolation_hostile.sh tests/hostile_inputs.py \
	tests/libarchive_hostile.sh

# out of memory is an error, never CLEAN: every Nth allocation of a scan
# fails in turn (tests/alloc_fail.c is the allocator hook). Bounded at
# 64 failing runs per input, about 2,300 scans, most in-process: 38 s of
# CPU in a plain build, 116 s under ASan (VIGIL_TORTURE_RUNS or -s
# STRIDE change it)
check_PROGRAMS += tests/alloc_torture
TESTS += tests/alloc_torture
tests_alloc_torture_SOURCES = tests/alloc_torture.c tests/alloc_fail.c \
	tests/alloc_fail.h
tests_alloc_torture_LDFLAGS = -static
tests_alloc_torture_LDADD = libvigil.la $(libvigil_la_LIBADD) -ldl

# the example of libvigil(3), cut from the page and built as a user
# would, against the shared library: the documented code compiles and
# finds EICAR
tests/libvigil_example.c: $(srcdir)/doc/libvigil.3
	$(AM_V_GEN)$(MKDIR_P) tests && \
	sed -n '/^\.SH EXAMPLE/,/^\.SH /p' $(srcdir)/doc/libvigil.3 | \
	sed -n '/^\.ft CR/,/^\.ft$$/p' | sed -e '1d' -e '$$d' \
	    -e 's/\\e/\\/g' -e 's/\\-/-/g' >$@.tmp && mv $@.tmp $@
check_PROGRAMS += tests/libvigil_example
nodist_tests_libvigil_example_SOURCES = tests/libvigil_example.c
tests_libvigil_example_LDADD = libvigil.la
CLEANFILES += tests/libvigil_example.c
TESTS += tests/libvigil_example.sh
EXTRA_DIST += tests/libvigil_example.sh
