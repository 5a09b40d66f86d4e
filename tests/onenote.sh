#!/bin/sh
# onenote.sh - clam.exe embedded in OneNote sections is found (through
# libclamav's OneNote reader), with only clam.exe's MD5 as signature.
# ClamAV's own test inputs (clam.exe.2007.one, .2010.one,
# .webapp-export.one) are not shipped here; the files below are built
# the way those keep their attachments: the OneNote magic GUID, then
# FileDataStoreObject blocks (GUID, 64-bit length, 12 reserved bytes,
# data). Set CLAMAV_ONE_FILES to a folder holding ClamAV's decoded
# originals to check those too.
. "$top_srcdir/tests/lib.sh"

dir=${CLAMAV_TESTFILES:-/usr/share/clamav-testfiles}
[ -f "$dir/clam.exe" ] || { echo "SKIP: no $dir/clam.exe"; exit 77; }
py=/usr/bin/python3
[ -x "$py" ] || { echo "SKIP: no $py to build the OneNote files"; exit 77; }

printf '%s:%s:clam.exe\n' "$(md5sum <"$dir/clam.exe" | cut -d' ' -f1)" \
	"$(wc -c <"$dir/clam.exe" | tr -d ' ')" >"$scratch/clam.hdb"
mkdir "$scratch/one"
"$py" - "$dir/clam.exe" "$scratch/one" <<'EOF'
import os, struct, sys
exe = open(sys.argv[1], "rb").read()
out = sys.argv[2]
ONE = bytes.fromhex("e4525c7b8cd8a74daeb15378d02996d3")
FDSO = bytes.fromhex("e716e3bd65261145a4c48d4d0b7a9eac")
png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2

def block(data):
    pad = (-len(data)) % 8
    return FDSO + struct.pack("<QIQ", len(data), 0, 0) + data + b"\0" * pad

def section(*blocks, lead=1024):
    head = ONE + bytes.fromhex("ac8e4ec0402c724f844e30ccc855878b")
    return head + b"\0" * (lead - len(head)) + b"".join(blocks) + b"\0" * 64

files = {
    # one attachment, as in clam.exe.2007.one
    "single.one": section(block(exe)),
    # among pictures, as in clam.exe.2010.one
    "among-pictures.one": section(block(png), block(exe), block(png * 3)),
    # far into the section
    "far.one": section(block(png * 200), block(exe), lead=200 * 1024),
    # no attachment, and one whose length runs past the end
    "no-attachment.one": section(),
    "truncated.one": section()[:-64] + FDSO + struct.pack("<QIQ", 1 << 40, 0, 0)
                     + exe[:100],
}
for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
EOF

expect_exit 1 "scan of the OneNote files" "$VIGIL" scan --no-progress \
	--no-ml --no-default-signatures -d "$scratch/clam.hdb" "$scratch/one"
for f in single among-pictures far; do
	expect_grep "^$scratch/one/$f.one!.+: clam.exe FOUND\$" "$out" \
		"$f.one: clam.exe found in its attachment"
done
expect_grep "^$scratch/one/no-attachment.one: OK\$" "$out" "no attachment: OK"
expect_grep "^$scratch/one/truncated.one: OK\$" "$out" "truncated attachment: OK"
expect_grep '^Infected files: 3 \(3 malicious' "$out" "3 of 5 infected"

# with --json: MALICIOUS, the finding from the hash stage
expect_exit 1 "JSON" "$VIGIL" scan --json --no-summary --no-ml \
	--no-default-signatures -d "$scratch/clam.hdb" "$scratch/one/single.one"
expect_grep '"verdict":"MALICIOUS","findings":\[\{"stage":"hash","name":"clam.exe"' \
	"$out" "MALICIOUS by clam.exe's hash"

if [ -n "${CLAMAV_ONE_FILES:-}" ]; then
	for f in clam.exe.2007.one clam.exe.2010.one clam.exe.webapp-export.one; do
		expect_exit 1 "ClamAV's $f" "$VIGIL" scan --no-progress --no-ml \
			--no-default-signatures -d "$scratch/clam.hdb" \
			"$CLAMAV_ONE_FILES/$f"
		expect_grep "!.+: clam.exe FOUND\$" "$out" "$f: clam.exe found"
	done
else
	echo "note: CLAMAV_ONE_FILES not set; ClamAV's own .one files not checked"
fi
finish
