#!/bin/sh
# yara_severity.sh - a YARA match's verdict comes from the rule (score,
# severity, threat_level metas, tags, --info-rules), informational
# matches stay findings; a rule file that does not compile is named,
# skipped and makes the exit status 2 while the rest still detects.
. "$top_srcdir/tests/lib.sh"

py=/usr/bin/python3
[ -x "$py" ] || { echo "SKIP: no $py to read the JSON"; exit 77; }

mkdir "$scratch/rules" "$scratch/info" "$scratch/files"
cat >"$scratch/rules/sev.yar" <<'EOF'
rule Score20 { meta: score = 20 description = "low" strings: $a = "vigil-sev" condition: $a }
rule InfoTag : info { strings: $a = "vigil-sev" condition: $a }
rule PackerTag : Packer { strings: $a = "vigil-sev" condition: $a }
rule Plain { strings: $a = "vigil-sev" condition: $a }
rule Score80 { meta: score = 80 strings: $a = "vigil-sev" condition: $a }
rule Score65 { meta: score = "65" strings: $a = "vigil-sev" condition: $a }
rule SevLow { meta: severity = "low" strings: $a = "vigil-sev" condition: $a }
rule Threat5 { meta: threat_level = 5 strings: $a = "vigil-sev" condition: $a }
EOF
# a file the user declares informational: its plain rule only informs,
# its scored rule keeps its score
cat >"$scratch/info/caps.yar" <<'EOF'
rule CapPlain { strings: $a = "vigil-cap" condition: $a }
rule CapScored { meta: score = 90 strings: $a = "vigil-cap" condition: $a }
EOF
printf 'xx vigil-sev xx\n' >"$scratch/files/sev.txt"
printf 'xx vigil-cap xx\n' >"$scratch/files/cap.txt"
printf 'nothing here\n' >"$scratch/files/clean.txt"

# "name verdict reason" per finding of one file, from --json output
findings() {
	printf '%s\n' "$out" | "$py" -c '
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    if o.get("path", "").endswith("/" + sys.argv[1]) and "verdict" in o:
        print("FILE", o["verdict"])
        for f in o["findings"]:
            print(f["name"], f["verdict"], "%.2f" % f["score"], f["reason"])
' "$1"
}
want() { # want TEXT-LINE-REGEX DESCRIPTION (in $found)
	expect_grep "$1" "$found" "$2"
}

expect_exit 1 "scored and tagged rules" "$VIGIL" scan --json --no-summary \
	--no-default-signatures -d "$scratch/rules" "$scratch/files/sev.txt"
found=$(findings sev.txt)
want '^FILE MALICIOUS$' "the file is MALICIOUS"
want '^sev:Plain MALICIOUS 1.00 the rule states no severity: MALICIOUS by default$' \
	"a rule that says nothing is MALICIOUS"
want '^sev:Score80 MALICIOUS 0.80 score 80: MALICIOUS, at or above 80$' "score 80 flags"
want '^sev:Score65 SUSPICIOUS 0.65 score 65: SUSPICIOUS, at or above 60$' \
	"score \"65\" (a string) is SUSPICIOUS"
want '^sev:Score20 CLEAN 0.20 score 20: informational, below 60$' \
	"score 20 informs, with its score and reason"
want '^sev:InfoTag CLEAN 1.00 tag info: informational$' "info tag informs"
want '^sev:PackerTag CLEAN 1.00 tag Packer: informational$' "Packer tag informs"
want '^sev:SevLow CLEAN 1.00 severity "low": informational$' "severity low informs"
want '^sev:Threat5 CLEAN 0.50 ' "threat_level 5 is score 50"

# only informational matches: the file is CLEAN, exit 0, findings kept
cat >"$scratch/info_only.yar" <<'EOF'
rule Score20 { meta: score = 20 strings: $a = "vigil-sev" condition: $a }
rule InfoTag : info { strings: $a = "vigil-sev" condition: $a }
EOF
expect_exit 0 "only informational matches" "$VIGIL" scan --json --no-summary \
	--no-default-signatures -d "$scratch/info_only.yar" "$scratch/files/sev.txt"
found=$(findings sev.txt)
want '^FILE CLEAN$' "informational matches leave the file CLEAN"
want '^info_only:Score20 CLEAN' "score 20 still in the JSON"
want '^info_only:InfoTag CLEAN' "info tag still in the JSON"
expect_exit 0 "text: informational only" "$VIGIL" scan --no-summary \
	--no-default-signatures -d "$scratch/info_only.yar" "$scratch/files/sev.txt"
expect_grep "^$scratch/files/sev.txt: OK\$" "$out" "text says OK"
expect_exit 0 "text --verbose" "$VIGIL" scan --no-summary --verbose \
	--no-default-signatures -d "$scratch/info_only.yar" "$scratch/files/sev.txt"
expect_grep "^$scratch/files/sev.txt: info_only:Score20 INFO\$" "$out" \
	"--verbose prints informational findings"
expect_grep "^    score 20: informational, below 60\$" "$out" "--verbose says why"

# --info-rules: rules that say nothing inform, scored ones keep their score
expect_exit 0 "--info-rules, plain rule" "$VIGIL" scan --json --no-summary \
	--no-default-signatures --info-rules "$scratch/info" \
	--yara-malicious-score 95 --yara-suspicious-score 95 "$scratch/files/cap.txt"
found=$(findings cap.txt)
want '^caps:CapPlain CLEAN 1.00 rule file loaded as informational' \
	"--info-rules makes a plain rule informational"
want '^caps:CapScored CLEAN 0.90 score 90: informational, below 95$' \
	"--yara-suspicious-score moves the threshold"
expect_exit 1 "--info-rules, scored rule" "$VIGIL" scan --json --no-summary \
	--no-default-signatures --info-rules "$scratch/info" "$scratch/files/cap.txt"
found=$(findings cap.txt)
want '^caps:CapScored MALICIOUS 0.90 ' "a scored rule keeps its score"
expect_exit 1 "--suspicious-rules" "$VIGIL" scan --json --no-summary \
	--no-default-signatures --suspicious-rules "$scratch/info" \
	--yara-malicious-score 95 "$scratch/files/cap.txt"
found=$(findings cap.txt)
want '^FILE SUSPICIOUS$' "--suspicious-rules: SUSPICIOUS"
expect_exit 2 "bad --yara-malicious-score" "$VIGIL" scan \
	--yara-malicious-score 101 "$scratch/files"

# ---- a folder with a good and two broken rule files ----------------
mkdir "$scratch/mixed"
printf 'rule Good { strings: $a = "vigil-sev" condition: $a }\n' \
	>"$scratch/mixed/a_good.yar"
printf 'rule Bad { condition: is__elf }\n' >"$scratch/mixed/b_bad.yar"
printf 'rule Bad2 { strings: $a = "x" condition: $b }\n' >"$scratch/mixed/c_bad.yar"
printf 'rule Good2 { strings: $a = "vigil-cap" condition: $a }\n' \
	>"$scratch/mixed/d_good.yar"

expect_exit 1 "good rules still detect" "$VIGIL" scan --json \
	--no-default-signatures -d "$scratch/mixed" "$scratch/files"
expect_grep "undefined identifier" "$err" "the error on stderr"
printf '%s\n' "$out" | "$py" -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin]
errs = [o for o in lines if o.get("signature_file")]
assert [o["path"].rsplit("/", 1)[1] for o in errs] == ["b_bad.yar", "c_bad.yar"], errs
assert all(o["code"] == 6 and o["error"].startswith(o["path"] + ":1: ") for o in errs), errs
found = {o["path"].rsplit("/", 1)[1]: [f["name"] for f in o["findings"]]
         for o in lines if "verdict" in o}
assert found["sev.txt"] == ["a_good:Good"], found
assert found["cap.txt"] == ["d_good:Good2"], found
s = lines[-1]
assert s["summary"] and s["signature_errors"] == 2 and s["exit_code"] == 1, s
' && ok "JSON: an error line per bad file, the good rules' findings, the summary" ||
	fail "JSON of a folder with bad rule files: $out"

expect_exit 2 "bad rule files and nothing found: exit 2" "$VIGIL" scan --json \
	--no-default-signatures -d "$scratch/mixed" "$scratch/files/clean.txt"
printf '%s\n' "$out" | "$py" -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin]
assert sum(1 for o in lines if o.get("signature_file")) == 2, lines
assert lines[-2]["verdict"] == "CLEAN", lines
assert lines[-1]["summary"] and lines[-1]["exit_code"] == 2, lines
' && ok "JSON: errors, the report, the summary with exit_code 2" ||
	fail "JSON, nothing found: $out"

expect_exit 2 "--strict-signatures" "$VIGIL" scan --json --strict-signatures \
	--no-default-signatures -d "$scratch/mixed" "$scratch/files"
printf '%s\n' "$out" | "$py" -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin]
assert len(lines) == 3 and all(o.get("signature_file") for o in lines[:2]), lines
assert lines[2]["summary"] and lines[2]["files"] == 0 and lines[2]["exit_code"] == 2
' && ok "strict: both bad files named, nothing scanned, summary written" ||
	fail "strict JSON: $out"

# a ClamAV database with a good signature before its bad line: skipped
# whole, the good signature is not left behind in libclamav
printf 'Half.Good:0:*:766967696c2d736576\nHalf.Bad:0:*:zz\n' >"$scratch/half.ndb"
printf 'Other.Good:0:*:7669672d736576\n' >"$scratch/other.ndb"
expect_exit 1 "ClamAV database that fails part-way" "$VIGIL" scan --no-summary \
	--no-default-signatures -d "$scratch/other.ndb" -d "$scratch/half.ndb" \
	-d "$scratch/mixed/a_good.yar" "$scratch/files/sev.txt"
expect_grep "^vigil: $scratch/half.ndb: " "$err" "the bad database named"
expect_grep "a_good:Good FOUND" "$out" "rules loaded after it still detect"
case $out in
*Half.Good*) fail "the skipped database's first signature was kept: $out" ;;
*) ok "nothing of the skipped database kept" ;;
esac

expect_exit 2 "sig check names every bad file" "$VIGIL" sig check "$scratch/mixed"
expect_grep "b_bad.yar:1: undefined identifier" "$err" "sig check: first bad file"
expect_grep 'c_bad.yar:1: undefined string "\$b"' "$err" "sig check: second bad file"
expect_grep "^$scratch/mixed: FAILED \\(2 files did not load; 2 signatures in the rest\\)\$" \
	"$out" "sig check: counts"
finish
