#!/bin/sh
# ml_csv.sh - `vigil ml score --csv` reads CSV as CSV: quoted fields
# with commas, line breaks and doubled quotes, CRLF line ends; each
# record is one row, scored as the same numbers in a plain CSV are; what
# is not CSV is refused with its line number.
. "$top_srcdir/tests/lib.sh"

py=/usr/bin/python3
[ -x "$py" ] || { echo "SKIP: no $py to write the CSV files"; exit 77; }
vectors=$top_srcdir/ml/model_testvectors.csv

# plain.csv: 6 rows of the model's test vectors, with a label column;
# quoted.csv: the same rows with a free-text column holding commas,
# quotes and line breaks, CRLF line ends, a byte order mark
"$py" - "$vectors" "$scratch" <<'EOF'
import csv, os, sys
rows = list(csv.reader(open(sys.argv[1])))
head, body = rows[0][1:], [r[1:] for r in rows[1:7]]
out = sys.argv[2]
with open(os.path.join(out, "plain.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(head + ["label"])
    for i, r in enumerate(body):
        w.writerow(r + [str(i % 2)])
notes = ['one\nline break', 'two, "quoted"\r\nlines\nhere', '', 'plain',
         '"', 'x\n\n\ny']
with open(os.path.join(out, "quoted.csv"), "w", newline="") as f:
    f.write("\ufeff")
    w = csv.writer(f, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(["notes"] + head + ["label"])
    for i, r in enumerate(body):
        w.writerow([notes[i]] + r + [str(i % 2)])
EOF

expect_exit_any() { # like expect_exit, for 0 or 1 (scores may flag)
	out=$("$@" 2>"$scratch/stderr")
	rc=$?
	err=$(cat "$scratch/stderr")
	if [ "$rc" -le 1 ]; then ok "$1 $2 $3 $4"; else
		fail "$*: exit $rc; $err"; fi
}
expect_exit_any "$VIGIL" ml score --csv "$scratch/plain.csv"
plain=$out
expect_exit_any "$VIGIL" ml score --csv "$scratch/quoted.csv"
quoted=$out
n=$(printf '%s\n' "$quoted" | tail -n +2 | wc -l)
[ "$n" -eq 6 ] && ok "6 records with quoted line breaks give 6 rows" ||
	fail "got $n rows: $quoted"
[ "$plain" = "$quoted" ] && ok "same scores as the plain CSV" ||
	fail "scores differ: plain: $plain quoted: $quoted"
expect_grep '^row,score,verdict,label$' "$quoted" "label column found"

# not CSV: refused, with the line
printf 'notes,Machine\n"ok",332\n"open,332\n1,2\n' >"$scratch/open.csv"
expect_exit 2 "a quoted field left open" "$VIGIL" ml score --csv "$scratch/open.csv"
expect_grep "open.csv:3: quoted field not closed before the end; stopped after 1 rows" \
	"$err" "names the line that opened it"
printf 'notes,Machine\nok,332\n5" disk,332\n' >"$scratch/stray.csv"
expect_exit 2 "a quote inside an unquoted field" "$VIGIL" ml score --csv \
	"$scratch/stray.csv"
expect_grep "stray.csv:3: quote inside an unquoted field" "$err" "line 3"
printf 'notes,Machine\n"a"b,332\n' >"$scratch/after.csv"
expect_exit 2 "text after a closing quote" "$VIGIL" ml score --csv \
	"$scratch/after.csv"
expect_grep "after.csv:2: text after a closing quote" "$err" "line 2"
printf 'Machine\r332\r' >"$scratch/cr.csv"
expect_exit 2 "bare CR line ends" "$VIGIL" ml score --csv "$scratch/cr.csv"
expect_grep "cr.csv:1: carriage return not followed by a line feed" "$err" "line 1"
finish
