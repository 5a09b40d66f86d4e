#!/bin/sh
# libarchive_hostile.sh - the five inputs from libarchive's own test
# suite that crash, hang or blow up memory inside Debian 12's libarchive
# 3.6.2 (issue 8) are bounded by isolation: each ends INCOMPLETE with a
# named limit, the scan of their folder ends with its summary line in
# well under 10 s, and peak memory (workers included) stays under
# 512 MB.
#
# The inputs are libarchive's, so they are not part of vigil: set
# LIBARCHIVE_TESTS to the libarchive/test folder of a libarchive source
# tree (they are read from its .uu files); without it the test skips.
# tests/isolation.sh always runs an input of its own that makes the same
# libarchive loop forever (a xar with doubled hard links).
. "$top_srcdir/tests/lib.sh"

src=${LIBARCHIVE_TESTS:-}
[ -n "$src" ] && [ -d "$src" ] || {
	echo "SKIP: set LIBARCHIVE_TESTS to libarchive's libarchive/test folder"
	exit 77
}
[ -x /usr/bin/time ] || { echo "SKIP: no /usr/bin/time (Debian: time)"; exit 77; }

# input and the limits that may stop it
set -- \
	test_read_format_cab_lzx_oob.cab Limit.Crash \
	test_read_format_cab_skip_malformed.cab Limit.Crash \
	test_read_format_xar_doublelink.xar Limit.ScanTime \
	test_read_filter_gzip_recursive.gz 'Limit.ScanTime|Limit.Memory' \
	test_read_format_rar_unbound_staticdata.rar Limit.Memory
mkdir "$scratch/in"
expected=
while [ $# -gt 0 ]; do
	[ -f "$src/$1.uu" ] || { echo "SKIP: no $src/$1.uu"; exit 77; }
	/usr/bin/python3 - "$src/$1.uu" "$scratch/in/$1" <<'PY' || fail "decode $1"
import binascii, sys
out = bytearray()
body = False
for line in open(sys.argv[1], encoding="latin-1").read().splitlines():
    if line.startswith("begin "):
        body = True
    elif line == "end":
        break
    elif body and line:
        n = (ord(line[0]) - 32) & 63
        out += binascii.a2b_uu(line[:1 + (n * 4 + 2) // 3])
open(sys.argv[2], "wb").write(out)
PY
	expected="$expected $1=$2"
	shift 2
done

expect_exit 3 "scan of libarchive's hostile inputs" /usr/bin/time \
	-o "$scratch/time" -f '%e %M' "$VIGIL" scan --json -j 2 \
	--max-scan-time=3 "$scratch/in"
printf '%s\n' "$out" >"$scratch/out.json"
/usr/bin/python3 - "$scratch/out.json" $expected <<'PY' || fail "reports"
import json, re, sys
reports, summary = {}, None
for line in open(sys.argv[1]):
    o = json.loads(line)
    if "path" in o:
        reports[o["path"].rsplit("/", 1)[-1]] = o
    else:
        summary = o
bad = 0
for want in sys.argv[2:]:
    name, limits = want.split("=", 1)
    r = reports.get(name, {})
    names = [f["name"] for f in r.get("findings", [])]
    good = (r.get("verdict") == "INCOMPLETE" and
            any(re.fullmatch(limits, n) for n in names))
    print(("ok: " if good else "FAIL: ") + f"{name}: {r.get('verdict')} {names}")
    bad += not good
print(("ok: " if summary else "FAIL: ") + "summary line written")
sys.exit(1 if bad or not summary else 0)
PY
# sanitizer builds run several times slower (as in bombs.py)
limit=10
sanitized && limit=30
expect_bounded "$scratch/time" "$limit"
finish
