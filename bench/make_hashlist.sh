#!/usr/bin/env bash
# make_hashlist.sh [--sized-only] [--count N] OUT.hdb - the benchmark's
# hash list.
#
# Writes a ClamAV .hdb of exactly N (default 100,000) MD5 lines, fed as
# it is to vigil, clamscan and clamd:
#   - the public malware MD5s in ../shared/hashes (or $VIGIL_SHARED/hashes):
#       ClaMP/.../Malware-2722_hash_size_entropy.csv  MD5 with file size
#       signature-base/iocs/hash-iocs.txt             MD5;comment, no size
#       malicious-hash/full-hash-md5-aa.txt           bare MD5, no size
#   - one canary, the MD5 of clam.exe (544 bytes), which every file in
#     clamav-testfiles carries, so the scanners have something to find;
#   - filler: pseudo-random MD5s (the MD5 of "vigil-bench-filler-N") with
#     plausible sizes (log-uniform, 1 KB to 8 MB), up to N lines.
#
# A .hdb line is MD5:SIZE:NAME. The lists without sizes are written with
# ClamAV's wildcard size, MD5:*:NAME:73 (the 73 is the minimum functional
# level that wildcard sizes need; clamscan refuses the line without it).
# --sized-only leaves the sizeless hashes out (more filler instead), for
# a scanner that does not take wildcard sizes.
#
# Duplicates are dropped; the output is the same on every run.
set -euo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/.." && pwd)
shared=${VIGIL_SHARED:-$top/../shared}
sized_only=0
count=100000
while [ $# -gt 1 ]; do
	case $1 in
	--sized-only) sized_only=1 ;;
	--count) count=$2; shift ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 1 ] || { echo "usage: $0 [--sized-only] [--count N] OUT.hdb" >&2; exit 2; }
out=$1
hashes=$shared/hashes
[ -d "$hashes" ] || { echo "make_hashlist: $hashes not found (set VIGIL_SHARED)" >&2; exit 1; }

/usr/bin/python3 - "$hashes" "$out" "$count" "$sized_only" <<'EOF'
import hashlib, math, os, re, sys

hashes, out, count, sized_only = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
md5_re = re.compile(r"^[0-9a-f]{32}$")
lines, seen = [], set()

def add(md5, size, name):
    md5 = md5.strip().lower()
    if not md5_re.match(md5) or md5 in seen or len(lines) >= count:
        return
    if size is None:
        if sized_only:
            return
        lines.append("%s:*:%s:73" % (md5, name))
    else:
        lines.append("%s:%d:%s" % (md5, size, name))
    seen.add(md5)

add("aa15bcf478d165efd2065190eb473bcb", 544, "Bench.Canary.ClamExe")

with open(os.path.join(hashes, "ClaMP/raw-samples-metadata/Malware-2722_hash_size_entropy.csv")) as f:
    for i, row in enumerate(f):
        cols = row.strip().split(",")
        if len(cols) >= 2 and cols[1].isdigit():
            add(cols[0], int(cols[1]), "Bench.ClaMP.%d" % i)

with open(os.path.join(hashes, "signature-base/iocs/hash-iocs.txt"), errors="replace") as f:
    for i, row in enumerate(f):
        if not row.startswith("#"):
            add(row.split(";", 1)[0], None, "Bench.SigBase.%d" % i)

with open(os.path.join(hashes, "malicious-hash/full-hash-md5-aa.txt")) as f:
    for i, row in enumerate(f):
        add(row, None, "Bench.MalHash.%d" % i)

real = len(lines)
n = 0
while len(lines) < count:
    h = hashlib.md5(b"vigil-bench-filler-%d" % n).hexdigest()
    # Sizes spread evenly on a log scale between 1 KB and 8 MB.
    frac = int(h[:8], 16) / 0xFFFFFFFF
    add(h, int(1024 * math.exp(frac * math.log(8192))), "Bench.Filler.%d" % n)
    n += 1

with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print("make_hashlist: %s: %d lines (%d from ../shared/hashes and the canary, %d filler)"
      % (out, len(lines), real, len(lines) - real), file=sys.stderr)
EOF
