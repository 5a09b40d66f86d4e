#!/bin/bash
# icap_respmod.sh - srv_vigil in a real c-icap, RESPMOD: threats blocked
# with the 403 page and X-Infection-Found, clean bodies passed intact
# (204, or 200 with the same bytes), Content-Encoding decoded before the
# scan, a gzip bomb blocked as INCOMPLETE, and the MaxObjectSize and
# early-release policies.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/icap_lib.sh"
icap_require
for t in brotli zstd; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
clam=/usr/share/clamav-testfiles/clam.exe
[ -f "$clam" ] || { echo "SKIP: clamav-testfiles not installed"; exit 77; }

# Bodies. The 10 MB ones go through TmpDir (MaxMemObject is 4 MiB).
eicar >"$scratch/eicar.com"
head -c 5000 /dev/urandom >"$scratch/clean.bin"
head -c 10000000 /dev/urandom >"$scratch/clean10m.bin"
head -c 21000000 /dev/urandom >"$scratch/clean21m.bin"
head -c 2000000 /dev/urandom >"$scratch/clean2m.bin"
/usr/bin/python3 - "$scratch" <<'EOF'
import gzip, io, sys, tarfile, zipfile
d = sys.argv[1]
eicar = open(d + "/eicar.com", "rb").read()
z = io.BytesIO()
with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
    f.writestr("readme.txt", "hello")
    f.writestr("eicar.com", eicar)
open(d + "/eicar.zip", "wb").write(z.getvalue())
open(d + "/eicar.zip.gz", "wb").write(gzip.compress(z.getvalue()))
# EICAR as the last member of a 10 MB tar: found only with the tail
def tar(name, size):
    with tarfile.open(d + "/" + name, "w") as t:
        ti = tarfile.TarInfo("big.bin"); ti.size = size
        t.addfile(ti, open(d + "/clean10m.bin", "rb"))
        ti = tarfile.TarInfo("eicar.com"); ti.size = len(eicar)
        t.addfile(ti, io.BytesIO(eicar))
tar("eicar_end10m.tar", 10000000)
tar("eicar_end600k.tar", 600000)
# 100 MB of zeros in 100 KB of gzip: a bomb
c = gzip.compress(bytes(100 << 20), 9)
open(d + "/bomb.gz", "wb").write(c)
EOF
gzip -c "$scratch/clean.bin" >"$scratch/clean.gz"
brotli -c "$scratch/eicar.zip" >"$scratch/eicar.zip.br"
zstd -q -c "$scratch/eicar.zip" >"$scratch/eicar.zip.zst"
/usr/bin/python3 -c 'import sys,zlib; sys.stdout.buffer.write(zlib.compress(open(sys.argv[1],"rb").read()))' \
	"$scratch/eicar.zip" >"$scratch/eicar.zip.zlib"

icap_start "vigil.MaxObjectSize 20M"

# threats
for f in eicar.com eicar.zip; do
	icap --file "$scratch/$f" --url "http://example.test/$f" --out "$scratch/out"
	expect_blocked "$f"
done
icap --file "$clam" --url http://example.test/clam.exe --out "$scratch/out"
expect_blocked "clam.exe"
expect_grep 'ClamAV-Test-File|Clam' "$(header x-infection-found)" "clam.exe threat name"
icap --file "$scratch/eicar.com" --preview -1 --no204 --out "$scratch/out"
expect_blocked "EICAR without preview"
expect_grep 'example.test/file' "$(cat "$scratch/out")" "page names the URL"
expect_grep 'vigil [0-9.]+ \(' "$(cat "$scratch/out")" "page names the engine version"
icap --file "$scratch/eicar.zip.gz" --header "Content-Encoding: gzip" --out "$scratch/out"
expect_blocked "EICAR in zip in gzip Content-Encoding"
expect_grep 'eicar.com' "$(header x-violations-found)" "X-Violations-Found names the member"
icap --file "$scratch/eicar.zip.br" --header "Content-Encoding: br" --out "$scratch/out"
expect_blocked "EICAR in zip in br Content-Encoding"
icap --file "$scratch/eicar.zip.zst" --header "Content-Encoding: zstd" --out "$scratch/out"
expect_blocked "EICAR in zip in zstd Content-Encoding"
icap --file "$scratch/eicar.zip.zlib" --header "Content-Encoding: deflate" --out "$scratch/out"
expect_blocked "EICAR in zip in deflate Content-Encoding"
icap --file "$scratch/eicar_end10m.tar" --url http://example.test/big.tar --out "$scratch/out"
expect_blocked "EICAR at the end of a 10 MB body"

# clean bodies: 204 when allowed, else the same bytes back
icap --file "$scratch/clean.bin"
expect_passed "clean 5 KB, Allow 204" "$scratch/clean.bin"
[ "$(field icap_status)" = 204 ] || fail "clean 5 KB with Allow 204 got $(field icap_status)"
icap --file "$scratch/clean.bin" --no204
expect_passed "clean 5 KB, no 204" "$scratch/clean.bin"
icap --file "$scratch/clean10m.bin"
expect_passed "clean 10 MB, Allow 204" "$scratch/clean10m.bin"
icap --file "$scratch/clean10m.bin" --no204
expect_passed "clean 10 MB, no 204" "$scratch/clean10m.bin"
[ "$(field icap_status)" = 200 ] || fail "clean 10 MB without 204 got $(field icap_status)"
icap --file "$scratch/clean.gz" --header "Content-Encoding: gzip" --no204
expect_passed "gzip-encoded clean body: the encoded bytes come back" "$scratch/clean.gz"

# a bomb and an oversized object: INCOMPLETE, blocked by default
icap --file "$scratch/bomb.gz" --header "Content-Encoding: gzip" --out "$scratch/out"
if [[ "$(field http_status)" == *" 403 "* ]] && [ "$(header x-vigil-verdict)" = INCOMPLETE ] &&
	grep -q "could not be scanned" "$scratch/out"; then
	ok "gzip bomb: INCOMPLETE, blocked"
else
	fail "gzip bomb not blocked as INCOMPLETE: $reply"
fi
icap --file "$scratch/clean21m.bin" --out "$scratch/out"
if [[ "$(field http_status)" == *" 403 "* ]] && grep -q "MaxObjectSize" "$scratch/out"; then
	ok "21 MB over MaxObjectSize 20M: INCOMPLETE, blocked"
else
	fail "object over MaxObjectSize not blocked: $reply"
fi
grep -q "blocked MALICIOUS Eicar-Test-Signature" "$ICAP_DIR/access.log" &&
	ok "access log: %{vigil:action}Sa %{vigil:verdict}Sa %{vigil:threat}Sa" ||
	fail "access log lacks the vigil attributes: $(cat "$ICAP_DIR/access.log")"

# second instance: objects over 1M pass (streamed), early release at 256K
icap_start "vigil.MaxObjectSize 1M" "vigil.PassOverMaxObjectSize on" \
	"vigil.EarlyRelease 256K" "vigil.EarlyReleaseHold 64K"
icap --file "$scratch/clean2m.bin"
expect_passed "2 MB over MaxObjectSize with PassOverMaxObjectSize" "$scratch/clean2m.bin"
[ "$(field icap_status)" = 200 ] || fail "early release sent no body"
icap --file "$scratch/eicar.com" --out "$scratch/out"
expect_blocked "EICAR, small body, early release on"
icap --file "$scratch/eicar_end600k.tar" --out "$scratch/out"
if [[ "$reply" == "client failed"* ]]; then
	ok "EICAR at the end of 600 KB in early release: reply cut short"
else
	fail "early release did not cut the infected reply: $reply"
fi
grep -q "truncated MALICIOUS" "$ICAP_DIR/access.log" && ok "access log says truncated" ||
	fail "no truncated entry: $(cat "$ICAP_DIR/access.log")"
finish
