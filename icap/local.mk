# icap/local.mk - srv_vigil.so, the c-icap service (see doc/srv_vigil.8).
# Built when configure finds libicapapi (--with-c-icap); it calls only
# libvigil's public API, linked against the shared library.
VG_ICAP_SOURCES = icap/srv_vigil.c icap/conf.c icap/conf.h \
	icap/slot.c icap/slot.h icap/scan.c icap/scan.h \
	icap/reply.c icap/reply.h icap/request.h \
	icap/body.c icap/body.h icap/decode.c icap/decode.h \
	icap/urlrules.c icap/urlrules.h
VG_ICAP_TEMPLATES = icap/templates/en/VIRUS_FOUND \
	icap/templates/en/URL_BLOCKED icap/templates/en/SCAN_INCOMPLETE
VG_ICAP_TESTS = tests/icap_respmod.sh tests/icap_reqmod.sh \
	tests/icap_reload.sh tests/icap_squid.sh tests/icap_bundle.sh
EXTRA_DIST += $(VG_ICAP_TEMPLATES) icap/vigil.conf tests/icap_lib.sh \
	tests/icap_client.py $(VG_ICAP_TESTS)
dist_man_MANS += doc/srv_vigil.8
TESTS += $(VG_ICAP_TESTS)

if HAVE_C_ICAP
cicapmodule_LTLIBRARIES = icap/srv_vigil.la
icap_srv_vigil_la_SOURCES = $(VG_ICAP_SOURCES)
icap_srv_vigil_la_CPPFLAGS = $(AM_CPPFLAGS) $(C_ICAP_CFLAGS)
icap_srv_vigil_la_CFLAGS = $(AM_CFLAGS) $(ICAP_DECODERS_CFLAGS) \
	-fvisibility=hidden
icap_srv_vigil_la_LDFLAGS = -module -avoid-version -shared -no-undefined
icap_srv_vigil_la_LIBADD = libvigil.la $(C_ICAP_LIBS) $(PCRE2_LIBS) \
	$(ICAP_DECODERS_LIBS)

# the body store alone (no c-icap types in it)
check_PROGRAMS += tests/check_icap_body
TESTS += tests/check_icap_body
tests_check_icap_body_SOURCES = tests/check_icap_body.c icap/body.c icap/body.h
tests_check_icap_body_CFLAGS = $(VG_TEST_CFLAGS)
tests_check_icap_body_LDADD = $(CHECK_LIBS)

cicaptemplate_vigildir = $(cicaptemplatedir)/vigil/en
cicaptemplate_vigil_DATA = $(VG_ICAP_TEMPLATES)
endif

# fuzz targets for the parsers of untrusted bytes: the Content-Encoding
# decoders and the URL rule files (corpus replays run in make check)
if HAVE_C_ICAP
EXTRA_PROGRAMS += fuzz/icap_decode_fuzzer fuzz/icap_urlrules_fuzzer
FUZZERS += fuzz/icap_decode_fuzzer$(EXEEXT) fuzz/icap_urlrules_fuzzer$(EXEEXT)
fuzz_icap_decode_fuzzer_SOURCES = fuzz/icap_decode_fuzzer.c icap/decode.c
fuzz_icap_decode_fuzzer_CFLAGS = $(AM_CFLAGS) $(ICAP_DECODERS_CFLAGS)
fuzz_icap_decode_fuzzer_LDFLAGS = $(FUZZ_FLAGS)
fuzz_icap_decode_fuzzer_LDADD = $(ICAP_DECODERS_LIBS)
fuzz_icap_urlrules_fuzzer_SOURCES = fuzz/icap_urlrules_fuzzer.c icap/urlrules.c
fuzz_icap_urlrules_fuzzer_LDFLAGS = $(FUZZ_FLAGS)
fuzz_icap_urlrules_fuzzer_LDADD = $(PCRE2_LIBS)
check_PROGRAMS += fuzz/icap_decode_replay fuzz/icap_urlrules_replay
TESTS += fuzz/icap_decode_replay fuzz/icap_urlrules_replay
fuzz_icap_decode_replay_SOURCES = fuzz/icap_decode_fuzzer.c \
	fuzz/replay_main.c icap/decode.c
fuzz_icap_decode_replay_CFLAGS = $(AM_CFLAGS) $(ICAP_DECODERS_CFLAGS)
fuzz_icap_decode_replay_LDADD = $(ICAP_DECODERS_LIBS)
fuzz_icap_urlrules_replay_SOURCES = fuzz/icap_urlrules_fuzzer.c \
	fuzz/replay_main.c icap/urlrules.c
fuzz_icap_urlrules_replay_LDADD = $(PCRE2_LIBS)
endif
EXTRA_DIST += fuzz/icap_decode_fuzzer_corpus fuzz/icap_urlrules_fuzzer_corpus
