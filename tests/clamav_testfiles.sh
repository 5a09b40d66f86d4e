#!/bin/sh
# clamav_testfiles.sh - every one of the 44 files of Debian's
# clamav-testfiles is MALICIOUS with only clam.exe's MD5 as signature,
# each finding naming clam.exe's layer inside its container. This needs
# the unpackers (libarchive and libclamav) to reach every layer.
. "$top_srcdir/tests/lib.sh"

dir=${CLAMAV_TESTFILES:-/usr/share/clamav-testfiles}
[ -f "$dir/clam.exe" ] || { echo "SKIP: no $dir"; exit 77; }

# clam.hdb holds only clam.exe's MD5 line, as sigtool --md5 writes it
printf '%s:%s:clam.exe\n' "$(md5sum <"$dir/clam.exe" | cut -d' ' -f1)" \
	"$(wc -c <"$dir/clam.exe" | tr -d ' ')" >"$scratch/clam.hdb"

expect_exit 1 "scan of clamav-testfiles" "$VIGIL" scan --no-progress \
	--no-default-signatures -d "$scratch/clam.hdb" "$dir"
expect_grep '^Infected files: 44 \(44 malicious' "$out" "44 of 44 infected"

total=0
for f in "$dir"/*; do
	total=$((total + 1))
	name=${f##*/}
	if [ "$name" = clam.exe ]; then
		want="^$f: clam.exe FOUND"
	else
		# found in a layer below the container, not on the container
		want="^$f!.+: clam.exe FOUND"
	fi
	if printf '%s\n' "$out" | grep -qE -- "$want"; then ok "$name"; else
		fail "$name: no line /$want/"; fi
done
[ "$total" -eq 44 ] || fail "$dir holds $total files, wanted 44"
finish
