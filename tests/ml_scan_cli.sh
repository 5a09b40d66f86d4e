#!/bin/sh
# ml_scan_cli.sh - `vigil scan` flags a PE by the ML model alone (no
# signature loaded that could hit), with the score and explanation under
# the FOUND line in text output and in the finding's detail in --json;
# benign PE files of Debian packages (when the ML test cache has them)
# are not flagged.
. "$top_srcdir/tests/lib.sh"

# A packed ClamAV test file (MEW): its headers look packed, which is
# what the model scores; no other stage can name it without signatures.
sample=/usr/share/clamav-testfiles/clam-mew.exe
if [ ! -r "$sample" ]; then
	echo "SKIP: $sample not installed (clamav-testfiles)"
	exit 77
fi
cp "$sample" "$scratch/packed.exe"

expect_exit 1 "scan flags the packed PE by ML" "$VIGIL" scan \
	--no-default-signatures --no-progress "$scratch/packed.exe"
expect_grep '^[^ ].*packed\.exe: ML\.PE\.(Malicious|Suspicious) FOUND$' "$out" \
	"FOUND line names the ML finding"
expect_grep '^    score 0\.[0-9]+ \(threshold 0\.[0-9]+\); model pe-[0-9]+; up: [^ ]' "$out" \
	"indented line with score, threshold and explanation"
# only the model found anything (the unpacked layer may be scored too)
n=$(printf '%s\n' "$out" | grep 'FOUND$' | grep -vc ': ML\.PE\.[A-Za-z]* FOUND$')
[ "$n" -eq 0 ] && ok "ML findings only" || fail "non-ML findings: $out"

expect_exit 1 "--json scan of the packed PE" "$VIGIL" scan --json \
	--no-default-signatures --no-progress "$scratch/packed.exe"
printf '%s\n' "$out" >"$scratch/out.ndjson"
/usr/bin/python3 - "$scratch/out.ndjson" <<'PY' || fail "JSON finding"
import json, re, sys
files = [o for o in map(json.loads, open(sys.argv[1])) if o.get("path", "").endswith("packed.exe")]
assert len(files) == 1, files
fs = files[0]["findings"]
assert fs and all(f["stage"] == "ml" for f in fs), fs
f = [f for f in fs if f["layer"] == ""][0]
assert f["name"] in ("ML.PE.Malicious", "ML.PE.Suspicious"), f
assert 0 < f["score"] < 1, f
assert re.match(r"score 0\.\d+ \(threshold 0\.\d+\); model pe-\d+; up: \S", f["detail"]), f
assert "%.4f" % f["score"] in f["detail"], f
print("ok: JSON finding %s, detail %s" % (f["name"], f["detail"]))
PY

# The same file with the ML stage off is clean: the finding was the
# model's.
expect_exit 0 "--no-ml: clean" "$VIGIL" scan --no-ml \
	--no-default-signatures --no-progress "$scratch/packed.exe"

# Benign: PE files of Debian packages fetched by ml_pefile_diff.py (its
# cache in the build tree); the first few that are not ClamAV test
# files, of different packages.
list="${top_builddir:-.}/tests/ml-debian-pe/files.csv"
if [ -r "$list" ]; then
	benign=$(/usr/bin/python3 - "$list" <<'PY'
import csv, os, sys
seen = set()
for r in csv.DictReader(open(sys.argv[1])):
    if r["package"] in seen or r["package"] == "clamav-testfiles":
        continue
    if os.path.exists(r["local_file"]):
        seen.add(r["package"])
        print(r["local_file"])
    if len(seen) == 6:
        break
PY
)
	if [ -n "$benign" ]; then
		old_ifs=$IFS
		IFS='
'
		# shellcheck disable=SC2086 # split on newlines only
		expect_exit 0 "benign Debian PE files are not flagged" "$VIGIL" scan \
			--no-default-signatures --no-progress $benign
		IFS=$old_ifs
		expect_grep ': OK$' "$out" "benign files reported OK"
	fi
else
	echo "benign half skipped: no Debian PE cache ($list)"
fi
finish
