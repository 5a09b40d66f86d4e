#!/usr/bin/env bash
# archive_bench.sh [WORKDIR] - the archive-heavy benchmark (issue 3):
# zip, tar.gz and 7z archives of /usr files, about 300 MB in all, scanned
# with the 100k hash list by vigil and by clamscan -r, one run each.
#
# Both must unpack every member to find anything, so this measures the
# unpackers, not the hash lookup. A copy of clam.exe is put in some
# members so both scanners have findings to agree on.
# Needs: build/vigil (or $VIGIL), clamscan, 7z, zip support in python3.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
vigil=${VIGIL:-$top/build/vigil}
export VIGIL_UNPACKD=${VIGIL_UNPACKD:-$(dirname "$vigil")/vigil-unpackd}
work=${1:-$(mktemp -d)}
testfiles=/usr/share/clamav-testfiles
mkdir -p "$work/corpus"

if [ ! -f "$work/list.hdb" ]; then
	"$top/bench/make_hashlist.sh" "$work/list.hdb"
fi

# Three archives of each kind, each of a different slice of /usr, with
# clam.exe in one member of each.
if [ ! -f "$work/corpus/.done" ]; then
	mapfile -t files < <(find /usr/lib /usr/share /usr/bin -xdev -type f \
		-size -8M -readable 2>/dev/null | LC_ALL=C sort | head -n 60000)
	j=0
	for i in 0 1 2; do
		for kind in zip tgz 7z; do
			list="$work/list.$i.$kind"
			printf '%s\n' "${files[@]}" | awk -v k=$j 'NR % 9 == k' >"$list"
			j=$((j + 1))
			cp "$testfiles/clam.exe" "$work/clam-$i-$kind.exe"
			echo "$work/clam-$i-$kind.exe" >>"$list"
			out="$work/corpus/usr-$i.$kind"
			case $kind in
			zip) /usr/bin/python3 - "$list" "$out" <<'PY'
import sys, zipfile
with open(sys.argv[1]) as f, zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    for p in f.read().split("\n"):
        if p:
            try:
                z.write(p)
            except OSError:
                pass
PY
				;;
			tgz) tar czf "$out" --ignore-failed-read -T "$list" 2>/dev/null || true ;;
			7z) 7z a -bd -bso0 -bse0 -spf "$out" "@$list" >/dev/null || true ;;
			esac
		done
	done
	touch "$work/corpus/.done"
fi
echo "corpus: $(du -sh "$work/corpus" | cut -f1) in $(ls "$work/corpus" | wc -l) archives"

t0=$(date +%s.%N)
"$vigil" scan --no-progress --no-default-signatures -d "$work/list.hdb" \
	"$work/corpus" >"$work/vigil.out" || true
t1=$(date +%s.%N)
clamscan -r --no-summary -d "$work/list.hdb" "$work/corpus" \
	>"$work/clamscan.out" 2>/dev/null || true
t2=$(date +%s.%N)

vt=$(echo "$t1 - $t0" | bc)
ct=$(echo "$t2 - $t1" | bc)
echo "vigil scan: $vt s, $(grep -c 'FOUND$' "$work/vigil.out") findings"
echo "clamscan -r: $ct s, $(grep -c 'FOUND$' "$work/clamscan.out") findings"
echo "speed-up: $(echo "scale=2; $ct / $vt" | bc)x"
