#!/usr/bin/env bash
# make_corpus.sh [DIR] [SIZE_MB] - build the benchmark corpus.
#
# A mixed tree of about SIZE_MB (default 750) megabytes in DIR (default
# build/bench-corpus under the repository top):
#   files/      real regular files copied from /usr/bin, /usr/lib and
#               /usr/share (about 82 % of the bytes)
#   archives/   zip, tar.gz, tar.xz and (when 7z is installed) 7z archives
#               of other /usr files, plus a few nested ones (zip holding a
#               tar.gz), about 17 % of the bytes on disk
#   clamav-testfiles/  Debian's clamav-testfiles, every file carrying
#               the same clam.exe
#
# The selection is deterministic: the same /usr gives the same corpus.
# Files are drawn in a fixed pseudo-random order (the MD5 of each path),
# which spreads the sample over the whole tree without favouring small or
# large files; files over a size cap are skipped so that one huge library
# cannot dominate. Archive inputs get a fixed mtime and are packed
# in a fixed order, so the archives come out byte for byte the same.
#
# DIR is removed and rebuilt. Never commit a corpus.
set -euo pipefail
export LC_ALL=C TZ=UTC

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build/bench-corpus}
size_mb=${2:-750}
testfiles=${CLAMAV_TESTFILES:-/usr/share/clamav-testfiles}

case $size_mb in
'' | *[!0-9]*) echo "make_corpus: SIZE_MB must be a whole number" >&2; exit 2 ;;
esac
[ "$size_mb" -ge 2 ] || { echo "make_corpus: SIZE_MB must be at least 2" >&2; exit 2; }
for tool in zip tar gzip xz /usr/bin/python3; do
	command -v "$tool" >/dev/null || { echo "make_corpus: $tool is missing" >&2; exit 1; }
done

# Refuse to wipe something that is not a corpus we made.
if [ -e "$dir" ] && [ ! -f "$dir/.vigil-bench-corpus" ] &&
	[ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
	echo "make_corpus: $dir exists and is not a bench corpus; not touching it" >&2
	exit 1
fi
rm -rf "$dir"
mkdir -p "$dir/files" "$dir/archives"
# The marker says the folder is ours; "complete" is written last.
echo building >"$dir/.vigil-bench-corpus"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Budgets in bytes.
total=$((size_mb * 1000 * 1000))
plain=$((total * 82 / 100))
arch=$((total * 17 / 100))
# Per-file cap: 8 MB, or less for a small corpus.
cap=$((total / 50))
[ "$cap" -le 8388608 ] || cap=8388608
# Uncompressed bytes per archive.
chunk=$((arch / 4))
[ "$chunk" -le 8000000 ] || chunk=8000000

# Select plain files and archive inputs: NUL-separated lists in $work.
/usr/bin/python3 - "$work" "$plain" "$arch" "$cap" "$testfiles" "$chunk" <<'EOF'
import hashlib, os, stat, sys

work, plain, arch, cap, skip = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
chunk = int(sys.argv[6])
# Share of the plain budget per source tree.
sources = [("/usr/bin", 0.25), ("/usr/lib", 0.50), ("/usr/share", 0.25)]

def walk(top):
    """Regular, readable files under top, sorted, with their sizes."""
    out = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        if root == skip or root.startswith(skip + "/"):
            continue
        for name in sorted(files):
            p = os.path.join(root, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode) or st.st_size > cap:
                continue
            if "\n" in p or not os.access(p, os.R_OK):
                continue
            out.append((p, st.st_size))
    out.sort()
    return out

def key(ps):
    return hashlib.md5(os.fsencode(ps[0])).hexdigest()

# A fixed pseudo-random order (by the MD5 of each path) draws a sample
# that is spread over the whole tree and not biased to small or large
# files; the first files of that order fill the plain budget, the next
# ones the archive inputs (about four times what the archives should
# hold on disk: they compress).
chosen, spare = [], []
for top, share in sources:
    want_p, want_a = plain * share, 4 * arch * share
    took_p = took_a = 0
    for p, s in sorted(walk(top), key=key):
        if took_p + s <= want_p:
            took_p += s
            chosen.append(p)
        elif took_a + s <= want_a:
            took_a += s
            spare.append((p, s))
        elif took_p >= 0.999 * want_p and took_a >= 0.999 * want_a:
            break

# Archive inputs shuffled again, so each archive mixes the trees, and cut
# into chunks of about `chunk` bytes: one NUL-separated list each.
spare.sort(key=key)
chosen.sort()
with open(os.path.join(work, "plain.list"), "wb") as f:
    for p in chosen:
        f.write(os.fsencode(p) + b"\0")
n, size, out = 0, 0, None
for p, s in spare:
    if out is None:
        out = open(os.path.join(work, "chunk.%05d" % n), "wb")
    out.write(os.fsencode(p) + b"\0")
    size += s
    if size >= chunk:
        out.close()
        out, size, n = None, 0, n + 1
if out is not None:
    out.close()
EOF

echo "make_corpus: copying plain files into $dir/files" >&2
xargs -0 -r cp --parents -t "$dir/files" <"$work/plain.list"

# pack N FORMAT: pack $work/stage into $dir/archives/NNN.FORMAT.
pack() {
	local n=$1 fmt=$2 out
	out=$(printf '%s/archives/%03d.%s' "$dir" "$n" "$fmt")
	find "$work/stage" -exec touch -h -d @946684800 {} +
	case $fmt in
	zip) (cd "$work/stage" && find . -type f | sort | zip -X -q -@ "$out") ;;
	tar.gz | tar.xz)
		local z="gzip -n"
		[ "$fmt" = tar.xz ] && z="xz -T1 -6"
		tar -C "$work/stage" --sort=name --mtime=@946684800 --owner=0 \
			--group=0 --numeric-owner -cf - . | $z >"$out"
		;;
	7z) (cd "$work/stage" && 7z a -bd -bso0 -bsp0 -mmt=1 "$out" usr >/dev/null) ;;
	nested.zip)
		# A tar.gz inside a zip: depth two.
		tar -C "$work/stage" --sort=name --mtime=@946684800 --owner=0 \
			--group=0 --numeric-owner -cf - . | gzip -n >"$work/inner.tar.gz"
		touch -d @946684800 "$work/inner.tar.gz"
		(cd "$work" && zip -X -q "$out" inner.tar.gz)
		rm -f "$work/inner.tar.gz"
		;;
	esac
}

formats=(zip tar.gz tar.xz)
command -v 7z >/dev/null && formats+=(7z)
formats+=(nested.zip)

echo "make_corpus: packing archives into $dir/archives" >&2
n=0 on_disk=0
for list in "$work"/chunk.*; do
	[ -f "$list" ] && [ "$on_disk" -lt "$arch" ] || break
	rm -rf "$work/stage"
	mkdir -p "$work/stage"
	xargs -0 -r cp --parents -t "$work/stage" <"$list"
	pack "$n" "${formats[n % ${#formats[@]}]}"
	on_disk=$(du -sb "$dir/archives" | cut -f1)
	n=$((n + 1))
done
rm -rf "$work/stage"

if [ -d "$testfiles" ]; then
	cp -r "$testfiles" "$dir/clamav-testfiles"
else
	echo "make_corpus: $testfiles missing (install clamav-testfiles)" >&2
fi

echo complete >"$dir/.vigil-bench-corpus"
files=$(find "$dir" -type f ! -name .vigil-bench-corpus | wc -l)
bytes=$(find "$dir" -type f ! -name .vigil-bench-corpus -printf '%s\n' | awk '{s += $1} END {print s + 0}')
echo "make_corpus: $dir: $files files, $((bytes / 1000000)) MB ($n archives)" >&2
