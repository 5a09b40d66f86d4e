#!/usr/bin/env bash
# bundle.sh [--count N] [--warm N] - loose files against a bundle:
#   1. load time and RSS of one engine (signature-base DEFAULT-SET and a
#      hash list of N MD5s, default 1,000,000: bench/make_hashlist.sh);
#   2. a reload: peak RSS while a second engine is built beside the
#      first, against the steady state of one engine (target <= 1.3x);
#   3. 4 processes holding the same engine: RSS and PSS summed
#      (/proc/PID/smaps_rollup: shared pages counted once in PSS).
# Engines are warmed with --warm random scans (default 200,000), each
# an MD5 look-up, so the hash set pages a long-running scanner touches
# are resident. Prints ratios; the machine's load shows in the times.
set -euo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench
shared=${VIGIL_SHARED:-$top/../shared}
VIGIL=${VIGIL:-$top/build/vigil}
BB=${BUNDLE_BENCH:-$(dirname "$VIGIL")/bench/bundle_bench}
count=1000000 warm=200000
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
loose=("$work/rules" "$hdb")
bundle=$work/bench.vgb
if [ ! -s "$bundle" ] || [ "$hdb" -nt "$bundle" ]; then
	/usr/bin/time -f "%e s, peak %M kB" -o "$work/build.time" \
		"$VIGIL" sig build -o "$bundle" --version 1 "${loose[@]}" >/dev/null
	echo "sig build: $(cat "$work/build.time") -> $(du -h "$bundle" | cut -f1)"
fi

field() { sed -n "s/.*\\b$1 \\([0-9.]*\\).*/\\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }

echo "== 1. one engine: $(wc -l <"$hdb") MD5s + $(ls "$work/rules" | wc -l) signature-base files; load, then $warm warm-up scans"
l=$("$BB" load --warm "$warm" "${loose[@]}")
b=$("$BB" load --warm "$warm" "$bundle")
printf '%-8s load %7.3f s   RSS %10s   peak %10s\n' loose "$(field load_s "$l")" \
	"$(mb "$(field rss_kb "$l")")" "$(mb "$(field peak_kb "$l")")"
printf '%-8s load %7.3f s   RSS %10s   peak %10s\n' bundle "$(field load_s "$b")" \
	"$(mb "$(field rss_kb "$b")")" "$(mb "$(field peak_kb "$b")")"
echo "load time loose/bundle: $(ratio "$(field load_s "$l")" "$(field load_s "$b")")x;" \
	"RSS loose/bundle: $(ratio "$(field rss_kb "$l")" "$(field rss_kb "$b")")x"

echo "== 2. reload: a second engine built while the first serves"
for kind in loose bundle; do
	if [ $kind = loose ]; then r=$("$BB" reload --warm "$warm" "${loose[@]}")
	else r=$("$BB" reload --warm "$warm" "$bundle"); fi
	printf '%-8s steady %10s   peak during reload %10s   ratio %sx   (build %s s)\n' \
		$kind "$(mb "$(field steady_kb "$r")")" "$(mb "$(field reload_peak_kb "$r")")" \
		"$(field ratio "$r")" "$(field reload_s "$r")"
done

echo "== 3. four processes holding the same engine (smaps_rollup)"
for kind in loose bundle; do
	pids=() fifos=()
	for i in 1 2 3 4; do
		f=$work/hold.$kind.$i
		rm -f "$f" "$f.out"
		mkfifo "$f"
		if [ $kind = loose ]; then "$BB" hold --warm "$warm" "${loose[@]}" <"$f" >"$f.out" &
		else "$BB" hold --warm "$warm" "$bundle" <"$f" >"$f.out" & fi
		pids+=($!)
		exec {fd}>"$f"
		fifos+=("$fd")
	done
	for i in 1 2 3 4; do
		until grep -q ready "$work/hold.$kind.$i.out" 2>/dev/null; do sleep 0.2; done
	done
	rss=0 pss=0
	for p in "${pids[@]}"; do
		rss=$((rss + $(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup")))
		pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
	done
	printf '%-8s 4 processes: RSS sum %10s   PSS sum %10s\n' $kind "$(mb $rss)" "$(mb $pss)"
	for fd in "${fifos[@]}"; do exec {fd}>&-; done
	wait "${pids[@]}"
	rm -f "$work"/hold.$kind.*
done
