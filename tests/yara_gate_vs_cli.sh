#!/bin/sh
# yara_gate_vs_cli.sh - with signature-base's DEFAULT-SET loaded, vigil
# (which scans the rule files it classifies as MZ-gated only on objects
# starting "MZ", doc/yara.md) must match exactly what the yara command
# matches, file by file. The corpus holds, for a sample of the rules'
# text strings, one copy of them behind an MZ/PE header and one behind
# "ZM", so the gated rules fire on one twin and must stay quiet on the
# other. Rule files that read the externals are left out: the yara
# command can only give those one value for every file. So are files
# whose rules are all commented out: named alone, vigil refuses them.
. "$top_srcdir/tests/lib.sh"

sbdir="$VIGIL_SHARED/rules/yara/signature-base"
if ! command -v yara >/dev/null; then
	echo "SKIP: the yara command is not installed"; exit 77
fi
if [ ! -f "$sbdir/DEFAULT-SET.txt" ]; then
	echo "SKIP: no signature-base DEFAULT-SET in $sbdir"; exit 77
fi

: > "$scratch/rules"
tr -d '\r' < "$sbdir/DEFAULT-SET.txt" | while IFS= read -r r; do
	case $r in ''|'#'*) continue ;; esac
	grep -qwE 'filename|filepath|extension|filetype|owner' "$sbdir/$r" ||
		printf '%s\n' "$sbdir/$r" >> "$scratch/rules"
done
# a file whose rules are all commented out is an error when named
# (vigil_engine_load: an empty source would find nothing): leave it out
/usr/bin/python3 - "$scratch/rules" <<'PY'
import re, sys
keep = []
for p in open(sys.argv[1]).read().split("\n"):
    if not p:
        continue
    t = re.sub(r"/\*.*?\*/|//[^\n]*", "", open(p, encoding="latin-1").read(), flags=re.S)
    if re.search(r"(?m)^\s*((private|global)\s+)*rule\s", t):
        keep.append(p)
open(sys.argv[1], "w").write("".join(k + "\n" for k in keep))
PY
nrules=$(wc -l < "$scratch/rules")
[ "$nrules" -gt 500 ] || fail "only $nrules rule files kept"

corpus="$scratch/corpus"
mkdir "$corpus"
/usr/bin/python3 - "$corpus" "$scratch/rules" <<'PY' || fail "corpus generator failed"
import os, random, re, struct, sys
out, rules = sys.argv[1], sys.argv[2]
rnd = random.Random(20261122)
def pe_header():
    h = bytearray(0x200)
    h[0:2] = b"MZ"
    struct.pack_into("<I", h, 0x3c, 0x80)
    h[0x80:0x84] = b"PE\0\0"
    struct.pack_into("<H", h, 0x84, 0x14c)
    return bytes(h)
# $id = "text" strings without escapes, per rule
string_re = re.compile(r'^\s*\$\w*\s*=\s*"([^"\\]{6,})"\s*(?:ascii)?\s*$', re.M)
rule_re = re.compile(r'(?m)^\s*(?:private\s+|global\s+)*rule\s')
paths = [l.strip() for l in open(rules)]
rnd.shuffle(paths)
n = 0
for p in paths:
    text = open(p, encoding="latin-1").read()
    for i, body in enumerate(rule_re.split(text)[1:]):
        strings = [s.encode("latin-1") for s in string_re.findall(body)]
        if not strings:
            continue
        rnd.shuffle(strings)
        body = b"\n".join(strings[: rnd.choice([1, 3, 50, 50])]) + b"\n"
        base = "%s_%d" % (os.path.basename(p).split(".")[0], i)
        for tag, head in (("mz", pe_header()), ("zm", b"ZM" + pe_header()[2:])):
            with open(os.path.join(out, base + "." + tag), "wb") as f:
                f.write(head + body)
        n += 1
        if n % 2:
            break   # most files: their first rule with strings only
for i in range(8):
    size = rnd.choice([0, 1, 2, 3, 4096])
    data = bytes(rnd.getrandbits(8) for _ in range(size))
    with open(os.path.join(out, "rand%d" % i), "wb") as f:
        f.write((b"MZ" + data[2:]) if i % 2 else data)
PY

set --
while IFS= read -r r; do
	ns=$(basename "$r"); set -- "$@" "${ns%.*}:$r"
done < "$scratch/rules"
defs="-d filename= -d filepath= -d extension= -d filetype= -d owner="
# shellcheck disable=SC2086
yara -w -e -r $defs "$@" "$corpus" > "$scratch/yara.out" 2>"$scratch/yara.err" ||
	fail "yara: $(head -c 500 "$scratch/yara.err")"

set --
while IFS= read -r r; do set -- "$@" -d "$r"; done < "$scratch/rules"
"$VIGIL" scan --json --no-progress --no-summary --no-default-signatures \
	--no-ml --no-unpack "$@" "$corpus" > "$scratch/vigil.out" 2>"$scratch/vigil.err"
rc=$?
[ "$rc" -le 1 ] || fail "vigil scan: exit $rc: $(head -c 500 "$scratch/vigil.err")"

/usr/bin/python3 - "$scratch/yara.out" "$scratch/vigil.out" "$corpus" <<'PY' || fail "matches differ"
import os, sys
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests"))
from yara_matches import compare
want, got, bad = compare(*sys.argv[1:4])
# rules yara matched on an MZ twin but not on its "ZM" twin: the gated
# kind; without enough of them the comparison proves little
mz_only = sum(1 for n in want if n.endswith(".mz")
              for r in want[n] - want.get(n[:-3] + ".zm", set()))
print("%d files, %d rule matches by yara, %d only with MZ, %d files differ"
      % (len(want), sum(len(v) for v in want.values()), mz_only, bad))
if mz_only < 40:
    print("too few MZ-only matches: the corpus is wrong")
    bad += 1
sys.exit(1 if bad else 0)
PY
finish
