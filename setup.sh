#!/usr/bin/env bash
# setup.sh - set a Debian 12 machine up for vigil, build it, and then
#   ./setup.sh scan PATH...   scan with the built-in signatures and model
#   ./setup.sh test           run the whole test suite (what CI runs)
#   ./setup.sh build          only install and build
# Builds out of tree in ./build (and build-asan, build-fuzz for tests).
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD
jobs=$(nproc 2>/dev/null || echo 2)

# Every Debian package the build, the tests and the benchmarks use.
packages=(
	build-essential autoconf automake libtool pkg-config
	libyara-dev yara libclamav-dev clamav clamav-daemon clamav-testfiles
	libarchive-dev libpcre2-dev libxxhash-dev libssl-dev libjansson-dev
	libsodium-dev libcurl4-openssl-dev
	check clang libclang-rt-14-dev
	python3-xgboost python3-sklearn python3-pefile python3-matplotlib
	hyperfine time p7zip-full zip bc
	libcurl4-openssl-dev libmicrohttpd-dev libsqlite3-dev libhiredis-dev
	redis-server redis-tools wrk sqlite3 curl openssl
	libsystemd-dev clamdscan python3-pyclamd util-linux
	c-icap libicapapi-dev libc-icap-mod-virus-scan squid
	zlib1g-dev libbrotli-dev libzstd-dev brotli zstd
	libsodium-dev attr acl libseccomp-dev
)

install_packages() {
	local missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "setup: installing ${missing[*]}" >&2
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# build DIR [configure args...]: an out-of-tree build in DIR.
build() {
	local dir=$1
	shift
	if [ ! -x configure ] || [ configure.ac -nt configure ]; then
		autoreconf -fi
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/config.status" ] || [ configure -nt "$dir/config.status" ]; then
		(cd "$dir" && "$top/configure" -q "$@")
	fi
	make -C "$dir" -j"$jobs" >/dev/null
}

cmd=${1:-build}
[ $# -gt 0 ] && shift
install_packages
build build
case $cmd in
build) ;;
scan)
	[ $# -gt 0 ] || set -- .
	# the unpacking worker of this build, not an installed one
	VIGIL_UNPACKD=$top/build/vigil-unpackd exec build/vigil scan "$@"
	;;
test) exec "$top/tests/run_all.sh" ;;
*)
	echo "usage: $0 [build | scan PATH... | test]" >&2
	exit 2
	;;
esac
