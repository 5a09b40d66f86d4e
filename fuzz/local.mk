# fuzz/local.mk - libFuzzer targets (make fuzzers, with --enable-fuzzing)
# and their corpus replays (in make check, always).
#
# A target is fuzz/<unit>_fuzzer.c defining LLVMFuzzerTestOneInput, with
# a seed corpus in fuzz/<unit>_fuzzer_corpus/. Add one with the same
# ten lines as below. Targets link the static library so they can reach
# internals.
EXTRA_DIST += fuzz/replay_main.c fuzz/lsan.supp fuzz/hostile_inputs.sh

EXTRA_PROGRAMS += fuzz/filetype_fuzzer
FUZZERS += fuzz/filetype_fuzzer$(EXEEXT)
fuzz_filetype_fuzzer_LDFLAGS = -static $(FUZZ_FLAGS)
fuzz_filetype_fuzzer_LDADD = $(VG_FUZZ_LIBS)
check_PROGRAMS += fuzz/filetype_replay
TESTS += fuzz/filetype_replay
fuzz_filetype_replay_SOURCES = fuzz/filetype_fuzzer.c fuzz/replay_main.c
fuzz_filetype_replay_LDFLAGS = -static
fuzz_filetype_replay_LDADD = $(VG_FUZZ_LIBS)
EXTRA_DIST += fuzz/filetype_fuzzer_corpus

EXTRA_PROGRAMS += fuzz/scan_fuzzer
FUZZERS += fuzz/scan_fuzzer$(EXEEXT)
fuzz_scan_fuzzer_LDFLAGS = -static $(FUZZ_FLAGS)
fuzz_scan_fuzzer_LDADD = $(VG_FUZZ_LIBS)
check_PROGRAMS += fuzz/scan_replay
TESTS += fuzz/scan_replay
fuzz_scan_replay_SOURCES = fuzz/scan_fuzzer.c fuzz/replay_main.c
fuzz_scan_replay_LDFLAGS = -static
fuzz_scan_replay_LDADD = $(VG_FUZZ_LIBS)
EXTRA_DIST += fuzz/scan_fuzzer_corpus

EXTRA_PROGRAMS += fuzz/hashdb_fuzzer
FUZZERS += fuzz/hashdb_fuzzer$(EXEEXT)
fuzz_hashdb_fuzzer_LDFLAGS = -static $(FUZZ_FLAGS)
fuzz_hashdb_fuzzer_LDADD = $(VG_FUZZ_LIBS)
check_PROGRAMS += fuzz/hashdb_replay
TESTS += fuzz/hashdb_replay
fuzz_hashdb_replay_SOURCES = fuzz/hashdb_fuzzer.c fuzz/replay_main.c
fuzz_hashdb_replay_LDFLAGS = -static
fuzz_hashdb_replay_LDADD = $(VG_FUZZ_LIBS)
EXTRA_DIST += fuzz/hashdb_fuzzer_corpus

EXTRA_PROGRAMS += fuzz/yara_gate_fuzzer
FUZZERS += fuzz/yara_gate_fuzzer$(EXEEXT)
fuzz_yara_gate_fuzzer_LDFLAGS = -static $(FUZZ_FLAGS)
fuzz_yara_gate_fuzzer_LDADD = $(VG_FUZZ_LIBS)
check_PROGRAMS += fuzz/yara_gate_replay
TESTS += fuzz/yara_gate_replay
fuzz_yara_gate_replay_SOURCES = fuzz/yara_gate_fuzzer.c fuzz/replay_main.c
fuzz_yara_gate_replay_LDFLAGS = -static
fuzz_yara_gate_replay_LDADD = $(VG_FUZZ_LIBS)
EXTRA_DIST += fuzz/yara_gate_fuzzer_corpus

EXTRA_PROGRAMS += fuzz/csv_fuzzer
FUZZERS += fuzz/csv_fuzzer$(EXEEXT)
fuzz_csv_fuzzer_SOURCES = fuzz/csv_fuzzer.c cli/csv.c
fuzz_csv_fuzzer_LDFLAGS = $(FUZZ_FLAGS)
check_PROGRAMS += fuzz/csv_replay
TESTS += fuzz/csv_replay
fuzz_csv_replay_SOURCES = fuzz/csv_fuzzer.c cli/csv.c fuzz/replay_main.c
EXTRA_DIST += fuzz/csv_fuzzer_corpus

EXTRA_PROGRAMS += fuzz/bundle_fuzzer
FUZZERS += fuzz/bundle_fuzzer$(EXEEXT)
fuzz_bundle_fuzzer_LDFLAGS = -static $(FUZZ_FLAGS)
fuzz_bundle_fuzzer_LDADD = $(VG_FUZZ_LIBS)
check_PROGRAMS += fuzz/bundle_replay
TESTS += fuzz/bundle_replay
fuzz_bundle_replay_SOURCES = fuzz/bundle_fuzzer.c fuzz/replay_main.c
fuzz_bundle_replay_LDFLAGS = -static
fuzz_bundle_replay_LDADD = $(VG_FUZZ_LIBS)
EXTRA_DIST += fuzz/bundle_fuzzer_corpus

# vigil-update.conf, read by the CLI (cli/update_conf.c)
EXTRA_PROGRAMS += fuzz/update_conf_fuzzer
FUZZERS += fuzz/update_conf_fuzzer$(EXEEXT)
fuzz_update_conf_fuzzer_SOURCES = fuzz/update_conf_fuzzer.c \
	cli/update_conf.c cli/parse.c
fuzz_update_conf_fuzzer_LDFLAGS = $(FUZZ_FLAGS)
check_PROGRAMS += fuzz/update_conf_replay
TESTS += fuzz/update_conf_replay
fuzz_update_conf_replay_SOURCES = fuzz/update_conf_fuzzer.c \
	cli/update_conf.c cli/parse.c fuzz/replay_main.c
EXTRA_DIST += fuzz/update_conf_fuzzer_corpus

# the recursive pipeline through the unpackers (issue 3)

# the quarantine vault's record parser and item reader (issue 15)
EXTRA_PROGRAMS += fuzz/qrecord_fuzzer
FUZZERS += fuzz/qrecord_fuzzer$(EXEEXT)
fuzz_qrecord_fuzzer_LDFLAGS = -static $(FUZZ_FLAGS)
fuzz_qrecord_fuzzer_LDADD = $(VG_FUZZ_LIBS)
check_PROGRAMS += fuzz/qrecord_replay
TESTS += fuzz/qrecord_replay
fuzz_qrecord_replay_SOURCES = fuzz/qrecord_fuzzer.c fuzz/replay_main.c
fuzz_qrecord_replay_LDFLAGS = -static
fuzz_qrecord_replay_LDADD = $(VG_FUZZ_LIBS)
EXTRA_DIST += fuzz/qrecord_fuzzer_corpus

# the messages of the unpacking workers, as their caller reads them
# (issue 8)
EXTRA_PROGRAMS += fuzz/worker_msg_fuzzer
FUZZERS += fuzz/worker_msg_fuzzer$(EXEEXT)
fuzz_worker_msg_fuzzer_LDFLAGS = -static $(FUZZ_FLAGS)
fuzz_worker_msg_fuzzer_LDADD = $(VG_FUZZ_LIBS)
check_PROGRAMS += fuzz/worker_msg_replay
TESTS += fuzz/worker_msg_replay
fuzz_worker_msg_replay_SOURCES = fuzz/worker_msg_fuzzer.c fuzz/replay_main.c
fuzz_worker_msg_replay_LDFLAGS = -static
fuzz_worker_msg_replay_LDADD = $(VG_FUZZ_LIBS)
EXTRA_DIST += fuzz/worker_msg_fuzzer_corpus

fuzzers: $(FUZZERS)
.PHONY: fuzzers


# vigild: its configuration file and what its scan workers send back
EXTRA_PROGRAMS += fuzz/vigild_config_fuzzer
FUZZERS += fuzz/vigild_config_fuzzer$(EXEEXT)
fuzz_vigild_config_fuzzer_SOURCES = fuzz/vigild_config_fuzzer.c onaccess/conf.c
fuzz_vigild_config_fuzzer_LDFLAGS = $(FUZZ_FLAGS)
check_PROGRAMS += fuzz/vigild_config_replay
TESTS += fuzz/vigild_config_replay
fuzz_vigild_config_replay_SOURCES = fuzz/vigild_config_fuzzer.c \
	onaccess/conf.c fuzz/replay_main.c
EXTRA_DIST += fuzz/vigild_config_fuzzer_corpus

EXTRA_PROGRAMS += fuzz/vigild_wire_fuzzer
FUZZERS += fuzz/vigild_wire_fuzzer$(EXEEXT)
fuzz_vigild_wire_fuzzer_SOURCES = fuzz/vigild_wire_fuzzer.c onaccess/wire.c
fuzz_vigild_wire_fuzzer_LDFLAGS = $(FUZZ_FLAGS)
check_PROGRAMS += fuzz/vigild_wire_replay
TESTS += fuzz/vigild_wire_replay
fuzz_vigild_wire_replay_SOURCES = fuzz/vigild_wire_fuzzer.c \
	onaccess/wire.c fuzz/replay_main.c
EXTRA_DIST += fuzz/vigild_wire_fuzzer_corpus

EXTRA_PROGRAMS += fuzz/vigild_clamd_fuzzer
FUZZERS += fuzz/vigild_clamd_fuzzer$(EXEEXT)
fuzz_vigild_clamd_fuzzer_SOURCES = fuzz/vigild_clamd_fuzzer.c onaccess/clamd_proto.c
fuzz_vigild_clamd_fuzzer_LDFLAGS = $(FUZZ_FLAGS)
check_PROGRAMS += fuzz/vigild_clamd_replay
TESTS += fuzz/vigild_clamd_replay
fuzz_vigild_clamd_replay_SOURCES = fuzz/vigild_clamd_fuzzer.c \
	onaccess/clamd_proto.c fuzz/replay_main.c
EXTRA_DIST += fuzz/vigild_clamd_fuzzer_corpus

