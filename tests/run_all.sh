#!/usr/bin/env bash
# run_all.sh - the whole test suite, as CI runs it (via ./setup.sh test):
# make check under ASan/UBSan, each libFuzzer target for a short run, and
# make distcheck (whose make check is the plain build's, from the release
# tarball). Each step says its slowest tests: CI must stay under 30 min.
# Ends with one line "N passed, N failed, N skipped" (skipped: tests that
# exited 77, automake's SKIP, each named above it).
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${VIGIL_FUZZ_SECONDS:-15}
# The shared data (rule sets, ML data) sits beside the checkout; name it
# absolutely so make distcheck's copy of the tree finds it too.
if [ -z "${VIGIL_SHARED:-}" ] && [ -d "$top/../shared" ]; then
	VIGIL_SHARED=$(cd "$top/../shared" && pwd)
	export VIGIL_SHARED
fi
# the Debian PE files of ml_pefile_diff.py, downloaded once for the
# ASan build and make distcheck's
export VIGIL_PE_CACHE=${VIGIL_PE_CACHE:-$top/build/ml-debian-pe}
export LSAN_OPTIONS="suppressions=$top/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
passed=0   # steps
failed=0
tests_passed=0   # individual tests inside the steps
tests_failed=0
tests_skipped=0

step() { # step NAME COMMAND...: run, count, keep going
	local name=$1
	shift
	echo "=== $name"
	local t0=$SECONDS
	if "$@"; then
		passed=$((passed + 1))
		echo "=== $name: ok ($((SECONDS - t0)) s)"
	else
		failed=$((failed + 1))
		echo "=== $name: FAILED ($((SECONDS - t0)) s)"
	fi
}

# Counts of the automake harness, added to ours: from a build folder's
# test-suite.log, or from make's output (whose summary has the same lines).
harness() { # harness DIR [LOG]
	local log=${2:-$1/test-suite.log}
	[ -f "$log" ] || return 0
	local p f s
	p=$(awk '/^# PASS:/{print $3}' "$log")
	f=$(awk '/^# (FAIL|ERROR|XPASS):/{s+=$3} END{print s+0}' "$log")
	s=$(awk '/^# SKIP:/{print $3}' "$log")
	tests_passed=$((tests_passed + ${p:-0}))
	tests_failed=$((tests_failed + ${f:-0}))
	tests_skipped=$((tests_skipped + ${s:-0}))
	echo "    $1: ${p:-0} tests passed, ${f:-0} failed, ${s:-0} skipped"
	slowest "$1"
	# a skip in CI means something it needs was not installed: name it
	sed -n 's/^SKIP: /    skipped: /p' "$log" | sort -u
}

# The slowest tests of a build folder: a test's log is created when it
# starts (its birth time) and its .trs written when it ends. Keeps the
# suite's time in view (CI must stay under 30 minutes).
slowest() { # slowest DIR
	local trs
	for trs in $(find "$1" -name '*.trs' 2>/dev/null); do
		local start end
		start=$(stat -c %W "${trs%.trs}.log" 2>/dev/null) || continue
		end=$(stat -c %Y "$trs")
		[ "$start" -gt 0 ] && echo "$((end - start)) ${trs#"$1"/}"
	done | sort -rn | head -n 8 |
		awk '{ sub(/\.trs$/, "", $2); s = s sep $2 " " $1 "s"; sep = ", " }
		     END { if (s != "") print "    slowest: " s }'
}

check_in() { # check_in DIR [configure args]
	local dir=$1
	shift
	mkdir -p "$dir"
	if [ ! -f "$dir/config.status" ] || [ configure -nt "$dir/config.status" ]; then
		(cd "$dir" && "$top/configure" -q "$@") || return 1
	fi
	make -C "$dir" -j"$jobs" >/dev/null || return 1
	make -C "$dir" -j"$jobs" check >"$dir/check.out" 2>&1
	local rc=$?
	harness "$dir"
	[ $rc -eq 0 ] || { grep -E '^(FAIL|ERROR)' "$dir/check.out"; tail -n 40 "$dir/test-suite.log"; }
	return $rc
}

fuzz_all() {
	local dir=build-fuzz
	mkdir -p "$dir"
	if [ ! -f "$dir/config.status" ] || [ configure -nt "$dir/config.status" ]; then
		(cd "$dir" && CC=clang "$top/configure" -q --enable-fuzzing) || return 1
	fi
	make -C "$dir" -j"$jobs" fuzzers >/dev/null || return 1
	local rc=0
	for f in "$dir"/fuzz/*_fuzzer; do
		[ -x "$f" ] || continue
		local name
		name=$(basename "$f")
		local work="$dir/fuzz/$name.work"
		mkdir -p "$work"
		if "$f" -max_total_time="$fuzz_seconds" -max_len=65536 -rss_limit_mb=1024 \
			-timeout=10 -artifact_prefix="$work/" "$work" "fuzz/${name}_corpus" \
			>"$work/log" 2>&1; then
			echo "    $name: $(grep -o 'Done [0-9]* runs' "$work/log" | tail -1)"
			tests_passed=$((tests_passed + 1))
		else
			echo "    $name: FAILED"
			tests_failed=$((tests_failed + 1))
			tail -n 30 "$work/log"
			rc=1
		fi
	done
	return $rc
}

# The plain build's tests run once, in make distcheck (the same suite,
# built from the release tarball); the sanitizer build's here.
step "make check (ASan+UBSan)" check_in build-asan --enable-sanitizers
step "fuzz (${fuzz_seconds}s per target)" fuzz_all
distcheck() {
	local rc=0
	make -C build -j"$jobs" distcheck >build/distcheck.out 2>&1 || rc=$?
	harness "make distcheck" build/distcheck.out
	[ $rc -eq 0 ] && return 0
	# name the tests that failed in the tarball's build, with their logs
	local t
	for t in $(sed -n 's/^\(FAIL\|ERROR\): \([^ ]*\).*/\2/p' build/distcheck.out); do
		echo "--- $t (in make distcheck)"
		# automake names a test's log without its .sh or .py
		tail -n 30 build/vigil-*/_build/sub/"${t%.*}".log 2>/dev/null
	done
	tail -n 40 build/distcheck.out
	return 1
}

if [ "${VIGIL_SKIP_DISTCHECK:-}" != 1 ]; then
	step "make distcheck" distcheck
fi
echo "steps: $passed passed, $failed failed"
# a failed step with no failed test in it (a build error) still fails
[ "$failed" -gt 0 ] && [ "$tests_failed" -eq 0 ] && tests_failed=$failed
echo "$tests_passed passed, $tests_failed failed, $tests_skipped skipped"
[ "$failed" -eq 0 ]
