#!/usr/bin/env bash
# bundle.sh [--count N] [--warm N] - loose files against a bundle:
#   1. load time and RSS of one engine (signature-base DEFAULT-SET and a
#      hash list of N MD5s, default 1,000,000: bench/make_hashlist.sh);
#   2. a reload: peak RSS while a second engine is built beside the
#      first, against the steady state of one engine (target <= 1.3x);
#   3. 4 processes holding the same engine: RSS and PSS summed
#      (/proc/PID/smaps_rollup: shared pages counted once in PSS).
# Engines are warmed with --warm random scans (default 2,000; each costs about a millisecond of YARA over signature-base), each
# an MD5 look-up, so the hash set pages a long-running scanner touches
# are resident. Prints ratios; the machine's load shows in the times.
set -euo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench
shared=${VIGIL_SHARED:-$top/../shared}
VIGIL=${VIGIL:-$top/build/vigil}
# the unpacking worker beside the binary when it runs from a build tree
export VIGIL_UNPACKD=${VIGIL_UNPACKD:-$(dirname "$VIGIL")/vigil-unpackd}
BB=${BUNDLE_BENCH:-$(dirname "$VIGIL")/bench/bundle_bench}
count=1000000 warm=2000
while [ $# -gt 0 ]; do
	case $1 in
	--count) count=$2; shift ;;
	--warm) warm=$2; shift ;;
	*) echo "usage: $0 [--count N] [--warm N]" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$BB" ] || { echo "bundle.sh: $BB not built (make -C build)" >&2; exit 1; }
rules_dir=$shared/rules/yara/signature-base
[ -f "$rules_dir/DEFAULT-SET.txt" ] || { echo "bundle.sh: no $rules_dir (set VIGIL_SHARED)" >&2; exit 1; }

work=$top/build/bench-bundle
mkdir -p "$work/rules"
hdb=$work/hashes-$count.hdb
[ -s "$hdb" ] || "$bench/make_hashlist.sh" --count "$count" "$hdb"
# the DEFAULT-SET rule files, as bench/run.sh uses them
if [ ! -e "$work/rules/.done" ]; then
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in '' | '#'*) continue ;; esac
		cp "$rules_dir/$line" "$work/rules/"
	done <"$rules_dir/DEFAULT-SET.txt"
	touch "$work/rules/.done"
fi
trust=$work/trust
if [ ! -s "$work/bench.sec" ]; then
	rm -rf "$trust" && mkdir -p "$trust"
	"$VIGIL" sig keygen --secret "$work/bench.sec" --public "$trust/bench.pub" >/dev/null
fi
# mk NAME SOURCE...: a signed bundle of the sources, made once
mk() {
	local out=$work/$1
	shift
	if [ ! -s "$out" ] || [ "$hdb" -nt "$out" ]; then
		/usr/bin/time -f "%e s, peak RSS %M kB" -o "$work/build.time" \
			"$VIGIL" sig build -o "$out" --version 1 --key "$work/bench.sec" "$@" >/dev/null
		echo "sig build $(basename "$out"): $(cat "$work/build.time") -> $(du -h "$out" | cut -f1)"
	fi
}
# the next day's bundles: one more YARA file (its YARA part changes),
# one more hash (only the hash part changes)
printf 'rule BenchNextDay { strings: $a = "vigil-bench-next-day" condition: $a }\n' \
	>"$work/next-day.yar"
echo "00000000000000000000000000000001:1234:Bench.NextDay" >"$work/next-day.hdb"
mk all.vgb "$work/rules" "$hdb"
mk all-next.vgb "$work/rules" "$work/next-day.yar" "$hdb"
mk hashes.vgb "$hdb"
mk hashes-next.vgb "$hdb" "$work/next-day.hdb"

field() { sed -n "s/.*\\b$1 \\([0-9.]*\\).*/\\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
BBT() { "$BB" "$1" --trust "$trust" --warm "$warm" "${@:2}"; }

# scenario TITLE LOOSE-SOURCES... -- BUNDLE NEXT-BUNDLE
scenario() {
	local title=$1 l b kind
	shift
	local loose=() bundle next
	while [ "$1" != -- ]; do loose+=("$1"); shift; done
	bundle=$2 next=$3
	echo
	echo "#### $title"
	echo "== 1. one engine: load, then $warm warm-up scans"
	l=$(BBT load "${loose[@]}")
	b=$(BBT load "$bundle")
	for kind in loose bundle; do
		local r=$l
		[ $kind = bundle ] && r=$b
		printf '%-7s load %7.3f s  RSS %9s (private %9s, mapped file %9s)  peak %9s\n' \
			$kind "$(field load_s "$r")" "$(mb "$(field rss_kb "$r")")" \
			"$(mb "$(field anon_kb "$r")")" "$(mb "$(field file_kb "$r")")" \
			"$(mb "$(field peak_kb "$r")")"
	done
	echo "load time loose/bundle: $(ratio "$(field load_s "$l")" "$(field load_s "$b")")x;" \
		"RSS loose/bundle: $(ratio "$(field rss_kb "$l")" "$(field rss_kb "$b")")x"

	echo "== 2. reload as a daemon does it: the new engine built while the old one"
	echo "   (warm) serves, then swapped; RSS counts a page once per mapping, PSS once"
	for kind in loose same next; do
		local r label
		case $kind in
		loose) r=$(BBT reload "${loose[@]}"); label="loose files, reloaded" ;;
		same) r=$(BBT reload "$bundle"); label="bundle, same file" ;;
		next) r=$(BBT reload "$bundle" -- "$next"); label="bundle -> next day's" ;;
		esac
		printf '%-24s steady %9s  peak %9s (%sx)  PSS both engines %9s (%sx of %s)  built in %s s\n' \
			"$label" "$(mb "$(field steady_kb "$r")")" \
			"$(mb "$(field reload_peak_kb "$r")")" "$(field ratio "$r")" \
			"$(mb "$(field both_pss_kb "$r")")" "$(field pss_ratio "$r")" \
			"$(mb "$(field steady_pss_kb "$r")")" "$(field reload_s "$r")"
	done

	echo "== 3. four processes holding the same engine (smaps_rollup)"
	for kind in loose bundle; do
		local pids=() fifos=() i f fd rss=0 pss=0 p
		for i in 1 2 3 4; do
			f=$work/hold.$kind.$i
			rm -f "$f" "$f.out"
			mkfifo "$f"
			if [ $kind = loose ]; then BBT hold "${loose[@]}" <"$f" >"$f.out" &
			else BBT hold "$bundle" <"$f" >"$f.out" & fi
			pids+=($!)
			exec {fd}>"$f"
			fifos+=("$fd")
		done
		for i in 1 2 3 4; do
			until grep -q ready "$work/hold.$kind.$i.out" 2>/dev/null; do sleep 0.2; done
		done
		for i in 1 2 3 4; do
			p=$(awk '{print $2}' "$work/hold.$kind.$i.out")
			rss=$((rss + $(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup")))
			pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
		done
		printf '%-7s 4 processes: RSS sum %9s  PSS sum %9s\n' $kind "$(mb $rss)" "$(mb $pss)"
		for fd in "${fifos[@]}"; do exec {fd}>&-; done
		wait "${pids[@]}"
		rm -f "$work"/hold.$kind.*
	done
}

echo "(machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
scenario "signature-base DEFAULT-SET ($(ls "$work/rules" | wc -l) files) + $(wc -l <"$hdb") MD5s" \
	"$work/rules" "$hdb" -- "$work/all.vgb" "$work/all-next.vgb"
scenario "$(wc -l <"$hdb") MD5s only" "$hdb" -- "$work/hashes.vgb" "$work/hashes-next.vgb"
