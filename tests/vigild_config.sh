#!/bin/sh
# vigild_config.sh - vigild.conf: the directive table and vigild.conf(5)
# list the same directives; a bad file is refused with file:line; the
# example configuration is valid; --check-config prints what it read.
. "$top_srcdir/tests/lib.sh"
VIGILD=$top_builddir/vigild
man5=$top_srcdir/doc/vigild.conf.5

"$VIGILD" --list-directives | cut -f1 >"$scratch/table"
n=$(wc -l <"$scratch/table")
[ "$n" -gt 60 ] && ok "$n directives in the table" || fail "only $n directives"
# every directive has a .BI "Name " entry in the man page, and back
sed -n 's/^\.BI "\([A-Za-z]*\) ".*/\1/p' "$man5" >"$scratch/man"
while read -r d; do
	grep -qx "$d" "$scratch/man" || fail "vigild.conf.5 lacks $d"
done <"$scratch/table"
while read -r d; do
	grep -qx "$d" "$scratch/table" || fail "vigild.conf.5 documents unknown $d"
done <"$scratch/man"
[ "$(sort "$scratch/table")" = "$(sort "$scratch/man")" ] &&
	ok "vigild.conf.5 lists exactly the table's directives"
# the defaults the man page states are the table's
"$VIGILD" --list-directives | while IFS='	' read -r name type def help; do
	[ "$def" = "-" ] && continue
	esc=$(printf '%s' "$def" | sed 's/-/\\\\-/g')
	sed -n "/^\\.BI \"$name \"/,/^\\.TP/p" "$man5" | grep -q "^Default: $esc\\.\$" ||
		echo "$name $def"
done >"$scratch/baddef"
[ -s "$scratch/baddef" ] && fail "defaults differ in the man page: $(cat "$scratch/baddef")" ||
	ok "man page defaults match the table"

expect_exit 0 "example vigild.conf checks" \
	"$VIGILD" --check-config --config "$top_srcdir/onaccess/vigild.conf"
expect_grep '^LocalSocket /run/vigild/clamd.ctl$' "$out" "--check-config prints the values"
expect_grep '^MaxThreads 10$' "$out" "--check-config prints the defaults"

check_bad() { # TEXT EXPECTED-MESSAGE DESCRIPTION
	printf '%b' "$1" >"$scratch/bad.conf"
	expect_exit 1 "$3" "$VIGILD" --check-config --config "$scratch/bad.conf"
	expect_grep "$2" "$err" "$3: message"
}
check_bad '# comment\nFoo bar\n' 'bad.conf:2: unknown directive .Foo.' "unknown directive"
check_bad 'MaxThreads ten\n' 'bad.conf:1: MaxThreads: .ten. is not a number' "bad number"
check_bad '\n\nMaxThreads 0\n' 'bad.conf:3: MaxThreads: .0. is out of range' "number out of range"
check_bad 'StreamMaxLength 10Q\n' 'bad.conf:1: StreamMaxLength: .10Q. is not a size' "bad size"
check_bad 'Foreground maybe\n' 'bad.conf:1: Foreground: .maybe. is not yes or no' "bad boolean"
check_bad 'LocalSocket /a\nLocalSocket /b\n' 'bad.conf:2: LocalSocket already set on line 1' "repeated directive"
check_bad 'IncompleteAnswer maybe\n' 'bad.conf:1: IncompleteAnswer: .maybe. is not one of found.error' "bad choice"
check_bad 'LocalSocketMode 999\n' 'bad.conf:1: LocalSocketMode: .999. is not an octal mode' "bad mode"
check_bad 'OnAccessDeadline 1.2345\n' 'bad.conf:1: OnAccessDeadline: .1.2345. is not a time' "bad time"
check_bad 'MaxThreads\n' 'bad.conf:1: MaxThreads needs a value' "missing value"
check_bad "DatabaseDirectory $scratch/none\n" 'DatabaseDirectory .*none' "missing signature folder"
expect_exit 1 "missing file" "$VIGILD" --check-config --config "$scratch/none.conf"
expect_grep 'none.conf: No such file' "$err" "missing file: message"

# lists repeat, booleans and sizes in their forms, case-insensitive names
printf 'onaccessincludepath /home\nOnAccessIncludePath /srv\nFOREGROUND TRUE\nStreamMaxLength 25M\nOnAccessDeadline 0.5\n' \
	>"$scratch/good.conf"
expect_exit 0 "list and value forms" "$VIGILD" --check-config --config "$scratch/good.conf"
expect_grep '^OnAccessIncludePath /home$' "$out" "first list value"
expect_grep '^OnAccessIncludePath /srv$' "$out" "second list value"
expect_grep '^Foreground yes$' "$out" "boolean TRUE"
expect_grep '^StreamMaxLength 26214400$' "$out" "size 25M"
expect_grep '^OnAccessDeadline 0.500$' "$out" "fractional seconds"
finish
