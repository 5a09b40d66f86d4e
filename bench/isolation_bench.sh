#!/usr/bin/env bash
# isolation_bench.sh [--runs N] [CORPUS...] - what isolation costs
# (issue 8): each corpus scanned by `vigil scan` with the 100k hash list,
# with isolation on (the default: libarchive and libclamav in
# vigil-unpackd workers) and off (--no-isolation), alternating, best of
# N runs (default 3). Prints wall time and CPU time (user + system, the
# workers included: the scan reaps them, so their time is its
# children's), the findings of each (which must agree), and the ratio.
#
# Default corpora: the bench corpus (build/bench-corpus, made by
# bench/make_corpus.sh) and the archive-heavy corpus
# (build/archive-bench/corpus, made by bench/archive_bench.sh). The
# machine's load changes wall times; CPU time is the steadier figure.
#
# Environment: VIGIL (default build/vigil), VIGIL_UNPACKD (default
# vigil-unpackd beside VIGIL).
set -uo pipefail
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
runs=3
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=${2:?}; shift ;;
	-h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) break ;;
	esac
	shift
done
VIGIL=${VIGIL:-$top/build/vigil}
export VIGIL_UNPACKD=${VIGIL_UNPACKD:-$(dirname "$VIGIL")/vigil-unpackd}
hashlist=$top/build/bench-hashes.hdb
[ $# -gt 0 ] || set -- "$top/build/bench-corpus" "$top/build/archive-bench/corpus"
for c in "$@"; do
	[ -d "$c" ] || { echo "isolation_bench.sh: no corpus $c (bench/make_corpus.sh," \
		"bench/archive_bench.sh build/archive-bench)" >&2; exit 1; }
done
[ -s "$hashlist" ] || "$top/bench/make_hashlist.sh" "$hashlist"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# one scan: "wall cpu findings"
scan() {
	/usr/bin/time -o "$tmp/time" -f '%e %U %S' "$VIGIL" scan --no-progress \
		--no-summary --infected --no-default-signatures -d "$hashlist" \
		-j 2 "$@" >"$tmp/out" 2>/dev/null
	read -r wall user sys < <(tail -n 1 "$tmp/time")
	echo "$wall $(echo "$user + $sys" | bc) $(grep -c 'FOUND$' "$tmp/out")"
}

printf '%-28s %-5s %9s %9s %9s\n' corpus isol wall_s cpu_s findings
for c in "$@"; do
	scan "$c" >/dev/null   # warm the page cache
	best_on= best_off=
	for ((i = 0; i < runs; i++)); do
		for mode in on off; do
			flag=; [ $mode = off ] && flag=--no-isolation
			read -r w u f < <(scan $flag "$c")
			eval "cur=\${best_$mode:-}"
			if [ -z "$cur" ] || [ "$(echo "$w < ${cur%% *}" | bc)" = 1 ]; then
				eval "best_$mode='$w $u $f'"
			fi
			eval "all_$mode=\"\${all_$mode:-} $w/$u\""
		done
	done
	name=$(basename "$(dirname "$c")")/$(basename "$c")
	for mode in on off; do
		eval "set -- \$best_$mode"
		printf '%-28s %-5s %9s %9s %9s\n' "$name" $mode "$1" "$2" "$3"
	done
	read -r won uon fon <<<"$best_on"
	read -r woff uoff foff <<<"$best_off"
	echo "  isolation on / off: wall $(echo "scale=3; $won / $woff" | bc)," \
		"cpu $(echo "scale=3; $uon / $uoff" | bc)$( [ "$fon" = "$foff" ] ||
		echo "; FINDINGS DIFFER")"
	echo "  every run (wall/cpu): on$all_on; off$all_off"
	unset all_on all_off
done
