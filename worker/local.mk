# worker/local.mk - isolation: the caller's side of the unpacking
# workers (pool, jobs, messages) in libvigil, and the worker program,
# vigil-unpackd, installed in libexecdir (see worker/worker.h).
libvigil_la_SOURCES += worker/proto.c worker/proto.h worker/pool.c \
	worker/remote.c worker/serve.c worker/confine.c worker/worker.h
libvigil_la_CPPFLAGS += -DVG_UNPACKD_PATH='"$(libexecdir)/vigil-unpackd"'
libvigil_la_LIBADD += $(SECCOMP_LIBS)

# The worker links the static archive: it runs the unpackers, which
# are internals the shared library does not export.
libexec_PROGRAMS += vigil-unpackd
vigil_unpackd_SOURCES = worker/unpackd.c
vigil_unpackd_LDFLAGS = -static
vigil_unpackd_LDADD = libvigil.la $(libvigil_la_LIBADD)

# The same worker with the test-only misbehaviours (abort, endless loop,
# endless allocation), for tests/isolation.sh; never installed.
check_PROGRAMS += tests/vigil-unpackd-test
tests_vigil_unpackd_test_SOURCES = worker/unpackd.c
tests_vigil_unpackd_test_CPPFLAGS = $(AM_CPPFLAGS) -DVG_WORKER_TEST_MODES
tests_vigil_unpackd_test_LDFLAGS = -static
tests_vigil_unpackd_test_LDADD = libvigil.la $(libvigil_la_LIBADD)
