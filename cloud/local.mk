# cloud/local.mk - the cloud lookup: the `cloud` stage of libvigil and its
# HTTP client (libcurl), and the vigil-cloudd service (libmicrohttpd,
# jansson, SQLite or Redis). See doc/cloud-api.md and doc/vigil-cloudd.8.

# vigil-cloudd: the service
sbin_PROGRAMS += vigil-cloudd
VG_CLOUDD_CORE = cloud/request.h cloud/request.c cloud/feed.c \
	cloud/cloudd_config.h cloud/cloudd_config.c cloud/store.h
vigil_cloudd_SOURCES = $(VG_CLOUDD_CORE) cloud/cloudd.c cloud/cloudd.h \
	cloud/http.c cloud/service.h cloud/keys.c cloud/ratelimit.c \
	cloud/metrics.c cloud/store.c cloud/store_sqlite.c cloud/store_redis.c
vigil_cloudd_CFLAGS = $(AM_CFLAGS) $(MICROHTTPD_CFLAGS) $(SQLITE_CFLAGS) \
	$(HIREDIS_CFLAGS)
vigil_cloudd_LDADD = $(MICROHTTPD_LIBS) $(SQLITE_LIBS) $(HIREDIS_LIBS) \
	$(JANSSON_LIBS) $(CRYPTO_LIBS)

EXTRA_DIST += cloud/vigil-cloudd.service cloud/vigil-cloudd.conf
dist_man_MANS += doc/vigil-cloudd.8
clouddocdir = $(docdir)
dist_clouddoc_DATA = doc/cloud-api.md

# the cloud stage and its HTTP client, in libvigil
libvigil_la_SOURCES += cloud/client.h cloud/client.c cloud/response.c \
	cloud/stage_cloud.c
libvigil_la_CPPFLAGS += $(CURL_CFLAGS)
libvigil_la_LIBADD += $(CURL_LIBS)

# Tests: the service on SQLite and on a redis-server the test starts;
# the client's faults, deadline and breaker (fault server in Python).
check_PROGRAMS += tests/cloud_probe
tests_cloud_probe_LDADD = libvigil.la
TESTS += tests/cloud_sqlite.sh tests/cloud_redis.sh tests/cloud_faults.sh \
	tests/cloud_tls.sh
dist_check_SCRIPTS += tests/cloud_sqlite.sh tests/cloud_redis.sh \
	tests/cloud_faults.sh tests/cloud_tls.sh
EXTRA_DIST += tests/cloud_lib.sh tests/cloud_service.sh \
	tests/cloud_fault_server.py

# Fuzz targets: the service's request readers, the client's answer reader.
EXTRA_PROGRAMS += fuzz/cloud_request_fuzzer
FUZZERS += fuzz/cloud_request_fuzzer$(EXEEXT)
VG_CLOUD_FUZZ_SOURCES = cloud/request.c cloud/feed.c cloud/cloudd_config.c
fuzz_cloud_request_fuzzer_SOURCES = fuzz/cloud_request_fuzzer.c \
	$(VG_CLOUD_FUZZ_SOURCES)
fuzz_cloud_request_fuzzer_LDFLAGS = $(FUZZ_FLAGS)
fuzz_cloud_request_fuzzer_LDADD = $(JANSSON_LIBS)
check_PROGRAMS += fuzz/cloud_request_replay
TESTS += fuzz/cloud_request_replay
fuzz_cloud_request_replay_SOURCES = fuzz/cloud_request_fuzzer.c \
	fuzz/replay_main.c $(VG_CLOUD_FUZZ_SOURCES)
fuzz_cloud_request_replay_LDADD = $(JANSSON_LIBS)
EXTRA_DIST += fuzz/cloud_request_fuzzer_corpus

EXTRA_PROGRAMS += fuzz/cloud_response_fuzzer
FUZZERS += fuzz/cloud_response_fuzzer$(EXEEXT)
fuzz_cloud_response_fuzzer_LDFLAGS = -static $(FUZZ_FLAGS)
fuzz_cloud_response_fuzzer_LDADD = $(VG_FUZZ_LIBS)
check_PROGRAMS += fuzz/cloud_response_replay
TESTS += fuzz/cloud_response_replay
fuzz_cloud_response_replay_SOURCES = fuzz/cloud_response_fuzzer.c \
	fuzz/replay_main.c
fuzz_cloud_response_replay_LDFLAGS = -static
fuzz_cloud_response_replay_LDADD = $(VG_FUZZ_LIBS)
EXTRA_DIST += fuzz/cloud_response_fuzzer_corpus
EXTRA_DIST += bench/cloud.sh
