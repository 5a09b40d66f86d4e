#!/bin/sh
# cli_usage.sh - the vigil command's surface: --version, --help, usage
# errors (exit 2), -d with good and bad databases, `sig check`.
. "$top_srcdir/tests/lib.sh"

# --version: vigil and every library it runs on
expect_exit 0 "--version" "$VIGIL" --version
for lib in '^vigil [0-9]+\.[0-9]+\.[0-9]+$' '^libyara [0-9]' '^libclamav [0-9]' \
	'^libarchive [0-9]' '^PCRE2 [0-9]' '^xxHash [0-9]' '^OpenSSL [0-9]'; do
	expect_grep "$lib" "$out" "--version: /$lib/"
done

# help and usage
expect_exit 0 "--help" "$VIGIL" --help
expect_grep '^  scan PATH' "$out" "--help lists scan"
expect_grep '^  sig check' "$out" "--help lists sig check"
expect_exit 0 "scan --help" "$VIGIL" scan --help
for opt in --database --exclude --follow-symlinks --one-file-system \
	--max-filesize --max-depth --max-extracted --max-members \
	--max-member-size --max-ratio --ratio-min-size --max-scan-time \
	--yara-timeout --cache-entries --no-unpack --no-ml \
	--encrypted-suspicious --jobs --infected --json --no-progress; do
	expect_grep "^ .*$opt" "$out" "scan --help documents $opt"
done
# the usage is the dispatch table: every command it lists answers --help
expect_exit 0 "--help again" "$VIGIL" --help
cmds=$(printf '%s\n' "$out" | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
[ "$(printf '%s\n' "$cmds" | wc -l)" -ge 3 ] && ok "usage lists $(echo $cmds)" ||
	fail "usage lists too few commands: $cmds"
for c in $cmds; do
	expect_exit 0 "vigil $c --help" "$VIGIL" "$c" --help
done
expect_exit 0 "sig --help" "$VIGIL" sig --help
for c in $(printf '%s\n' "$out" | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'); do
	expect_exit 0 "vigil sig $c --help" "$VIGIL" sig "$c" --help
done
expect_exit 2 "no command" "$VIGIL"
expect_exit 2 "unknown command" "$VIGIL" frobnicate
expect_grep "unknown command 'frobnicate'" "$err" "names the command"
expect_exit 2 "scan without a path" "$VIGIL" scan
expect_grep 'no PATH given' "$err" "says what is missing"
expect_exit 2 "unknown option" "$VIGIL" scan --frobnicate .
expect_grep "^vigil scan: unrecognized option '--frobnicate'" "$err" \
	"names the option"
expect_grep "Try 'vigil scan --help'" "$err" "points to --help"
for bad in "--max-filesize=12Q" "--max-filesize=-1" "--max-depth=x" \
	"--max-scan-time=1.2.3" "--jobs=1000" "--max-ratio="; do
	expect_exit 2 "bad value $bad" "$VIGIL" scan "$bad" .
done

# limit values with suffixes and fractions are taken
echo hello >"$scratch/hello.txt"
expect_exit 0 "sizes, counts and seconds parse" "$VIGIL" scan --no-progress \
	--max-filesize 1M --max-extracted 2G --max-member-size 512KiB \
	--ratio-min-size 64k --max-depth 3 --max-members 10 --max-ratio 50 \
	--max-scan-time 2.5 --yara-timeout 0.25 --cache-entries 0 \
	--no-ml --no-unpack --encrypted-suspicious -r "$scratch/hello.txt"

# -d: a hash database of our own
printf '%s:6:Hello.Test\n' "$(md5sum <"$scratch/hello.txt" | cut -d' ' -f1)" \
	>"$scratch/good.hdb"
expect_exit 1 "-d good.hdb finds its file" "$VIGIL" scan --no-progress \
	-d "$scratch/good.hdb" "$scratch/hello.txt"
expect_grep "^$scratch/hello.txt: Hello.Test FOUND\$" "$out" "custom name"
expect_grep '^Known signatures: [1-9]' "$out" "signatures counted"
# a bad line: the file and line number on stderr, exit 2; the file is
# left out (its good line too) and the scan goes on without it
printf '%s\n' "$(cat "$scratch/good.hdb")" 'zz:1:Broken' >"$scratch/bad.hdb"
expect_exit 2 "-d bad.hdb" "$VIGIL" scan --no-progress -d "$scratch/bad.hdb" \
	"$scratch/hello.txt"
expect_grep "^vigil: $scratch/bad.hdb:2: " "$err" "file:line of the bad line"
expect_grep "^$scratch/hello.txt: OK\$" "$out" "scanned without the bad file"
expect_grep "^Signature files not loaded: 1\$" "$out" "counted in the summary"
# --strict-signatures: nothing scanned after a bad database
expect_exit 2 "-d bad.hdb --strict-signatures" "$VIGIL" scan --no-progress \
	--strict-signatures -d "$scratch/bad.hdb" "$scratch/hello.txt"
expect_grep "^vigil: $scratch/bad.hdb:2: " "$err" "strict: file:line"
[ -z "$out" ] && ok "strict: nothing scanned after a bad database" ||
	fail "out: $out"
expect_exit 2 "-d missing" "$VIGIL" scan -d "$scratch/missing.hdb" "$scratch"
expect_grep "^vigil: $scratch/missing.hdb: No such file or directory\$" "$err" \
	"missing database named"
expect_exit 2 "-d of an unknown type" "$VIGIL" scan -d "$scratch/hello.txt" \
	"$scratch"
expect_grep "hello.txt" "$err" "unknown type names the file"

# sig check
expect_exit 0 "sig check good" "$VIGIL" sig check "$scratch/good.hdb"
expect_grep "^$scratch/good.hdb: OK \\(1 signature\\)\$" "$out" "OK (1 signature)"
expect_exit 2 "sig check good and bad" "$VIGIL" sig check "$scratch/good.hdb" \
	"$scratch/bad.hdb"
expect_grep "^$scratch/good.hdb: OK" "$out" "the good one still OK"
expect_grep "^vigil: $scratch/bad.hdb:2: " "$err" "the bad one with its line"
expect_exit 2 "sig check without a file" "$VIGIL" sig check
expect_exit 2 "sig with an unknown command" "$VIGIL" sig frobnicate
expect_exit 0 "sig --help" "$VIGIL" sig --help

finish
