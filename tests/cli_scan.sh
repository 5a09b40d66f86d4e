#!/bin/sh
# cli_scan.sh - `vigil scan` reports and exit codes: EICAR and clam.exe
# found by the built-in signatures, a member of an archive named by its
# layer, clean files OK, --infected, INCOMPLETE and exit code 3, errors
# and exit code 2, and a find winning over an error.
. "$top_srcdir/tests/lib.sh"

clam=${CLAMAV_TESTFILES:-/usr/share/clamav-testfiles}/clam.exe
[ -f "$clam" ] || { echo "SKIP: no $clam"; exit 77; }

mkdir -p "$scratch/bad/sub" "$scratch/clean/sub"
eicar >"$scratch/bad/eicar.com"
cp "$clam" "$scratch/bad/sub/clam.exe"
echo hello >"$scratch/bad/readme.txt"
echo hello >"$scratch/clean/a.txt"
printf 'int main(void) { return 0; }\n' >"$scratch/clean/sub/b.c"
: >"$scratch/clean/empty"
/usr/bin/python3 - "$scratch" <<'PY'
import sys, zipfile
d = sys.argv[1]
eicar = open(d + "/bad/eicar.com", "rb").read()
with zipfile.ZipFile(d + "/zipped.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("docs/eicar.com", eicar)
with zipfile.ZipFile(d + "/two.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("a.txt", "one")
    z.writestr("b.txt", "two")
PY

V() { "$VIGIL" scan --no-progress "$@"; }

# findings, with the built-in signatures only
expect_exit 1 "EICAR and clam.exe found" V "$scratch/bad"
expect_grep "^$scratch/bad/eicar.com: Eicar-Test-Signature FOUND\$" "$out" \
	"EICAR line"
expect_grep "^$scratch/bad/sub/clam.exe: ClamAV-Test-File FOUND\$" "$out" \
	"clam.exe line"
expect_grep "^$scratch/bad/readme.txt: OK\$" "$out" "clean file in the tree OK"
expect_grep '^----------- SCAN SUMMARY -----------$' "$out" "summary header"
expect_grep '^Scanned files: 3$' "$out" "3 files scanned"
expect_grep '^Scanned directories: 2$' "$out" "2 directories"
expect_grep '^Infected files: 2 \(2 malicious, 0 suspicious\)$' "$out" \
	"2 infected"
expect_grep '^Errors: 0$' "$out" "no errors"
expect_grep '^Data read: [0-9]+\.[0-9]{2} MB$' "$out" "data read"
expect_grep '^Rate: [0-9]+\.[0-9]{2} MB/s' "$out" "rate"
expect_grep '^Time: [0-9]+\.[0-9]{3} sec' "$out" "time"

# a finding inside an archive names the member: path!layer
expect_exit 1 "EICAR in a zip found" V --no-summary "$scratch/zipped.zip"
expect_grep "^$scratch/zipped.zip!docs/eicar.com: Eicar-Test-Signature FOUND\$" \
	"$out" "layer in the FOUND line"
expect_exit 0 "--no-unpack leaves the zip closed" V --no-summary --no-unpack \
	"$scratch/zipped.zip"
expect_grep "^$scratch/zipped.zip: OK\$" "$out" "zip OK without unpacking"

# --infected prints hits only, then the summary
expect_exit 1 "--infected" V -i "$scratch/bad"
if printf '%s\n' "$out" | grep -q ': OK$'; then
	fail "--infected printed a clean file"; else ok "--infected hides OK lines"; fi
n=$(printf '%s\n' "$out" | grep -c ' FOUND$')
[ "$n" -eq 2 ] && ok "--infected: 2 FOUND lines" || fail "--infected: $n FOUND lines"

# a clean tree
expect_exit 0 "clean tree" V "$scratch/clean"
expect_grep "^$scratch/clean/sub/b.c: OK\$" "$out" "clean file OK"
expect_grep "^$scratch/clean/empty: OK\$" "$out" "empty file OK"
expect_grep '^Infected files: 0 ' "$out" "0 infected"
expect_exit 0 "--no-summary" V --no-summary "$scratch/clean"
if printf '%s\n' "$out" | grep -q 'SCAN SUMMARY'; then
	fail "--no-summary printed a summary"; else ok "no summary"; fi
expect_exit 0 "-i on a clean tree prints only the summary" V -i --no-summary \
	"$scratch/clean"
[ -z "$out" ] && ok "nothing printed" || fail "-i printed: $out"

# without the built-in signatures EICAR is just a file
expect_exit 0 "--no-default-signatures" V --no-default-signatures --no-ml \
	"$scratch/bad/eicar.com"

# a limit that stops part of a scan: INCOMPLETE, exit 3
expect_exit 3 "--max-members 1: incomplete" V "$scratch/two.zip" --max-members 1
expect_grep "^$scratch/two.zip(!.*)?: Limit.MaxMembers INCOMPLETE\$" "$out" \
	"INCOMPLETE line names the limit"
expect_grep '^Incomplete files: 1$' "$out" "1 incomplete"
expect_exit 0 "the default limits scan it all" V "$scratch/two.zip"

# --max-filesize: a larger file is not read, so it is INCOMPLETE (exit
# 3), never a clean run; --skip-exceeds-max makes it a plain skip
expect_exit 3 "--max-filesize: unread file INCOMPLETE" V --max-filesize 10 \
	"$scratch/clean"
expect_grep "^$scratch/clean/sub/b.c: Limit.MaxFileSize INCOMPLETE\$" \
	"$out" "large file INCOMPLETE with the limit's name"
expect_grep "^$scratch/clean/a.txt: OK\$" "$out" "small file scanned"
expect_grep '^Incomplete files: 1$' "$out" "counted incomplete"
expect_grep '^Skipped files: 1$' "$out" "and skipped"
expect_exit 0 "--skip-exceeds-max" V --max-filesize 10 --skip-exceeds-max \
	"$scratch/clean"
expect_grep "^$scratch/clean/sub/b.c: SKIPPED \\(larger than --max-filesize\\)\$" \
	"$out" "large file SKIPPED with --skip-exceeds-max"
expect_grep '^Incomplete files: 0$' "$out" "not incomplete then"

# special files are skipped, never opened (a FIFO would block)
mkfifo "$scratch/clean/fifo"
expect_exit 0 "FIFO in a tree skipped" timeout 20 "$VIGIL" scan --no-progress \
	"$scratch/clean"
expect_grep "^$scratch/clean/fifo: SKIPPED \\(not a regular file\\)\$" "$out" \
	"FIFO SKIPPED"
expect_exit 0 "FIFO named on the command line skipped" timeout 20 \
	"$VIGIL" scan --no-progress "$scratch/clean/fifo"
rm "$scratch/clean/fifo"

# errors: exit 2, a message naming the path on stderr
expect_exit 2 "missing path" V "$scratch/nonexistent"
expect_grep "^vigil: $scratch/nonexistent: No such file or directory\$" "$err" \
	"missing path message"
expect_grep '^Errors: 1$' "$out" "1 error counted"
expect_exit 2 "missing path and a clean file" V "$scratch/nonexistent" \
	"$scratch/clean"
# a threat is never hidden behind an error
expect_exit 1 "found wins over an error" V "$scratch/nonexistent" \
	"$scratch/bad/eicar.com"
# an error outranks a limit
expect_exit 2 "an error wins over incomplete" V --max-members 1 \
	"$scratch/nonexistent" "$scratch/two.zip"

# an unreadable directory (only meaningful when not root)
if [ "$(id -u)" -ne 0 ]; then
	mkdir "$scratch/locked" && chmod 000 "$scratch/locked"
	expect_exit 2 "unreadable directory" V "$scratch/locked"
	expect_grep "^vigil: $scratch/locked: Permission denied\$" "$err" \
		"permission message"
	chmod 700 "$scratch/locked"
fi

finish
