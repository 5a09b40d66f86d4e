#!/bin/sh
# doc_sync.sh - the docs follow the code: every vigil_error of
# include/vigil/vigil.h is in doc/vigil-errors.md with the same number
# and the vigil_strerror text of engine/error.c; every function of the
# public header is in doc/libvigil.3; the Limit.* and Unpack.* finding
# names of engine/finding_list.h are the ones libvigil(3) lists and the
# only ones the sources use; every option of `vigil scan --help` is in
# doc/vigil.1.
. "$top_srcdir/tests/lib.sh"

h=$top_srcdir/include/vigil/vigil.h
c=$top_srcdir/engine/error.c
md=$top_srcdir/doc/vigil-errors.md
man3=$top_srcdir/doc/libvigil.3
man1=$top_srcdir/doc/vigil.1

# "NAME NUMBER" from the enum, "NAME TEXT" from the table
sed -n 's/^[[:space:]]*\(VIGIL_E[A-Z]*\|VIGIL_OK\) = \([0-9]*\).*/\1 \2/p' "$h" \
	>"$scratch/enum"
sed -n 's/^[[:space:]]*\[\(VIGIL_[A-Z]*\)\] = "\(.*\)",.*/\1 \2/p' "$c" \
	>"$scratch/messages"
count=$(sed -n 's/^#define VIGIL_ERROR_COUNT \([0-9]*\).*/\1/p' "$h")
n=$(wc -l <"$scratch/enum")
[ "$n" -gt 0 ] && [ "$n" -eq "$count" ] && ok "$n codes, VIGIL_ERROR_COUNT $count" ||
	fail "$n codes in the enum, VIGIL_ERROR_COUNT is $count"

while read -r name num; do
	text=$(sed -n "s/^$name \\(.*\\)/\\1/p" "$scratch/messages")
	[ -n "$text" ] || fail "$name has no message in engine/error.c"
	if grep -qx "## $name ($num)" "$md"; then ok "$name ($num) documented"
	else fail "$md: no heading '## $name ($num)'"; fi
	# the message is the first "Message:" line after the heading
	doc=$(sed -n "/^## $name (/,/^## /s/^Message: \"\\(.*\\)\"\$/\\1/p" "$md" |
		head -n 1)
	[ "$doc" = "$text" ] && ok "$name message matches" ||
		fail "$name: doc says '$doc', error.c says '$text'"
done <"$scratch/enum"
# nothing documented that the header does not have
grep '^## VIGIL_' "$md" | sed 's/^## \(VIGIL_[A-Z]*\) .*/\1/' |
while read -r name; do
	grep -q "^$name " "$scratch/enum" || echo "$name"
done >"$scratch/extra"
[ -s "$scratch/extra" ] && fail "documented but not in vigil.h: $(cat "$scratch/extra")" ||
	ok "no stale codes in the doc"

# every public function has its place in libvigil(3)
sed -n 's/^VIGIL_API [^(]*[ *]\(vigil_[a-z_0-9]*\)(.*/\1/p' "$h" >"$scratch/funcs"
n=$(wc -l <"$scratch/funcs")
[ "$n" -gt 20 ] && ok "$n functions in vigil.h" || fail "only $n functions found"
while read -r f; do
	# each has an entry of its own: a ".B name()" line
	grep -q "^\\.B $f()\$" "$man3" && ok "libvigil.3: $f" ||
		fail "libvigil.3 has no '.B $f()' entry"
done <"$scratch/funcs"

# Limit.* and Unpack.* finding names: engine/finding_list.h is the one
# list; libvigil(3) documents exactly these, and no source spells out a
# name the list lacks
list=$top_srcdir/engine/finding_list.h
sed -n 's/^VG_\(LIMIT\|FINDING\)([A-Z_0-9]*, "\([A-Za-z]*\.[A-Za-z]*\)").*/\2/p' \
	"$list" | sort >"$scratch/names"
n=$(wc -l <"$scratch/names")
[ "$n" -ge 10 ] && ok "$n finding names in finding_list.h" ||
	fail "only $n finding names in $list"
sed -n 's/^\.B \(\(Limit\|Unpack\)\.[A-Za-z]*\)$/\1/p' "$man3" | sort >"$scratch/man_names"
if cmp -s "$scratch/names" "$scratch/man_names"; then
	ok "libvigil.3 lists the same finding names"
else
	fail "finding names differ (< finding_list.h, > libvigil.3): $(diff "$scratch/names" "$scratch/man_names" | grep '^[<>]' | tr '\n' ' ')"
fi
find "$top_srcdir" -name '*.c' ! -path '*/tests/*' ! -path '*/build*' \
	! -path '*/fuzz/*' -exec grep -ho '"\(Limit\|Unpack\)\.[A-Za-z]*"' {} + |
	tr -d '"' | sort -u >"$scratch/used"
comm -23 "$scratch/used" "$scratch/names" >"$scratch/unlisted"
[ -s "$scratch/unlisted" ] &&
	fail "finding names in the sources but not in finding_list.h: $(cat "$scratch/unlisted")" ||
	ok "every Limit.*/Unpack.* name in the sources is listed"

# every long option of `vigil scan --help` is in vigil(1)
"$VIGIL" scan --help | grep -o -- '--[a-z][a-z-]*' | sort -u >"$scratch/opts"
n=$(wc -l <"$scratch/opts")
[ "$n" -gt 20 ] && ok "$n scan options" || fail "only $n scan options"
while read -r o; do
	# groff writes the dashes as \-\-
	esc=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
	grep -q -- "$esc" "$man1" && ok "vigil.1: $o" || fail "vigil.1 lacks $o"
done <"$scratch/opts"

finish
