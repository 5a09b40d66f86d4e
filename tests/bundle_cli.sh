#!/bin/sh
# bundle_cli.sh - `vigil sig build|info|keygen|sign|verify` and
# `vigil scan --trust DIR -d BUNDLE`: a bundle of the test signatures
# reports the same lines as the loose files over a tree of samples
# (clamav-testfiles included); verify's exit codes; each kind of damage
# refused with its own message.
. "$top_srcdir/tests/lib.sh"

testfiles=${CLAMAV_TESTFILES:-/usr/share/clamav-testfiles}
[ -d "$testfiles" ] || { echo "SKIP: no $testfiles"; exit 77; }

sigs=$scratch/sigs
mkdir -p "$sigs" "$scratch/tree" "$scratch/trust"
cp "$testfiles"/clam.exe "$testfiles"/clam.zip "$testfiles"/clam.pdf \
	"$testfiles"/clam.ole.doc "$scratch/tree/"
eicar >"$scratch/tree/eicar.com"
echo 'a plain file with vigil-cli-marker inside' >"$scratch/tree/marker.txt"
echo 'a file the allowlist clears: vigil-cli-marker' >"$scratch/tree/allowed.txt"
echo 'nothing here' >"$scratch/tree/clean.txt"
md5() { md5sum "$1" | cut -d' ' -f1; }
size() { wc -c <"$1" | tr -d ' '; }
printf '%s:%s:Test.Cli.Md5\n' "$(md5 "$scratch/tree/clean.txt")" \
	"$(size "$scratch/tree/clean.txt")" >"$sigs/t.hdb"
printf '%s:*:Test.Cli.Sha256:73\n' \
	"$(sha256sum "$testfiles/clam.pdf" | cut -d' ' -f1)" >"$sigs/t.hsb"
printf '%s:%s:Allowed\n' "$(md5 "$scratch/tree/allowed.txt")" \
	"$(size "$scratch/tree/allowed.txt")" >"$sigs/allow.fp"
printf 'rule CliMarker { strings: $a = "vigil-cli-marker" condition: $a }\n' \
	>"$sigs/cli.yar"
# ClamAV body signature: "vigil-cli-marker" in hex
printf 'Test.Cli.Ndb:0:*:%s\n' \
	"$(printf vigil-cli-marker | od -An -tx1 | tr -d ' \n')" >"$sigs/cli.ndb"

bundle=$scratch/sigs.vgb
expect_exit 0 "sig keygen" "$VIGIL" sig keygen --secret "$scratch/k.sec" \
	--public "$scratch/trust/k.pub"
expect_exit 2 "sig keygen refuses to replace a key" "$VIGIL" sig keygen \
	--secret "$scratch/k.sec" --public "$scratch/x.pub"
expect_grep "File exists" "$err" "keygen says why"
expect_exit 0 "sig build" "$VIGIL" sig build -o "$bundle" --version 20 "$sigs"
expect_exit 0 "sig info" "$VIGIL" sig info "$bundle"
expect_grep '^version: 20$' "$out" "info shows the version"
expect_grep '^signer:  \(unsigned\)$' "$out" "info shows it unsigned"
for kind in hashes allowlist yara clamav; do
	expect_grep "^  $kind " "$out" "info lists a $kind part"
done
expect_exit 1 "verify refuses an unsigned bundle" "$VIGIL" sig verify \
	--trust "$scratch/trust" "$bundle"
expect_grep "not signed" "$err" "unsigned message"
expect_exit 0 "sig sign" "$VIGIL" sig sign --key "$scratch/k.sec" "$bundle"
expect_exit 0 "sig verify" "$VIGIL" sig verify --trust "$scratch/trust" "$bundle"
expect_grep "OK \(version 20, signed by key [0-9a-f]{16}\)" "$out" "verify line"

# the same report from the loose files and from the bundle
S() { "$VIGIL" scan --no-progress --no-summary -j 1 "$@" "$scratch/tree" |
	sort; }
loose=$(S -d "$sigs")
bundled=$(S --trust "$scratch/trust" -d "$bundle")
[ "$loose" = "$bundled" ] && ok "same report from the bundle" ||
	fail "reports differ: loose: $loose; bundle: $bundled"
for line in "clean.txt: Test.Cli.Md5 FOUND" "clam.pdf: Test.Cli.Sha256 FOUND" \
	"marker.txt: cli:CliMarker FOUND" "allowed.txt: OK" \
	"eicar.com: Eicar-Test-Signature FOUND"; do
	expect_grep "/tree/$line\$" "$bundled" "bundle: $line"
done
expect_grep 'marker.txt".*"Test.Cli.Ndb' "$(S --trust "$scratch/trust" \
	-d "$bundle" --json)" "the ClamAV part finds too"

# refusals, each with its own message; the CLI exits 2 for all
n=$(size "$bundle")
for pos in 0 12 40 4096 $((n / 2)) $((n - 200)) $((n - 100)); do
	python3 - "$bundle" "$scratch/bad.vgb" "$pos" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[int(sys.argv[3])] ^= 0x01
open(sys.argv[2], "wb").write(b)
PY
	expect_exit 2 "flipped byte at $pos refused" "$VIGIL" scan \
		--trust "$scratch/trust" -d "$scratch/bad.vgb" "$scratch/tree/clean.txt"
	expect_grep "bad signature" "$err" "byte $pos: bad signature"
	expect_exit 1 "sig verify: byte $pos" "$VIGIL" sig verify \
		--trust "$scratch/trust" "$scratch/bad.vgb"
done
head -c $((n - 1000)) "$bundle" >"$scratch/short.vgb"
expect_exit 2 "truncated bundle refused" "$VIGIL" scan --trust "$scratch/trust" \
	-d "$scratch/short.vgb" "$scratch/tree/clean.txt"
expect_grep "truncated bundle \($((n - 1000)) of $n bytes\)" "$err" "truncated message"
expect_exit 2 "sig verify: truncated is an error" "$VIGIL" sig verify \
	--trust "$scratch/trust" "$scratch/short.vgb"
mkdir "$scratch/other"
"$VIGIL" sig keygen --secret "$scratch/o.sec" --public "$scratch/other/o.pub" >/dev/null
expect_exit 1 "verify against another trust store" "$VIGIL" sig verify \
	--trust "$scratch/other" "$bundle"
expect_grep "not in the trust store" "$err" "untrusted message"
expect_exit 2 "scan refuses an untrusted bundle" "$VIGIL" scan \
	--trust "$scratch/other" -d "$bundle" "$scratch/tree/clean.txt"
expect_exit 1 "--allow-unsigned takes it for development" "$VIGIL" scan \
	--no-summary --allow-unsigned --trust "$scratch/other" -d "$bundle" \
	"$scratch/tree/clean.txt"

finish
