#!/bin/sh
# api_sync.sh - the public API, the shared library and the man page stay
# in step: every function vigil.h declares is exported and documented,
# and the library exports nothing else.
. "$top_srcdir/tests/lib.sh"

headers="$top_srcdir/include/vigil/vigil.h $top_srcdir/include/vigil/ml.h $top_srcdir/include/vigil/bundle.h"
lib="$top_builddir/.libs/libvigil.so"
man="$top_srcdir/doc/libvigil.3"

declared=$(sed -n 's/^VIGIL_API[^(]*[ *]\(vigil_[a-z0-9_]*\)(.*/\1/p' $headers | sort -u)
[ -n "$declared" ] || fail "no VIGIL_API functions found in the public headers"
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u)

for f in $declared; do
	printf '%s\n' "$exported" | grep -qx "$f" || fail "$f is declared but not exported"
	grep -q "$f" "$man" || fail "$f is not documented in doc/libvigil.3"
done
for s in $exported; do
	case $s in
	vigil_*) printf '%s\n' "$declared" | grep -qx "$s" ||
		fail "$s is exported but not declared in a public header" ;;
	_init | _fini | _edata | _end | __bss_start) ;;
	*) fail "$s leaks out of libvigil.so" ;;
	esac
done
ok "$(printf '%s\n' "$declared" | wc -l) API functions exported and documented"
finish
