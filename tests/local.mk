# tests/local.mk - unit tests (Check, one file per unit: tests/check_<unit>.c)
# and integration tests (tests/*.sh, run with $VIGIL, $top_srcdir,
# $top_builddir and $VIGIL_SHARED set). Unit tests link the static
# library, so they can test internals. Add a unit test with four lines
# as below.
EXTRA_DIST += tests/run_all.sh tests/lib.sh

if HAVE_CHECK
check_PROGRAMS += tests/check_engine
TESTS += tests/check_engine
tests_check_engine_CFLAGS = $(VG_TEST_CFLAGS)
tests_check_engine_LDFLAGS = -static
tests_check_engine_LDADD = $(VG_TEST_LIBS)
endif
