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

# the recursive pipeline through the unpackers (issue 3)

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


