#!/usr/bin/env bash
# hostile_inputs.sh - run the whole scan over the test inputs that
# libarchive, YARA and ClamAV ship in their repositories: files written
# by others to break parsers. Not part of make check (the inputs are not
# ours to ship); run it by hand on an ASan+UBSan build:
#
#   fuzz/hostile_inputs.sh BUILD_DIR WORK_DIR GITDIR...
#
# BUILD_DIR holds the vigil binary (configure --enable-sanitizers);
# WORK_DIR receives the inputs and the logs; each GITDIR is a clone (or
# bare mirror) of libarchive/libarchive, VirusTotal/yara or
# Cisco-Talos/clamav, told apart by the files they hold. The set is
# rebuilt from the clones each run: libarchive's uuencoded test files
# (libarchive/test, tar/test, cpio/test, cat/test, unzip/test) decoded,
# yara's tests/data, clamav's unit_tests/input.
#
# Each file is scanned alone (`vigil scan`, built-in signatures, a YARA
# rule that reads every byte, ML on), with a 60 s timeout and ASan's
# 2 GiB RSS cap (RLIMIT_AS does not mix with ASan's shadow memory).
# Outcomes: ok (exit 0, 1 or 3), error (exit 2: listed for triage),
# sanitizer (an ASan, UBSan or LSan report), hang (timeout), killed.
# Exits 1 if any file ends in sanitizer, hang or killed.
#
# Left out: five libarchive inputs that crash or hang inside Debian's
# libarchive 3.6.2 itself, which only isolating the unpacker can contain
# (a later issue); they are named in EXCLUDE below.
set -uo pipefail

[ $# -ge 3 ] || { sed -n '2,/^set/p' "$0" | sed 's/^# \{0,1\}//;/^set/d'; exit 2; }
build=$(cd "$1" && pwd)
work=$2
shift 2
vigil=$build/vigil
[ -x "$vigil" ] || { echo "no $vigil" >&2; exit 2; }
timeout_s=${VIGIL_HOSTILE_TIMEOUT:-60}

EXCLUDE=(
	test_read_format_cab_lzx_oob.cab
	test_read_format_cab_skip_malformed.cab
	test_read_format_xar_doublelink.xar
	test_read_filter_gzip_recursive.gz
	test_read_format_rar_unbound_staticdata.rar
)

rm -rf "$work/inputs"
mkdir -p "$work/inputs" "$work/logs"

# extract GITDIR PATHSPEC... into DEST
extract() {
	local git=$1 dest=$2
	shift 2
	mkdir -p "$dest"
	git -C "$git" archive HEAD -- "$@" | tar -x -C "$dest"
}

for g in "$@"; do
	if git -C "$g" cat-file -e HEAD:libarchive/archive_read.c 2>/dev/null; then
		extract "$g" "$work/src/libarchive" libarchive/test tar/test \
			cpio/test cat/test unzip/test
		find "$work/src/libarchive" -name '*.uu' | sort | while read -r uu; do
			base=$(basename "$uu" .uu)
			/usr/bin/python3 - "$uu" "$work/inputs/libarchive:$base" <<'PY'
import sys
# uudecode by hand: the test files have lines binascii refuses
out = bytearray()
started = False
for line in open(sys.argv[1], "rb"):
    line = line.rstrip(b"\r\n")
    if not started:
        started = line.startswith(b"begin ")
        continue
    if line == b"end":
        break
    if not line:
        continue
    n = (line[0] - 32) & 63
    chars = [(c - 32) & 63 for c in line[1:1 + (n + 2) // 3 * 4]]
    chars += [0] * (-len(chars) % 4)
    got = bytearray()
    for i in range(0, len(chars), 4):
        a, b, c, d = chars[i:i + 4]
        got += bytes([(a << 2 | b >> 4) & 255, (b << 4 | c >> 2) & 255,
                      (c << 6 | d) & 255])
    out += got[:n]
open(sys.argv[2], "wb").write(out)
PY
		done
	elif git -C "$g" cat-file -e HEAD:libyara/rules.c 2>/dev/null; then
		extract "$g" "$work/src/yara" tests/data
		find "$work/src/yara/tests/data" -type f | sort | while read -r f; do
			cp "$f" "$work/inputs/yara:$(basename "$f")"
		done
	elif git -C "$g" cat-file -e HEAD:libclamav/scanners.c 2>/dev/null; then
		extract "$g" "$work/src/clamav" unit_tests/input
		find "$work/src/clamav/unit_tests/input" -type f | sort | while read -r f; do
			rel=${f#"$work/src/clamav/unit_tests/input/"}
			cp "$f" "$work/inputs/clamav:${rel//\//_}"
		done
	else
		echo "$g: not a libarchive, yara or clamav repository" >&2
	fi
done
for x in "${EXCLUDE[@]}"; do
	rm -f "$work/inputs/libarchive:$x"
done

# a rule that makes YARA read every byte of every layer
printf 'rule every_byte { strings: $a = { 56 49 47 49 4C 2D 6E 6F 2D 6D 61 74 63 68 } condition: $a }\n' \
	>"$work/every_byte.yar"

export ASAN_OPTIONS="hard_rss_limit_mb=2048:detect_leaks=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
supp=$(cd "$(dirname "$0")" && pwd)/lsan.supp
[ -f "$supp" ] && export LSAN_OPTIONS="suppressions=$supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

declare -A count=()
: >"$work/results.txt"
n=0
for f in "$work/inputs"/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	name=${f##*/}
	log="$work/logs/$name.log"
	timeout -k 5 "$timeout_s" "$vigil" scan --no-progress --no-summary \
		-d "$work/every_byte.yar" "$f" >"$log" 2>&1
	rc=$?
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|Undefined)' "$log"; then
		outcome=sanitizer
	elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		outcome=hang
	elif [ $rc -ge 128 ]; then
		outcome=killed
	elif [ $rc -eq 2 ]; then
		outcome=error
	else
		outcome=ok
	fi
	count[$outcome]=$(( ${count[$outcome]:-0} + 1 ))
	printf '%s\t%s\t%s\n' "$outcome" "$rc" "$name" >>"$work/results.txt"
	if [ "$outcome" != ok ]; then
		echo "$outcome (exit $rc): $name"
		[ "$outcome" = error ] && sed -n 's/^vigil: //p' "$log" | head -3 | sed 's/^/    /'
	fi
done
echo "$n files: ok ${count[ok]:-0}, error ${count[error]:-0}, sanitizer ${count[sanitizer]:-0}, hang ${count[hang]:-0}, killed ${count[killed]:-0} (excluded: ${#EXCLUDE[@]})"
[ "${count[sanitizer]:-0}" -eq 0 ] && [ "${count[hang]:-0}" -eq 0 ] && [ "${count[killed]:-0}" -eq 0 ]
