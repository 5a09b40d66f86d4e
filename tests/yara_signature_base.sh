#!/bin/sh
# yara_signature_base.sh - real signature-base rules that read the
# filename, extension and filetype externals fire through `vigil scan`
# on files made to match them, and stay quiet on the same bytes under
# another name (so the verdict cache cannot carry one file's verdict to
# the other either).
. "$top_srcdir/tests/lib.sh"

sb="$VIGIL_SHARED/rules/yara/signature-base/yara"
for f in yara_mixed_ext_vars generic_anomalies; do
	[ -f "$sb/$f.yar" ] || { echo "SKIP: no $sb/$f.yar"; exit 77; }
done

t="$scratch/t"
mkdir "$t"
# SUSP_ServU_Known_Mal_IP_Jul21_1: filename == "DebugSocketlog.txt" and
# one of the listed addresses.
printf 'conn from 98.176.196.89 closed\n' >"$t/DebugSocketlog.txt"
cp "$t/DebugSocketlog.txt" "$t/socket.log"
# SUSP_Blocked_Download_Proxy_Replacement_Jan23_1: extension == ".exe"
# (lower case, whatever the name's case) and not an MZ file.
printf '<html><p>sinkhole</p></html>\n' >"$t/Setup.EXE"
cp "$t/Setup.EXE" "$t/setup.html"
# SUSP_Known_Type_Cloaked_as_JPG: extension ".jpg" and filetype "EXE".
/usr/bin/python3 -c '
import struct, sys
h = bytearray(0x200); h[0:2] = b"MZ"
struct.pack_into("<I", h, 0x3c, 0x80); h[0x80:0x84] = b"PE\0\0"
for n in sys.argv[1:]:
    open(n, "wb").write(bytes(h))' "$t/holiday.jpg" "$t/holiday.bin"

expect_exit 1 "vigil scan finds the crafted files" "$VIGIL" scan --json \
	--no-progress --no-default-signatures --no-ml \
	-d "$sb/yara_mixed_ext_vars.yar" -d "$sb/generic_anomalies.yar" "$t"

# hits FILE RULE: prints 1 if FILE's findings name RULE, else 0
hits() {
	printf '%s\n' "$out" | /usr/bin/python3 -c '
import json, os, sys
for line in sys.stdin:
    o = json.loads(line)
    if o.get("summary") or os.path.basename(o["path"]) != sys.argv[1]:
        continue
    print(int(any(f["stage"] == "yara" and f["name"] == sys.argv[2]
                  for f in o["findings"])))' "$1" "$2"
}

check() { # FILE RULE WANT
	got=$(hits "$1" "$2")
	case $3 in 1) what="fires" ;; *) what="stays quiet" ;; esac
	if [ "$got" = "$3" ]; then ok "$2 $what on $1"; else
		fail "$2 on $1: wanted $3, got '$got'"; fi
}
ip=yara_mixed_ext_vars:SUSP_ServU_Known_Mal_IP_Jul21_1
blocked=yara_mixed_ext_vars:SUSP_Blocked_Download_Proxy_Replacement_Jan23_1
jpg=generic_anomalies:SUSP_Known_Type_Cloaked_as_JPG
check DebugSocketlog.txt "$ip" 1
check socket.log "$ip" 0
check Setup.EXE "$blocked" 1
check setup.html "$blocked" 0
check holiday.jpg "$jpg" 1
check holiday.bin "$jpg" 0

# The summary counts every file, and the engine loaded the rules.
expect_grep '"summary": ?true' "$out" "a summary object ends the output"
finish
