#!/bin/sh
# libvigil_example.sh - the EXAMPLE of libvigil(3), built by make check
# from the page itself (tests/local.mk), runs as documented: it loads
# main.hdb from the current folder, finds EICAR (exit 1), and says OK
# nothing for a clean file.
. "$top_srcdir/tests/lib.sh"

prog=$top_builddir/tests/libvigil_example
[ -x "$prog" ] || { fail "no $prog"; finish; }
eicar >"$scratch/eicar.com"
echo hello >"$scratch/clean.txt"
# main.hdb: one MD5 signature, for clean.txt's twin
echo twin >"$scratch/twin.txt"
printf '%s:%s:Test.Twin\n' "$(md5sum <"$scratch/twin.txt" | cut -d' ' -f1)" \
	"$(wc -c <"$scratch/twin.txt" | tr -d ' ')" >"$scratch/main.hdb"
cd "$scratch" || exit 1
expect_exit 1 "example finds EICAR" "$prog" eicar.com clean.txt
expect_grep '^eicar.com: Eicar-Test-Signature MALICIOUS$' "$out" "EICAR line"
expect_exit 0 "example on a clean file" "$prog" clean.txt
[ -z "$out" ] && ok "nothing printed for a clean file" || fail "printed: $out"
expect_exit 1 "example uses main.hdb" "$prog" twin.txt
expect_grep '^twin.txt: Test.Twin MALICIOUS$' "$out" "main.hdb signature line"
cd / && rm -f "$scratch/main.hdb"
cd "$scratch" || exit 1
expect_exit 2 "example without main.hdb" "$prog" clean.txt
finish
