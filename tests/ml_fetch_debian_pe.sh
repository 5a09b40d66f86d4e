#!/bin/sh
# ml_fetch_debian_pe.sh - fetch the real benign PE files of the Debian
# packages listed in the ML manifest (../shared/data/ml/debian-benign-pe/
# manifest.csv) with `apt-get download`, unpack them with `dpkg-deb -x`
# and check every file's sha256 against the manifest.
#
# usage: ml_fetch_debian_pe.sh [--all|--ci] CACHE_DIR
#   --ci  (default) a representative subset for make check: every
#         package of the manifest except libwine (two ~100 MB packages
#         holding 1,446 of the 1,657 files) and three of the four near-
#         identical gcc-mingw-w64 runtime packages (12 MB each; the i686
#         win32 one stays): 28 packages, ~33 MB, 181 PE files of every
#         kind (mingw DLLs x86/x64, NSIS stubs, EFI images, .NET
#         assemblies, packed ClamAV test files).
#   --all every package, libwine for amd64 and, when the i386
#         architecture is enabled (dpkg --add-architecture i386 &&
#         apt-get update), for i386. Used by training (ml/train.py).
#
# Writes CACHE_DIR/files.csv: package,version,arch,path,local_file,sha256
# for each manifest file found with the right hash. Downloads are cached:
# a second run makes no network access. Needs only Debian apt; exits 77
# (automake's "skip") when apt cannot fetch anything.
# Environment: VIGIL_SHARED (default: ../shared beside the source tree).
set -eu

mode=ci
case "${1:-}" in
--all) mode=all; shift ;;
--ci) shift ;;
esac
cache=${1:?usage: ml_fetch_debian_pe.sh [--all|--ci] CACHE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
shared=${VIGIL_SHARED:-$here/../../shared}
manifest=$shared/data/ml/debian-benign-pe/manifest.csv
[ -r "$manifest" ] || { echo "ml_fetch_debian_pe: no $manifest" >&2; exit 77; }

mkdir -p "$cache/debs" "$cache/root"
cache=$(cd "$cache" && pwd)
have_i386=0
dpkg --print-foreign-architectures 2>/dev/null | grep -qx i386 && have_i386=1

# package,version,arch triples
tail -n +2 "$manifest" | cut -d, -f1-3 | sort -u | while IFS=, read -r pkg ver arch; do
	case "$pkg" in
	libwine | gcc-mingw-w64-x86-64-*-runtime | gcc-mingw-w64-i686-posix-runtime)
		[ "$mode" = all ] || continue ;;
	esac
	if [ "$arch" = i386 ] && [ "$have_i386" = 0 ]; then
		echo "ml_fetch_debian_pe: skipping $pkg:i386 (i386 architecture not enabled)" >&2
		continue
	fi
	spec=$pkg
	[ "$arch" = all ] || spec=$pkg:$arch
	dest=$cache/root/${pkg}_$arch
	[ -f "$dest/.done" ] && continue
	deb=$(ls "$cache/debs/${pkg}_"*"_$arch.deb" 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		(cd "$cache/debs" && apt-get download -q "$spec=$ver" >/dev/null 2>&1) ||
		(cd "$cache/debs" && apt-get download -q "$spec" >/dev/null 2>&1) || {
			echo "ml_fetch_debian_pe: cannot download $spec=$ver" >&2
			continue
		}
		deb=$(ls "$cache/debs/${pkg}_"*"_$arch.deb" 2>/dev/null | head -n 1 || true)
	fi
	[ -n "$deb" ] || continue
	rm -rf "$dest" && mkdir -p "$dest"
	dpkg-deb -x "$deb" "$dest" && touch "$dest/.done"
done

out=$cache/files.csv
echo "package,version,arch,path,local_file,sha256" >"$out.tmp"
tail -n +2 "$manifest" | while IFS=, read -r pkg ver arch path _m _g _s sha _rest; do
	f=$cache/root/${pkg}_$arch$path
	[ -f "$cache/root/${pkg}_$arch/.done" ] && [ -f "$f" ] || continue
	got=$(sha256sum "$f" | cut -d' ' -f1)
	if [ "$got" = "$sha" ]; then
		echo "$pkg,$ver,$arch,$path,$f,$sha" >>"$out.tmp"
	else
		echo "ml_fetch_debian_pe: sha256 differs (newer package?): $pkg $path" >&2
	fi
done
mv "$out.tmp" "$out"
n=$(($(wc -l <"$out") - 1))
echo "ml_fetch_debian_pe: $n PE files in $out"
[ "$n" -gt 0 ] || exit 77
