#!/bin/sh
# yara_vs_cli.sh - vigil's YARA stage must match exactly what the yara
# command matches, file by file, with real signature-base rules and the
# external variables set the same way (doc/yara.md). The corpus is made
# here: files crafted to hit selected rules, near misses, random bytes,
# text and a couple of system binaries.
. "$top_srcdir/tests/lib.sh"

sb="$VIGIL_SHARED/rules/yara/signature-base/yara"
if ! command -v yara >/dev/null || ! command -v yarac >/dev/null; then
	echo "SKIP: the yara and yarac commands are not installed"; exit 77
fi
if [ ! -d "$sb" ]; then
	echo "SKIP: no signature-base rules in $sb"; exit 77
fi

# Real rule files: two read the externals, the others only bytes.
rules="apt_webshell_chinachopper gen_susp_cmd_var_expansion
	yara_mixed_ext_vars generic_anomalies gen_susp_bat_aux"

corpus="$scratch/corpus"
mkdir "$corpus"
# The generator writes the files and prints "name<TAB>filetype" for each,
# the filetype being the LOKI/THOR name the file has by construction.
/usr/bin/python3 - "$corpus" > "$scratch/types" <<'EOF'
import os, random, shutil, struct, sys
d = sys.argv[1]
rnd = random.Random(20240601)
types = {}
def put(name, data, ftype):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    types[name] = ftype
def pe(extra=b""):
    # MZ header whose e_lfanew points at "PE\0\0"
    h = bytearray(0x200)
    h[0:2] = b"MZ"
    struct.pack_into("<I", h, 0x3c, 0x80)
    h[0x80:0x84] = b"PE\0\0"
    return bytes(h) + extra
def ole(extra):
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + extra
# crafted hits, each with a near miss beside it
put("shell.php", b"<?php @eval($_POST['cmd']);?>\n", "UNKNOWN")
put("shell_fp.php", b"GET / HTTP/1.0\n<?php @eval($_POST['cmd']);?>\n", "UNKNOWN")
put("dropper.doc", ole(b"cmd.exe  /V:ON /C set x=1\n"), "OLE")
put("dropper_wide.doc", ole(" /V:ON ".encode("utf-16le")), "OLE")
put("not_ole.doc", b"cmd.exe /V:ON /C set x=1\n", "UNKNOWN")
put("DebugSocketlog.txt", b"conn from 98.176.196.89 closed\n", "UNKNOWN")
put("socketlog.txt", b"conn from 98.176.196.89 closed\n", "UNKNOWN")
put("download.EXE", b"<html><p>sinkhole</p></html>\n", "UNKNOWN")
put("download.html", b"<html><p>sinkhole</p></html>\n", "UNKNOWN")
put("photo.jpg", pe(b"\0" * 64), "EXE")
put("photo.bin", pe(b"\0" * 64), "EXE")
# random bytes, text and real binaries
for i in range(12):
    n = rnd.choice([0, 1, 100, 4096, 65536, 200000])
    data = rnd.getrandbits(8 * n).to_bytes(n, "little") if n else b""
    if data[:2] in (b"MZ", b"\x7fE", b"PK", b"\x1f\x8b", b"\xd0\xcf", b"BZ", b"%P", b"{\\"):
        data = b"\x01" + data[1:]
    put("rand%02d.dat" % i, data, "EMPTY" if n == 0 else "?")
words = b"lorem ipsum dolor sit amet cmd powershell eval base64 http".split()
for i in range(6):
    text = b" ".join(rnd.choice(words) for _ in range(rnd.randint(10, 3000)))
    put("text%d.txt" % i, text + b"\n", "UNKNOWN")
for b in ("/bin/sh", "/bin/ls"):
    if os.path.isfile(b):
        shutil.copyfile(b, os.path.join(d, "bin_" + os.path.basename(b)))
        types["bin_" + os.path.basename(b)] = "ELF"
for name, t in sorted(types.items()):
    print("%s\t%s" % (name, t))
EOF

# Random bytes are "UNKNOWN" unless they happen to look like text, which
# vigil also calls "UNKNOWN" (doc/yara.md), so "?" and EMPTY map there.
args=""
for r in $rules; do
	args="$args $r:$sb/$r.yar"
done
defs="-d filename= -d filepath= -d extension= -d filetype= -d owner="
# shellcheck disable=SC2086
if ! yarac -w $defs $args "$scratch/rules.yarc" 2>"$scratch/yarac.err"; then
	fail "yarac: $(cat "$scratch/yarac.err")"; finish
fi

owner=$(id -un)
: > "$scratch/yara.out"
while IFS="$(printf '\t')" read -r name ftype; do
	case $ftype in "?"|EMPTY) ftype=UNKNOWN ;; esac
	ext=$(/usr/bin/python3 -c 'import os,sys; print(os.path.splitext(sys.argv[1])[1].lower())' "$name")
	yara -w -e -C "$scratch/rules.yarc" -d "filename=$name" \
		-d "filepath=$corpus/$name" -d "extension=$ext" \
		-d "filetype=$ftype" -d "owner=$owner" "$corpus/$name" \
		>>"$scratch/yara.out" 2>>"$scratch/yara.err" ||
		fail "yara on $name: $(cat "$scratch/yara.err")"
done < "$scratch/types"

set --
for r in $rules; do
	set -- "$@" -d "$sb/$r.yar"
done
"$VIGIL" scan --json --no-progress --no-summary --no-default-signatures \
	--no-ml --no-unpack "$@" "$corpus" > "$scratch/vigil.out" 2>"$scratch/vigil.err"
rc=$?
[ "$rc" -le 1 ] || fail "vigil scan: exit $rc: $(cat "$scratch/vigil.err")"

# Compare rule matches file by file.
/usr/bin/python3 - "$scratch/yara.out" "$scratch/vigil.out" "$corpus" <<'EOF' || fail "matches differ"
import os, sys
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests"))
from yara_matches import compare
want, got, bad = compare(*sys.argv[1:4])
hits = sum(len(v) for v in want.values())
print("%d files, %d rule matches by yara, %d files differ" % (len(want), hits, bad))
# the crafted files must hit, or the comparison proves nothing
expect = {
    "shell.php": "apt_webshell_chinachopper:ChinaChopper_Generic",
    "dropper.doc": "gen_susp_cmd_var_expansion:SUSP_CMD_Var_Expansion",
    "dropper_wide.doc": "gen_susp_cmd_var_expansion:SUSP_CMD_Var_Expansion",
    "DebugSocketlog.txt": "yara_mixed_ext_vars:SUSP_ServU_Known_Mal_IP_Jul21_1",
    "download.EXE": "yara_mixed_ext_vars:SUSP_Blocked_Download_Proxy_Replacement_Jan23_1",
    "photo.jpg": "generic_anomalies:SUSP_Known_Type_Cloaked_as_JPG",
}
for n, rule in expect.items():
    if rule not in want[n]:
        bad += 1
        print("yara did not match %s on %s: the corpus is wrong" % (rule, n))
sys.exit(1 if bad else 0)
EOF
finish
