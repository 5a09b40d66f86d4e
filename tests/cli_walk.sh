#!/bin/sh
# cli_walk.sh - the directory walk of `vigil scan`: --exclude globs and
# re: regexes, symbolic links (followed on the command line, skipped
# while walking unless --follow-symlinks; loops end), -j 1 and -j 4
# agree on a tree of 200 files, no progress line when not on a
# terminal, --one-file-system.
. "$top_srcdir/tests/lib.sh"

t=$scratch/t
mkdir -p "$t/keep/deeper" "$t/node_modules/pkg" "$t/logs"
eicar >"$t/keep/eicar.com"
eicar >"$t/node_modules/pkg/eicar.com"
eicar >"$t/logs/eicar.log"
echo fine >"$t/keep/deeper/fine.txt"

# one scan: $rc, and $out with the lines sorted (the order of files
# depends on the threads)
scan_sorted() {
	# (timeout: a walk that loops fails instead of hanging the suite)
	timeout 120 "$VIGIL" scan --no-progress --no-summary "$@" \
		>"$scratch/o" 2>"$scratch/e"
	rc=$?
	out=$(sort "$scratch/o")
}

# --exclude: a glob on the base name prunes a whole directory
scan_sorted --exclude node_modules "$t"
[ "$rc" -eq 1 ] && ok "glob: exit 1" || fail "glob: exit $rc"
if printf '%s\n' "$out" | grep -q node_modules; then
	fail "glob node_modules not pruned: $out"; else ok "glob prunes a directory"; fi
expect_grep "^$t/logs/eicar.log: Eicar" "$out" "other files still scanned"
# a glob on the base name, and one on the whole path
scan_sorted --exclude '*.log' --exclude "$t/keep/*" "$t"
if printf '%s\n' "$out" | grep -qE 'eicar.log|/keep/'; then
	fail "globs did not exclude: $out"; else ok "base-name and path globs"; fi
expect_grep "^$t/node_modules/pkg/eicar.com: Eicar" "$out" "rest scanned"
# a regex on the whole path
scan_sorted --exclude 're:/(node_modules|logs)/' "$t"
n=$(printf '%s\n' "$out" | grep -c FOUND)
[ "$n" -eq 1 ] && ok "re: excludes two directories" || fail "re: $n found: $out"
# excluding every hit gives exit 0
scan_sorted --exclude 're:eicar\.(com|log)$' "$t"
[ "$rc" -eq 0 ] && ok "all hits excluded: exit 0" || fail "exit $rc: $out"
expect_grep "^$t/keep/deeper/fine.txt: OK\$" "$out" "fine.txt still scanned"
# a root named on the command line is never excluded
scan_sorted --exclude '*.com' "$t/keep/eicar.com"
[ "$rc" -eq 1 ] && ok "roots are not excluded" || fail "root excluded: $out"
# a bad regex is a usage error
expect_exit 2 "bad regex" "$VIGIL" scan --exclude 're:a(b' "$t"
expect_grep "^vigil: --exclude: bad regular expression 'a\\(b'" "$err" \
	"bad regex message"

# symbolic links
mkdir -p "$scratch/links/real"
eicar >"$scratch/outside.com"
ln -s "$scratch/outside.com" "$scratch/links/link.com"
ln -s .. "$scratch/links/real/up"          # a loop
ln -s "$scratch/links" "$scratch/links/real/self"   # another one
ln -s "$scratch/nowhere" "$scratch/links/dangling"
echo ok >"$scratch/links/real/file.txt"
scan_sorted "$scratch/links"
[ "$rc" -eq 0 ] && ok "links not followed while walking" || fail "exit $rc: $out"
n=$(printf '%s\n' "$out" | grep -c .)
[ "$n" -eq 1 ] && ok "only the one real file" || fail "walked links: $out"
scan_sorted "$scratch/links/link.com"
[ "$rc" -eq 1 ] && ok "a link on the command line is followed" || fail "exit $rc"
scan_sorted --follow-symlinks "$scratch/links"
expect_grep "^$scratch/links/link.com: Eicar-Test-Signature FOUND\$" "$out" \
	"--follow-symlinks follows a file link"
expect_grep "^$scratch/links/dangling: SKIPPED \\(broken symbolic link\\)\$" \
	"$out" "dangling link skipped"
n=$(printf '%s\n' "$out" | grep -c 'file.txt: OK')
[ "$n" -eq 1 ] && ok "loops end; each directory read once" || \
	fail "file.txt reported $n times: $out"

# -j 1 and -j 4 give the same reports on 200 files
mkdir -p "$scratch/many"
i=0
while [ $i -lt 200 ]; do
	d=$scratch/many/d$((i % 7))/e$((i % 3))
	mkdir -p "$d"
	if [ $((i % 25)) -eq 0 ]; then eicar >"$d/f$i"; else echo "file $i" >"$d/f$i"; fi
	i=$((i + 1))
done
"$VIGIL" scan --no-progress -j 1 "$scratch/many" >"$scratch/j1" 2>&1
rc1=$?
"$VIGIL" scan --no-progress -j 4 "$scratch/many" >"$scratch/j4" 2>&1
rc4=$?
[ "$rc1" -eq 1 ] && [ "$rc4" -eq 1 ] && ok "-j 1 and -j 4 exit 1" || \
	fail "exits $rc1 and $rc4"
grep -vE '^(Time|Rate):' "$scratch/j1" | sort >"$scratch/j1s"
grep -vE '^(Time|Rate):' "$scratch/j4" | sort >"$scratch/j4s"
if cmp -s "$scratch/j1s" "$scratch/j4s"; then ok "-j 1 and -j 4 agree"; else
	fail "-j 1 and -j 4 differ: $(diff "$scratch/j1s" "$scratch/j4s")"; fi
expect_grep '^Scanned files: 200$' "$(cat "$scratch/j4")" "200 files"
expect_grep '^Infected files: 8 ' "$(cat "$scratch/j4")" "8 infected"
expect_exit 2 "-j 0 is a usage error" "$VIGIL" scan -j 0 "$scratch/many"

# no progress line unless stdout and stderr are terminals
"$VIGIL" scan "$scratch/many" >"$scratch/p.out" 2>"$scratch/p.err"
if [ -s "$scratch/p.err" ]; then
	fail "stderr not empty without a terminal: $(cat -v "$scratch/p.err")"
else ok "no progress line without a terminal"; fi
if grep -q "$(printf '\r')" "$scratch/p.out"; then
	fail "carriage return in stdout"; else ok "stdout has no progress"; fi

# --one-file-system still scans the root's own file system
scan_sorted -x "$t/keep"
[ "$rc" -eq 1 ] && ok "-x scans the root's file system" || fail "-x: exit $rc"

finish
