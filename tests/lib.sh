# lib.sh - helpers for the shell integration tests; source it.
# Every test gets a fresh scratch folder, removed on exit.
set -u
: "${VIGIL:?run through make check}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# expect_exit CODE DESCRIPTION COMMAND...: runs COMMAND, keeps its stdout
# in $out and stderr in $err, and checks the exit code.
expect_exit() {
	local want=$1 what=$2
	shift 2
	out=$("$@" 2>"$scratch/stderr")
	local rc=$?
	err=$(cat "$scratch/stderr")
	if [ "$rc" -ne "$want" ]; then
		fail "$what: exit $rc, wanted $want; stdout: $out; stderr: $err"
		return 1
	fi
	ok "$what"
}

# expect_grep PATTERN TEXT DESCRIPTION
expect_grep() {
	if printf '%s\n' "$2" | grep -qE -- "$1"; then ok "$3"; else
		fail "$3: /$1/ not in: $2"; fi
}

# expect_bounded TIMEFILE SECONDS: the scan that `/usr/bin/time -f '%e %M'`
# timed into TIMEFILE took under SECONDS and 512 MB of peak memory.
expect_bounded() {
	set -- $(tail -n 1 "$1") "$2"
	local secs=${1:-99} kb=${2:-999999} limit=$3
	echo "scan took $secs s, peak $kb KB"
	[ "${secs%.*}" -lt "$limit" ] || fail "scan took $secs s, wanted under $limit"
	[ "$kb" -lt 512000 ] || fail "peak memory $kb KB, wanted under 512 MB"
}

# sanitized: true in a build under ASan, which runs several times
# slower (a worker's start alone, libclamav and the sanitizer's shadow,
# can take a second or two of a loaded machine): time bounds scale.
sanitized() {
	grep -q -- '-fsanitize=address' "$top_builddir/Makefile" 2>/dev/null
}

# expect_no_sanitizer_report STDERR: the scanning process itself printed
# no sanitizer report (its workers may crash; it must not).
expect_no_sanitizer_report() {
	if printf '%s\n' "$1" | grep -qE 'Sanitizer|runtime error'; then
		fail "the scanning process reported: $1"
	else
		ok "nothing reported by the scanning process"
	fi
}

# The standard EICAR test string, built so this file does not hold it.
eicar() { printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-' \
	'ANTIVIRUS-TEST-FILE!$H+H*'; }

finish() {
	if [ "$failures" -gt 0 ]; then
		echo "$failures failure(s)" >&2
		exit 1
	fi
	exit 0
}
