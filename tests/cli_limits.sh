#!/bin/sh
# cli_limits.sh - a limit is never a silent CLEAN, and 0 means no limit:
# a member over --max-filesize is INCOMPLETE with the limit's name and
# layer; a file over it is INCOMPLETE (exit 3) in text and JSON unless
# --skip-exceeds-max; each size and count limit set to 0 lets the scan
# through, and --max-depth=0 still unpacks (it means the cap of 64).
. "$top_srcdir/tests/lib.sh"

eicar >"$scratch/eicar.com"
/usr/bin/python3 - "$scratch" <<'PY'
import io, sys, zipfile
d = sys.argv[1]
# the issue's case: a small zip holding a 4,000-byte member
with zipfile.ZipFile(d + "/small.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("big.txt", b"a" * 4000)
# a member that inflates 2000:1 past 1 MB (the default ratio stops it)
with zipfile.ZipFile(d + "/ratio.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("zeros.bin", b"\0" * (2 << 20))
    z.writestr("eicar.com", open(d + "/eicar.com", "rb").read())
# EICAR 20 zips deep: beyond the default depth of 16
data, name = open(d + "/eicar.com", "rb").read(), "eicar.com"
for i in range(20):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, data)
    data, name = buf.getvalue(), "d%d.zip" % i
open(d + "/deep.zip", "wb").write(data)
PY
size=$(wc -c <"$scratch/small.zip")
[ "$size" -lt 1024 ] && ok "small.zip is $size bytes" || fail "small.zip is $size bytes"

V() { "$VIGIL" scan --no-progress --no-summary "$@"; }

# a member over --max-filesize: INCOMPLETE, named, with its layer
expect_exit 3 "member over --max-filesize" V --max-filesize=1K "$scratch/small.zip"
expect_grep "^$scratch/small.zip!big.txt: Limit.MaxFileSize INCOMPLETE\$" "$out" \
	"member line names the limit and the layer"
expect_exit 0 "the same zip within the limit" V --max-filesize=4K "$scratch/small.zip"

# a top-level file over --max-filesize, in JSON
expect_exit 3 "file over --max-filesize, JSON" "$VIGIL" scan --no-progress \
	--json --max-filesize=10 "$scratch/small.zip"
printf '%s\n' "$out" >"$scratch/report.json"
/usr/bin/python3 - "$scratch/report.json" <<'PY' && ok "JSON: INCOMPLETE report and summary" || fail "JSON: $out"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
r, s = lines[0], lines[-1]
assert r["verdict"] == "INCOMPLETE", r
assert r["findings"][0]["name"] == "Limit.MaxFileSize", r
assert r["findings"][0]["stage"] == "limit" and r["findings"][0]["layer"] == "", r
assert r["skipped"] == "larger than --max-filesize", r
assert s["incomplete"] == 1 and s["skipped"] == 1 and s["exit_code"] == 3, s
PY
expect_exit 0 "--skip-exceeds-max, JSON" "$VIGIL" scan --no-progress --json \
	--max-filesize=10 --skip-exceeds-max "$scratch/small.zip"
expect_grep '"skipped":"larger than --max-filesize"' "$out" "JSON skipped object"
expect_grep '"incomplete":0,' "$out" "not counted incomplete"

# 0 is no limit, for each limit it applies to
expect_exit 0 "--max-filesize=0" V --max-filesize=0 "$scratch/small.zip"
expect_exit 0 "--max-member-size=0" V --max-member-size=0 "$scratch/small.zip"
expect_exit 0 "--max-members=0" V --max-members=0 "$scratch/small.zip"
expect_exit 0 "--max-extracted=0" V --max-extracted=0 "$scratch/small.zip"
expect_exit 0 "--max-scan-time=0" V --max-scan-time=0 "$scratch/small.zip"
expect_exit 0 "--yara-timeout=0" V --yara-timeout=0 "$scratch/small.zip"
expect_exit 1 "--max-ratio=0: past the bomb to EICAR" V --max-ratio=0 \
	"$scratch/ratio.zip"
expect_grep "Limit.MaxRatio" "$(V "$scratch/ratio.zip")" "the default ratio stops it"
# and small values still hold
expect_exit 3 "--max-members=1" V --max-members=1 "$scratch/ratio.zip"
expect_exit 3 "--max-member-size=100" V --max-member-size=100 "$scratch/small.zip"
expect_grep "Limit.MaxMemberSize INCOMPLETE" "$out" "member size limit named"

# depth: the default stops at 16, 0 means the cap of 64, which reaches it
expect_exit 3 "default depth" V "$scratch/deep.zip"
expect_grep "Limit.MaxDepth INCOMPLETE" "$out" "depth limit named"
expect_exit 1 "--max-depth=0 reaches 20 levels" V --max-depth=0 "$scratch/deep.zip"
expect_exit 1 "--max-depth=1000 is 64" V --max-depth=1000 "$scratch/deep.zip"
finish
