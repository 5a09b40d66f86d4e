#!/usr/bin/env bash
# run.sh [--smoke] [--runs N] [--timeout SECS] [CORPUS] - vigil side by
# side with yara, clamscan and clamd on the same files, with the same
# signatures, in one run; prints a table with ratios (doc/benchmarks.md).
#
#   --smoke      a small corpus (about 14 MB) and every 8th rule file, to
#                check that the bench itself works (well under 30 s
#                once the corpus and hash list exist)
#   --runs N     time each scan N times and keep the fastest (default 1)
#   --timeout S  give up on any one command after S seconds (default
#                1800; 120 with --smoke)
#   --only LIST  run only these parts (comma-separated): hash (vigil,
#                clamscan, clamd with the hash list), yara (vigil and
#                yara with the rules), cache (cache_bench), memory
#   CORPUS       a folder to scan instead of the generated corpus
#
# Environment: VIGIL (the vigil binary, default build/vigil), CACHE_BENCH
# (default bench/cache_bench beside VIGIL), VIGIL_SHARED (default
# ../shared), BENCH_RESULTS (default build/bench-results.txt, or
# build/bench-results-smoke.txt with --smoke), VIGIL_UNPACKD (default
# vigil-unpackd beside VIGIL).
#
# Not part of make check: the full run takes several minutes.
set -uo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench
smoke=0 runs=1 tool_timeout= corpus= only=hash,yara,cache,memory
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) smoke=1 ;;
	--runs) runs=${2:?}; shift ;;
	--timeout) tool_timeout=${2:?}; shift ;;
	--only) only=${2:?}; shift ;;
	-h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) corpus=$1 ;;
	esac
	shift
done

VIGIL=${VIGIL:-$top/build/vigil}
# the unpacking worker beside the binary when it runs from a build tree
export VIGIL_UNPACKD=${VIGIL_UNPACKD:-$(dirname "$VIGIL")/vigil-unpackd}
CACHE_BENCH=${CACHE_BENCH:-$(dirname "$VIGIL")/bench/cache_bench}
shared=${VIGIL_SHARED:-$top/../shared}
rules_dir=$shared/rules/yara/signature-base
rules_list=$rules_dir/DEFAULT-SET.txt
if [ "$smoke" = 1 ]; then
	: "${tool_timeout:=120}"
	results=${BENCH_RESULTS:-$top/build/bench-results-smoke.txt}
	default_corpus=$top/build/bench-corpus-smoke corpus_mb=8
else
	: "${tool_timeout:=1800}"
	results=${BENCH_RESULTS:-$top/build/bench-results.txt}
	default_corpus=$top/build/bench-corpus corpus_mb=750
fi
hashlist=$top/build/bench-hashes.hdb

die() { echo "run.sh: $*" >&2; exit 1; }
for t in "$VIGIL" "$CACHE_BENCH"; do
	[ -x "$t" ] || die "$t not built (./setup.sh build, or set VIGIL)"
done
for t in yara clamscan clamdscan clamd timeout /usr/bin/time /usr/bin/python3; do
	command -v "$t" >/dev/null || die "$t is missing (./setup.sh installs it)"
done
[ -f "$rules_list" ] || die "$rules_list not found (set VIGIL_SHARED)"
mkdir -p "$top/build"

# ---- inputs: corpus, hash list, rules --------------------------------

if [ -z "$corpus" ]; then
	corpus=$default_corpus
	if [ "$(cat "$corpus/.vigil-bench-corpus" 2>/dev/null)" != complete ]; then
		"$bench/make_corpus.sh" "$corpus" "$corpus_mb" || die "cannot build the corpus"
	fi
fi
[ -d "$corpus" ] || die "$corpus is not a folder"
corpus=$(cd "$corpus" && pwd)
if [ ! -s "$hashlist" ] || [ "$bench/make_hashlist.sh" -nt "$hashlist" ]; then
	"$bench/make_hashlist.sh" "$hashlist.tmp" && mv "$hashlist.tmp" "$hashlist" ||
		die "cannot build the hash list"
fi

tmp=$(mktemp -d)
clamd_pid=
cleanup() {
	[ -n "$clamd_pid" ] && kill "$clamd_pid" 2>/dev/null && wait "$clamd_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/empty"

# The rule files: all of DEFAULT-SET, or every 8th for --smoke. Each in
# its own namespace named after the file, as vigil names them.
rules=()
n=0
while IFS= read -r line; do
	line=${line%$'\r'}
	case $line in '' | '#'*) continue ;; esac
	n=$((n + 1))
	[ "$smoke" = 1 ] && [ $((n % 8)) -ne 1 ] && continue
	rules+=("$rules_dir/$line")
done <"$rules_list"
# files whose rules are all commented out: vigil refuses a named source
# that yields no signature, and yara has nothing to run from them
printf '%s\n' "${rules[@]}" | /usr/bin/python3 -c '
import re, sys
for p in sys.stdin.read().splitlines():
    t = re.sub(r"/\*.*?\*/|//[^\n]*", "", open(p, encoding="latin-1").read(), flags=re.S)
    if re.search(r"(?m)^\s*((private|global)\s+)*rule\s", t):
        print(p)' >"$tmp/rules.list"
mapfile -t rules <"$tmp/rules.list"
yara_rules=() vigil_rules=()
for r in "${rules[@]}"; do
	ns=$(basename "$r")
	yara_rules+=("${ns%.*}:$r")
	vigil_rules+=(-d "$r")
done
# The rules use LOKI's externals; yara's command line sets each to one
# value for every file, so they are defined empty (vigil sets them per
# file: compare_matches.py marks the rules this can change).
yara_defs=(-d filename= -d filepath= -d extension= -d filetype= -d owner=)

# Unpacking switch, if this vigil has one; the ML stage is turned off
# (when it can be) because no peer has one: the same work for all.
vigil_help=$("$VIGIL" scan --help 2>&1)
has_no_unpack=0 no_ml=()
grep -q -- '--no-unpack' <<<"$vigil_help" && has_no_unpack=1
grep -q -- '--no-ml' <<<"$vigil_help" && no_ml=(--no-ml)

bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
nfiles=$(find "$corpus" -type f | wc -l)
mbytes=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1e6}')

# Other work on the machine skews every figure: the report shows the load.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "run.sh: warming the page cache ($mbytes MB)" >&2
find "$corpus" -type f -print0 | xargs -0 -r cat >/dev/null 2>&1

# ---- timing -----------------------------------------------------------

declare -A wall rss status start
# calc EXPR: awk arithmetic; the parentheses keep ">" a comparison.
calc() { awk "BEGIN {print ($*)}"; }

# run_tool KEY OKCODES CMD...: runs CMD $runs times under the timeout;
# keeps the fastest wall time in wall[KEY], peak RSS (MB) in rss[KEY],
# "ok", "timeout" or "exit N" in status[KEY], and the last output in
# $tmp/KEY.out (stderr in $tmp/KEY.err).
run_tool() {
	local key=$1 okcodes=$2 rc t0 t1 dt i
	shift 2
	status[$key]=ok
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s.%N)
		timeout -k 10 "$tool_timeout" /usr/bin/time -f %M -o "$tmp/$key.rss" \
			"$@" >"$tmp/$key.out" 2>"$tmp/$key.err"
		rc=$?
		t1=$(date +%s.%N)
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			status[$key]=timeout
			echo "run.sh: $key timed out after $tool_timeout s" >&2
			return 1
		fi
		case " $okcodes " in
		*" $rc "*) ;;
		*)
			status[$key]="exit $rc"
			echo "run.sh: $key failed (exit $rc): $(tail -n 3 "$tmp/$key.err")" >&2
			return 1
			;;
		esac
		dt=$(calc "$t1 - $t0")
		if [ -z "${wall[$key]:-}" ] || [ "$(calc "$dt < ${wall[$key]}")" = 1 ]; then
			wall[$key]=$dt
		fi
		rss[$key]=$(calc "$(tail -n 1 "$tmp/$key.rss") / 1024")
	done
}

# startup KEY CMD...: the same command on an empty folder: load time only.
startup() {
	local key=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	timeout -k 10 "$tool_timeout" "$@" "$tmp/empty" >/dev/null 2>&1
	t1=$(date +%s.%N)
	start[$key]=$(calc "$t1 - $t0")
}

vigil_hash=("$VIGIL" scan --no-default-signatures "${no_ml[@]}" -d "$hashlist" -j 2 --infected --json --no-progress)
vigil_yara=("$VIGIL" scan --no-default-signatures "${no_ml[@]}" "${vigil_rules[@]}" -j 2 --infected --json --no-progress)
clam_limits=(--max-filesize=2000M --max-scansize=400M --max-files=10000 --max-recursion=16 --max-scantime=120000)
clamscan_cmd=(clamscan -r --infected --no-summary -d "$hashlist" "${clam_limits[@]}")
yara_cmd=(yara -r -p 2 -e "${yara_defs[@]}" "${yara_rules[@]}")

# want PART: is PART in --only?
want() { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

bench_hash() {
	echo "run.sh: vigil, hash list" >&2
	run_tool vigil_hash "0 1 3" "${vigil_hash[@]}" "$corpus"
	startup vigil_hash "${vigil_hash[@]}"
	if [ "$has_no_unpack" = 1 ]; then
		run_tool vigil_hash_nounpack "0 1 3" "${vigil_hash[@]}" --no-unpack "$corpus"
		startup vigil_hash_nounpack "${vigil_hash[@]}" --no-unpack
	fi

	echo "run.sh: clamscan -r" >&2
	run_tool clamscan "0 1" "${clamscan_cmd[@]}" "$corpus"
	startup clamscan "${clamscan_cmd[@]}"
}

# clamd on a socket of its own, with only the hash list, 2 scanning threads
# (MaxThreads 3: the MULTISCAN thread itself only walks the tree) and
# the same limits; started afresh for each run, so that its cache of
# clean files cannot help a later run.
mkdir -p "$tmp/db" "$tmp/clamtmp"
cp "$hashlist" "$tmp/db/bench.hdb"
cat >"$tmp/clamd.conf" <<EOF
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
EOF
clamdscan_cmd=(clamdscan -c "$tmp/clamd.conf" --multiscan --infected --no-summary)

# start_clamd: starts clamd, waits for PING; sets start[clamdscan].
start_clamd() {
	local t0 t1
	t0=$(date +%s.%N)
	clamd -c "$tmp/clamd.conf" >"$tmp/clamd.stdout" 2>&1 &
	clamd_pid=$!
	# clamdscan --ping takes whole seconds between tries: poll instead.
	until clamdscan -c "$tmp/clamd.conf" --ping 1 >/dev/null 2>&1; do
		if ! kill -0 "$clamd_pid" 2>/dev/null ||
			[ "$(calc "$(date +%s.%N) - $t0 > $tool_timeout")" = 1 ]; then
			echo "run.sh: clamd did not answer: $(tail -n 3 "$tmp/clamd.log" 2>/dev/null)" >&2
			return 1
		fi
		sleep 0.05
	done
	t1=$(date +%s.%N)
	start[clamdscan]=$(calc "$t1 - $t0")
}
stop_clamd() {
	[ -n "$clamd_pid" ] || return 0
	kill "$clamd_pid" 2>/dev/null
	wait "$clamd_pid" 2>/dev/null
	clamd_pid=
}

# One clamd per run (run_tool keeps the fastest of its calls).
bench_clamd() {
	local r saved_runs=$runs
	echo "run.sh: clamdscan --multiscan" >&2
	runs=1
	for ((r = 0; r < saved_runs; r++)); do
		start_clamd || { status[clamdscan]="clamd failed"; stop_clamd; break; }
		run_tool clamdscan "0 1" "${clamdscan_cmd[@]}" "$corpus"
		rss[clamdscan]=$(awk '/^VmHWM:/ {print $2 / 1024}' "/proc/$clamd_pid/status" 2>/dev/null)
		stop_clamd
		[ "${status[clamdscan]}" = ok ] || break
	done
	runs=$saved_runs
}

bench_yara() {
	echo "run.sh: yara -r -p 2 (${#rules[@]} rule files)" >&2
	run_tool yara "0" "${yara_cmd[@]}" "$corpus"
	startup yara "${yara_cmd[@]}"

	echo "run.sh: vigil, YARA rules" >&2
	if [ "$has_no_unpack" = 1 ]; then
		run_tool vigil_yara_nounpack "0 1 3" "${vigil_yara[@]}" --no-unpack "$corpus"
		startup vigil_yara_nounpack "${vigil_yara[@]}" --no-unpack
	fi
	run_tool vigil_yara "0 1 3" "${vigil_yara[@]}" "$corpus"
	startup vigil_yara "${vigil_yara[@]}"

	# Compiled once: yarac's set against vigil's own bundle (which keeps
	# the MZ / not-MZ / rest sets, doc/yara.md); load time not counted
	# in either's scan time.
	echo "run.sh: compiled rules (yarac, vigil sig build)" >&2
	if yarac -w "${yara_defs[@]}" "${yara_rules[@]}" "$tmp/set.yarc" \
		>"$tmp/yarac.err" 2>&1; then
		run_tool yara_compiled "0" yara -r -p 2 -C "$tmp/set.yarc" "$corpus"
		startup yara_compiled yara -r -p 2 -C "$tmp/set.yarc"
	else
		status[yara_compiled]="yarac failed"
	fi
	if "$VIGIL" sig build -o "$tmp/set.vgb" "${rules[@]}" >"$tmp/sigbuild.err" 2>&1; then
		local vb=("$VIGIL" scan --allow-unsigned --no-default-signatures "${no_ml[@]}" -d "$tmp/set.vgb" -j 2 --infected --json --no-progress)
		[ "$has_no_unpack" = 1 ] && vb+=(--no-unpack)
		run_tool vigil_compiled "0 1 3" "${vb[@]}" "$corpus"
		startup vigil_compiled "${vb[@]}"
	else
		status[vigil_compiled]="sig build failed"
	fi
}

bench_cache() {
	echo "run.sh: cache_bench (hash list + rules, two scans in one process)" >&2
	run_tool cache "0" "$CACHE_BENCH" -j 2 -d "$hashlist" -l "$tmp/rules.list" "$corpus"
}

bench_memory() {
	echo "run.sh: memory after loading the rules" >&2
	run_tool ready_rules "0" "$CACHE_BENCH" --load-only -l "$tmp/rules.list"
	echo x >"$tmp/tiny"
	run_tool yara_tiny "0" yara -p 2 "${yara_defs[@]}" "${yara_rules[@]}" "$tmp/tiny"
}

# ---- report -----------------------------------------------------------

# field KEY N: the Nth field of cache_bench's "name: value" line.
cache_field() { sed -n "s/^$1: //p" "$tmp/$2.out" | awk -v n="$3" '{print $n}'; }
found() {
	case $2 in
	yara) /usr/bin/python3 "$bench/compare_matches.py" --count "$corpus" yara "$tmp/$1.out" ;;
	clam) /usr/bin/python3 "$bench/compare_matches.py" --count "$corpus" clam "$tmp/$1.out" ;;
	vigil) /usr/bin/python3 "$bench/compare_matches.py" --count "$corpus" vigil "$tmp/$1.out" ;;
	esac
}
mbs() { calc "$bytes / 1e6 / $1"; }
# scan_time KEY: wall time less start-up (clamdscan's wall has none).
scan_time() {
	if [ "$1" = clamdscan ]; then echo "${wall[$1]}"; else
		calc "${wall[$1]} - ${start[$1]:-0}"; fi
}
# ratio A B / scan_ratio A B: how many times faster A is than B, from
# wall times / from scan times; empty unless both ran.
ratio() {
	[ "${status[$1]:-}" = ok ] && [ "${status[$2]:-}" = ok ] &&
		calc "${wall[$2]} / ${wall[$1]}"
}
scan_ratio() {
	[ "${status[$1]:-}" = ok ] && [ "${status[$2]:-}" = ok ] &&
		calc "$(scan_time "$2") / ($(scan_time "$1") > 0 ? $(scan_time "$1") : 1e-9)"
}
verdict() { # verdict VALUE OP TARGET
	[ -n "$1" ] || { echo "n/a"; return; }
	[ "$(calc "$1 $2 $3")" = 1 ] && echo PASS || echo MISS
}

row() { # row KEY LABEL FORMAT
	local key=$1 label=$2 fmt=$3
	if [ "${status[$key]:-}" != ok ]; then
		printf '  %-34s %s\n' "$label" "${status[$key]:-not run}"
		return
	fi
	local w=${wall[$key]} s=${start[$key]:-0} scan
	scan=$(scan_time "$key")
	printf '  %-34s %8.2f %8.1f %8.2f %9.1f %8.0f %6s\n' "$label" "$w" "$(mbs "$w")" \
		"$s" "$(calc "$scan > 0 ? $bytes / 1e6 / $scan : 0")" "${rss[$key]:-0}" \
		"$(found "$key" "$fmt")"
}
header() {
	printf '\n%s\n' "$1"
	printf '  %-34s %8s %8s %8s %9s %8s %6s\n' tool "wall s" "MB/s" "start s" \
		"scan MB/s" "RSS MB" found
}

# The like-for-like vigil run for a peer that unpacks (clamscan, clamd):
# unpacking on; for yara, which does not unpack: --no-unpack.
vh=vigil_hash vy=vigil_yara
[ "$has_no_unpack" = 1 ] && vy=vigil_yara_nounpack

report() {
	echo "vigil benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(free -g | awk '/^Mem:/ {print $2}') GB RAM; load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "vigil: $("$VIGIL" --version 2>/dev/null | head -n 1); $(yara --version | sed 's/^/yara /'); $(clamscan --version | cut -d/ -f1)"
	echo "corpus: $corpus ($nfiles files, $mbytes MB)"
	echo "hash list: $(wc -l <"$hashlist") MD5 lines; rules: ${#rules[@]} signature-base DEFAULT-SET files$([ "$smoke" = 1 ] && echo ' (every 8th)')"
	echo "runs per command: $runs (fastest kept); MB = 10^6 bytes of the corpus on disk"
	echo "start s = the same command on an empty folder (for clamdscan: clamd's start until PING);"
	echo "scan MB/s = corpus / (wall - start); clamdscan's wall excludes clamd's start"

	local r rs m v y t
	echo "like for like: vigil with unpacking against clamscan and clamd, which"
	if [ "$has_no_unpack" = 1 ]; then
		echo "unpack; vigil --no-unpack against yara, which does not"
	else
		echo "unpack; this vigil has no --no-unpack, so it unpacks against yara too"
	fi

	if want hash; then
		header "hash-only scan, $(wc -l <"$hashlist") MD5s"
		row vigil_hash "vigil -j 2" vigil
		[ "$has_no_unpack" = 1 ] && row vigil_hash_nounpack "vigil -j 2 --no-unpack" vigil
		row clamscan "clamscan -r" clam
		row clamdscan "clamdscan --multiscan (2 thr)" clam
		echo "ratios (wall time; scan-only in brackets) and targets:"
		r=$(ratio $vh clamscan) rs=$(scan_ratio $vh clamscan)
		printf '  vigil / clamscan -r:        %6.1fx [%5.1fx]  target >= 10x   %s\n' "${r:-0}" "${rs:-0}" "$(verdict "$r" '>=' 10)"
		r=$(ratio $vh clamdscan) rs=$(scan_ratio $vh clamdscan)
		printf '  vigil / clamdscan:          %6.1fx [%5.1fx]  target >= 3x    %s\n' "${r:-0}" "${rs:-0}" "$(verdict "$r" '>=' 3)"
		m=
		[ "${status[$vh]:-}" = ok ] && m=$(mbs "${wall[$vh]}")
		printf '  vigil hash-only MB/s:       %6.0f           target >= 500   %s\n' "${m:-0}" "$(verdict "$m" '>=' 500)"
		if [ "${status[$vh]:-}" = ok ] && [ "${status[clamscan]:-}" = ok ]; then
			echo "files found, clamscan against vigil:"
			/usr/bin/python3 "$bench/compare_matches.py" "$corpus" \
				clamscan clam "$tmp/clamscan.out" vigil vigil "$tmp/$vh.out" | sed 's/^/  /'
		fi
	fi

	if want yara; then
		header "YARA scan, signature-base"
		[ "$has_no_unpack" = 1 ] && row vigil_yara_nounpack "vigil -j 2 --no-unpack" vigil
		row vigil_yara "vigil -j 2" vigil
		row yara "yara -r -p 2" yara
		r=$(ratio $vy yara) rs=$(scan_ratio $vy yara)
		printf '  vigil / yara -r -p 2:       %6.1fx [%5.1fx]  target >= 1.5x  %s\n' "${r:-0}" "${rs:-0}" "$(verdict "$r" '>=' 1.5)"
		row vigil_compiled "vigil -j 2, own bundle" vigil
		row yara_compiled "yara -r -p 2 -C (yarac)" yara
		r=$(ratio vigil_compiled yara_compiled) rs=$(scan_ratio vigil_compiled yara_compiled)
		printf '  vigil bundle / yara -C:      %6.1fx [%5.1fx]  target >= 1.5x  %s\n' "${r:-0}" "${rs:-0}" "$(verdict "$r" '>=' 1.5)"
		if [ "${status[$vy]:-}" = ok ] && [ "${status[yara]:-}" = ok ]; then
			echo "files matched, yara against vigil (target: the same):"
			/usr/bin/python3 "$bench/compare_matches.py" --rules "$tmp/rules.list" "$corpus" \
				yara yara "$tmp/yara.out" vigil vigil "$tmp/$vy.out" | sed 's/^/  /'
		fi
	fi

	want cache || want memory || return 0
	echo
	echo "one process, hash list + rules, scanning the tree twice (bench/cache_bench -j 2):"
	if [ "${status[cache]:-}" = ok ]; then
		sed 's/^/  /' "$tmp/cache.out"
		r=$(cache_field 'second scan speed-up' cache 1 | tr -d x)
		printf '  second scan speed-up target >= 20x: %s\n' "$(verdict "$r" '>=' 20)"
		t=$(cache_field 'engine ready' cache 1)
		printf '  engine ready (new+load+freeze) target < 2 s: %s\n' "$(verdict "$t" '<' 2)"
	else
		echo "  cache_bench: ${status[cache]:-not run}; $(tail -n 3 "$tmp/cache.err" 2>/dev/null)"
	fi
	echo
	echo "memory after loading the rules (peak RSS):"
	if [ "${status[ready_rules]:-}" = ok ] && [ "${status[yara_tiny]:-}" = ok ]; then
		v=$(cache_field 'peak RSS after load' ready_rules 1)
		y=${rss[yara_tiny]}
		printf '  vigil (rules only) %.1f MB, yara -p 2 on a tiny file %.1f MB: %.2fx, target <= 1.2x %s\n' \
			"$v" "$y" "$(calc "$v / $y")" "$(verdict "$(calc "$v / $y")" '<=' 1.2)"
		[ "${status[cache]:-}" = ok ] &&
			printf '  vigil with rules + hash list: %s MB\n' "$(cache_field 'peak RSS after load' cache 1)"
	else
		echo "  not measured: ready_rules ${status[ready_rules]:-not run}, yara ${status[yara_tiny]:-not run}"
	fi
}

want hash && { bench_hash; bench_clamd; }
want yara && bench_yara
want cache && bench_cache
want memory && bench_memory
report | tee "$results"
echo "run.sh: results in $results" >&2
