#!/bin/sh
# isolation_same.sh - isolation changes where libarchive and libclamav
# run, never what a scan finds: the same verdicts and findings (stage,
# name, layer, verdict) with and without --no-isolation, on Debian's
# clamav-testfiles and on a small archive corpus made here, with the
# built-in signatures, a hash list, and a ClamAV body signature (so the
# ClamAV stage's own pass runs in the workers too).
. "$top_srcdir/tests/lib.sh"

dir=${CLAMAV_TESTFILES:-/usr/share/clamav-testfiles}
[ -f "$dir/clam.exe" ] || { echo "SKIP: no $dir"; exit 77; }
for t in zip 7z bzip2 xz; do
	command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }
done

# the archive corpus: formats, nesting, compression, encryption
c=$scratch/corpus
mkdir -p "$c" "$scratch/src/docs/deep"
eicar >"$scratch/src/eicar.com"
cp "$dir/clam.exe" "$scratch/src/docs/"
seq 1 20000 >"$scratch/src/docs/numbers.txt"
echo "nothing here" >"$scratch/src/docs/deep/readme.txt"
(cd "$scratch/src" && zip -qr "$c/plain.zip" docs &&
	zip -qr "$c/mixed.zip" docs eicar.com &&
	zip -qP secret "$c/encrypted.zip" docs/clam.exe &&
	7z a -bd -mx=1 "$c/solid.7z" docs eicar.com >/dev/null &&
	tar -cf "$scratch/t.tar" docs && gzip -c "$scratch/t.tar" >"$c/t.tar.gz" &&
	bzip2 -c "$scratch/t.tar" >"$c/t.tar.bz2" && xz -c "$scratch/t.tar" >"$c/t.tar.xz" &&
	cp "$c/mixed.zip" docs/deep/ && tar -cf "$c/nested.tar" docs &&
	zip -q "$c/nested2.zip" "$c/nested.tar")
cp "$dir/clam.exe" "$c/" && cp "$dir/clam.pdf" "$dir/clam.ole.doc" "$c/"
seq 1 500 >"$c/text.txt"

printf '%s:%s:clam.exe\n' "$(md5sum <"$dir/clam.exe" | cut -d' ' -f1)" \
	"$(wc -c <"$dir/clam.exe" | tr -d ' ')" >"$scratch/clam.hdb"
# 16 bytes from inside clam.exe as a ClamAV body signature
printf 'Test.ClamBody:0:*:%s\n' "$(od -An -tx1 -j 512 -N 16 "$dir/clam.exe" |
	tr -d ' \n')" >"$scratch/body.ndb"

compare() {
	what=$1
	shift
	"$VIGIL" scan --json -j 2 "$@" >"$scratch/on.json" 2>/dev/null
	"$VIGIL" scan --json -j 2 --no-isolation "$@" >"$scratch/off.json" 2>/dev/null
	if /usr/bin/python3 - "$scratch/on.json" "$scratch/off.json" <<'PY'
import json, sys
def load(p):
    out = {}
    for line in open(p):
        o = json.loads(line)
        if "path" not in o:
            continue
        out[o["path"]] = (o.get("verdict", "error:%s" % o.get("code")),
                          sorted((f["stage"], f["name"], f["layer"], f["verdict"])
                                 for f in o.get("findings", [])))
    return out
on, off = load(sys.argv[1]), load(sys.argv[2])
bad = [p for p in sorted(set(on) | set(off)) if on.get(p) != off.get(p)]
for p in bad:
    print("differs:", p, "\n  isolated:", on.get(p), "\n  in-process:", off.get(p))
print(len(on), "files,", len(bad), "differ;",
      sum(v[0] != "CLEAN" for v in on.values()), "not CLEAN")
sys.exit(1 if bad or not on else 0)
PY
	then ok "$what: same with and without isolation"; else
		fail "$what: verdicts differ"; fi
}

compare "clamav-testfiles, built-in signatures" "$dir"
compare "clamav-testfiles, hash list and ClamAV body signature" \
	--no-default-signatures -d "$scratch/clam.hdb" -d "$scratch/body.ndb" "$dir"
compare "archive corpus, built-in signatures" "$c"
compare "archive corpus, hash list and ClamAV body signature" \
	-d "$scratch/clam.hdb" -d "$scratch/body.ndb" "$c"
finish
