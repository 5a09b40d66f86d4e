#!/usr/bin/env bash
# scand.sh [CORPUS_DIR] [SIZE_MB] - vigild against clamd, through the
# clamd protocol, on the same tree and the same 100k MD5 .hdb:
#   1. clamdscan --multiscan of the corpus, first run (daemons just
#      started, caches empty) and repeated run (same daemons);
#   2. INSTREAM of 10,000 small bodies from 8 client threads (req/s, p99).
# Both daemons get two scanning threads (clamd MaxThreads 3: its
# MULTISCAN thread only walks; vigild ScanWorkers 2) and the same limits;
# vigild runs without its ML stage (ScanML no) so both do the same work:
# hash lookups and unpacking. Prints a table with ratios.
#
# The corpus is built by bench/make_corpus.sh (default 750 MB; pass a
# smaller SIZE_MB for a quick run), the hash list by make_hashlist.sh.
set -euo pipefail
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
# the unpacking worker of this build, not an installed one
export VIGIL_UNPACKD=${VIGIL_UNPACKD:-$build/vigil-unpackd}
corpus=${1:-$build/bench-corpus}
size_mb=${2:-750}
requests=${REQUESTS:-10000}
for t in clamd clamdscan /usr/bin/python3; do
	command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] ||
		{ echo "scand.sh: $t is missing (apt-get install clamav-daemon clamdscan)" >&2; exit 1; }
done
[ -x "$build/vigild" ] || { echo "scand.sh: build vigild first ($build)" >&2; exit 1; }

tmp=$(mktemp -d)
chmod 755 "$tmp"
clamd_pid= vigild_pid=
cleanup() {
	[ -n "$clamd_pid" ] && kill "$clamd_pid" 2>/dev/null && wait "$clamd_pid" 2>/dev/null
	[ -n "$vigild_pid" ] && kill "$vigild_pid" 2>/dev/null && wait "$vigild_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

[ -d "$corpus/files" ] || "$top/bench/make_corpus.sh" "$corpus" "$size_mb" >&2
mkdir -p "$tmp/db" "$tmp/clamtmp"
"$top/bench/make_hashlist.sh" "$tmp/db/bench.hdb" >&2

cat >"$tmp/clamd.conf" <<CONF
LocalSocket $tmp/clamd.sock
DatabaseDirectory $tmp/db
TemporaryDirectory $tmp/clamtmp
LogFile $tmp/clamd.log
Foreground yes
MaxThreads 3
SelfCheck 0
MaxFileSize 2000M
MaxScanSize 400M
MaxFiles 10000
MaxRecursion 16
MaxScanTime 120000
StreamMaxLength 100M
CONF
cat >"$tmp/vigild.conf" <<CONF
Foreground yes
LogSyslog no
LogFile $tmp/vigild.log
LocalSocket $tmp/vigild.sock
ControlSocket $tmp/control.sock
DatabaseDirectory $tmp/db
ScanWorkers 2
ScanML no
MaxFileSize 2000M
MaxScanSize 400M
MaxFiles 10000
MaxRecursion 16
MaxScanTime 120000
CONF
printf 'LocalSocket %s\n' "$tmp/vigild.sock" >"$tmp/cv.conf"

now() { date +%s.%N; }
calc() { echo "scale=3; $1" | bc; }
wait_ping() { # CONF PID
	for _ in $(seq 1200); do
		clamdscan -c "$1" --ping 1 >/dev/null 2>&1 && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# timed_scan CONF: seconds of one clamdscan --multiscan of the corpus
timed_scan() {
	local t0 t1 rc=0
	t0=$(now)
	clamdscan -c "$1" --multiscan --infected --no-summary "$corpus" >"$tmp/scan.out" 2>&1 || rc=$?
	t1=$(now)
	[ "$rc" -le 1 ] || echo "scand.sh: clamdscan exit $rc: $(tail -n 3 "$tmp/scan.out")" >&2
	grep -c ' FOUND$' "$tmp/scan.out" >"$tmp/found" || true
	calc "$t1 - $t0"
}

echo "scand.sh: load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs" >&2
files=$(find "$corpus" -type f | wc -l)
bytes=$(du -sb "$corpus" | cut -f1)

/usr/sbin/clamd -c "$tmp/clamd.conf" >/dev/null 2>&1 &
clamd_pid=$!
wait_ping "$tmp/clamd.conf" "$clamd_pid" || { echo "clamd did not start" >&2; exit 1; }
c_first=$(timed_scan "$tmp/clamd.conf"); c_found=$(cat "$tmp/found")
c_again=$(timed_scan "$tmp/clamd.conf")
read -r c_rps c_p50 c_p99 c_ifound c_err < <(/usr/bin/python3 "$top/bench/instream_load.py" \
	"$tmp/clamd.sock" "$requests" 8)
kill "$clamd_pid"; wait "$clamd_pid" 2>/dev/null || true; clamd_pid=

"$build/vigild" --config "$tmp/vigild.conf" >"$tmp/vigild.out" 2>&1 &
vigild_pid=$!
wait_ping "$tmp/cv.conf" "$vigild_pid" || { echo "vigild did not start" >&2; exit 1; }
v_first=$(timed_scan "$tmp/cv.conf"); v_found=$(cat "$tmp/found")
v_again=$(timed_scan "$tmp/cv.conf")
read -r v_rps v_p50 v_p99 v_ifound v_err < <(/usr/bin/python3 "$top/bench/instream_load.py" \
	"$tmp/vigild.sock" "$requests" 8)
v_rss=$(ps -o rss= -p "$vigild_pid")
kill "$vigild_pid"; wait "$vigild_pid" 2>/dev/null || true; vigild_pid=

echo "scand.sh: load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
printf '\ncorpus: %s files, %s MB; hash list: 100,000 MD5 lines\n\n' "$files" "$((bytes / 1048576))"
printf '%-34s %12s %12s %10s\n' "" "clamd" "vigild" "ratio"
printf '%-34s %11ss %11ss %9sx\n' "clamdscan --multiscan, first run" "$c_first" "$v_first" \
	"$(calc "$c_first / $v_first")"
printf '%-34s %11ss %11ss %9sx\n' "clamdscan --multiscan, repeated" "$c_again" "$v_again" \
	"$(calc "$c_again / $v_again")"
printf '%-34s %12s %12s %9sx\n' "  vigild first / repeated" "" "" "$(calc "$v_first / $v_again")"
printf '%-34s %12s %12s\n' "  FOUND lines" "$c_found" "$v_found"
printf '%-34s %12s %12s %9sx\n' "INSTREAM x$requests, 8 clients, req/s" "$c_rps" "$v_rps" \
	"$(calc "$v_rps / $c_rps")"
printf '%-34s %11sms %11sms\n' "  p50 latency" "$c_p50" "$v_p50"
printf '%-34s %11sms %11sms\n' "  p99 latency" "$c_p99" "$v_p99"
printf '%-34s %12s %12s\n' "  FOUND / errors" "$c_ifound/$c_err" "$v_ifound/$v_err"
printf '%-34s %12s %11sK\n' "vigild supervisor RSS after" "" "$v_rss"
