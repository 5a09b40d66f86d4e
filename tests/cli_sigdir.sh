#!/bin/sh
# cli_sigdir.sh - no silent empty rule sets: -d on a folder reads its
# subfolders (8 levels down, symbolic links to folders not followed),
# and a named file or a folder that yields no signature is an error,
# never "OK (0 signatures)" and never a scan that exits 0; inside a
# folder that yields some, a file of comments only is left be.
. "$top_srcdir/tests/lib.sh"

eicar >"$scratch/eicar.com"
rule='rule sub_eicar { strings: $a = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE" condition: $a }'
mkdir -p "$scratch/rules/windows/trojans" "$scratch/empty/sub" "$scratch/other"
printf '%s\n' "$rule" >"$scratch/rules/windows/trojans/eicar.yar"
printf 'not a rule file\n' >"$scratch/rules/README"
printf 'not a rule file\n' >"$scratch/other/notes.txt"
: >"$scratch/empty.yar"
: >"$scratch/empty.hdb"

S() { "$VIGIL" scan --no-progress --no-summary --no-default-signatures "$@"; }

# rules in subfolders are loaded
expect_exit 1 "-d reads subfolders" S -d "$scratch/rules" "$scratch/eicar.com"
expect_grep "^$scratch/eicar.com: eicar:sub_eicar FOUND\$" "$out" \
	"the rule two folders down matched"
expect_exit 0 "sig check of the folder" "$VIGIL" sig check "$scratch/rules"
expect_grep "^$scratch/rules: OK \\(1 signature\\)\$" "$out" "1 signature counted"

# sources that yield nothing are errors
expect_exit 2 "-d on an empty folder" S -d "$scratch/empty" "$scratch/eicar.com"
expect_grep "no signature files" "$err" "empty folder named as such"
expect_exit 2 "-d on a folder without signature files" S -d "$scratch/other" \
	"$scratch/eicar.com"
expect_exit 2 "-d on an empty .yar" S -d "$scratch/empty.yar" "$scratch/eicar.com"
expect_grep "empty.yar: no signatures" "$err" "empty YARA file named"
expect_exit 2 "-d on an empty .hdb" S -d "$scratch/empty.hdb" "$scratch/eicar.com"
expect_exit 2 "sig check of an empty file" "$VIGIL" sig check "$scratch/empty.yar"
if printf '%s\n' "$out" | grep -q 'OK (0 signatures)'; then
	fail "sig check said OK (0 signatures)"; else ok "no OK (0 signatures)"; fi
expect_exit 2 "sig check of an empty folder" "$VIGIL" sig check "$scratch/empty"
# in a folder, a file of comments only is left be (published collections
# ship rules commented out), as long as the folder yields something...
printf '/* rule gone { condition: true } */\n' >"$scratch/rules/windows/retired.yar"
expect_exit 1 "a commented-out file among good ones" S -d "$scratch/rules" \
	"$scratch/eicar.com"
# ...but a folder whose files yield nothing is an error
mkdir "$scratch/retired"
cp "$scratch/rules/windows/retired.yar" "$scratch/empty.hdb" "$scratch/retired/"
expect_exit 2 "a folder of empty files" S -d "$scratch/retired" "$scratch/eicar.com"
expect_grep "no signatures in the files" "$err" "said so"
expect_exit 2 "sig check of a folder of empty files" "$VIGIL" sig check \
	"$scratch/retired"

# depth: 8 levels below the folder are read, the 9th is not
deep=$scratch/deep
d=$deep
for i in 1 2 3 4 5 6 7 8; do d=$d/l$i; done
mkdir -p "$d/l9"
printf '%s\n' "$rule" >"$d/eicar.yar"
expect_exit 1 "a rule 8 levels down" S -d "$deep" "$scratch/eicar.com"
mv "$d/eicar.yar" "$d/l9/eicar.yar"
expect_exit 2 "a rule 9 levels down is not read" S -d "$deep" "$scratch/eicar.com"

# a symbolic link to a folder is not followed: a loop cannot trap it
ln -s .. "$scratch/rules/windows/loop"
expect_exit 1 "a link loop in the rules" timeout 20 "$VIGIL" scan --no-progress \
	--no-summary --no-default-signatures -d "$scratch/rules" "$scratch/eicar.com"
finish
