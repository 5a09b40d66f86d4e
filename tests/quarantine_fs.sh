#!/bin/bash
# quarantine_fs.sh - actions where the file system says no, in a private
# mount namespace on tmpfs: a scanned tree on a read-only file system, a
# vault on a read-only file system, a vault whose file system fills up.
# Each gives a clear error and loses nothing: the files stay in place
# and the vault keeps no partial item.

# re-run in a private mount namespace, before lib.sh sets its traps
if [ -z "${VIGIL_QFS_IN_NS:-}" ]; then
	if ! unshare -m --propagation private true 2>/dev/null; then
		echo "SKIP: cannot make a mount namespace (unshare -m: needs root)"
		exit 77
	fi
	VIGIL_QFS_IN_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "$top_srcdir/tests/lib.sh"

cd "$scratch" || exit 1
trap 'cd /; umount -l "$scratch"/ro "$scratch"/rovault "$scratch"/small 2>/dev/null; rm -rf "$scratch"' EXIT
mkdir ro rovault small
mount -t tmpfs -o size=4m tmpfs ro || { echo "SKIP: cannot mount tmpfs"; exit 77; }

# 1. the scanned tree is read-only
mkdir -p ro/tree/sub
eicar >ro/tree/a.com
eicar >ro/tree/sub/b.com
mount -o remount,ro ro || { echo "SKIP: cannot remount read-only"; exit 77; }
expect_exit 1 "quarantine on a read-only tree" \
	"$VIGIL" scan --action=quarantine --vault "$scratch/vault" ro/tree
[ "$(grep -c 'not quarantined: .*Read-only file system' <<<"$err")" -eq 2 ] &&
	ok "both files: not quarantined, read-only file system" || fail "stderr: $err"
[ -f ro/tree/a.com ] && [ -f ro/tree/sub/b.com ] && ok "both files in place" ||
	fail "a file went missing"
expect_exit 0 "the vault lists cleanly" "$VIGIL" quarantine --vault "$scratch/vault" list
[ -z "$out" ] && ok "and holds no item" || fail "vault: $out"
expect_exit 1 "remove on a read-only tree" \
	"$VIGIL" scan --action=remove --yes ro/tree
expect_grep "not removed: .*Read-only file system" "$err" "remove says why"
[ -f ro/tree/a.com ] && ok "still in place" || fail "a file went missing"

# 2. the vault is read-only
mount -t tmpfs -o size=4m,mode=0700 tmpfs rovault
"$VIGIL" quarantine --vault "$scratch/rovault/q" list >/dev/null ||
	fail "could not make the vault"
mount -o remount,ro rovault
mkdir tree2 && eicar >tree2/c.com
expect_exit 1 "quarantine into a read-only vault" \
	"$VIGIL" scan --action=quarantine --vault "$scratch/rovault/q" tree2
expect_grep "not quarantined: vault .*Read-only file system" "$err" \
	"it says the vault is read-only"
[ -f tree2/c.com ] && ok "the file stays in place" || fail "file lost"

# 3. the vault's file system fills up mid-item
mount -t tmpfs -o size=64k,mode=0700 tmpfs small
head -c 262144 /dev/urandom >tree2/big.bin
printf '%s:262144:Test.Big\n' "$(sha256sum <tree2/big.bin | cut -d' ' -f1)" >big.hsb
sum=$(sha256sum <tree2/big.bin)
expect_exit 1 "quarantine into a vault that fills up" \
	"$VIGIL" scan --action=quarantine --vault "$scratch/small/q" -d big.hsb \
	tree2/big.bin
expect_grep "not quarantined: vault .*no space left" "$err" "it says the disk is full"
[ "$(sha256sum <tree2/big.bin)" = "$sum" ] && ok "the file stays in place, intact" ||
	fail "file lost or changed"
left=$(ls -A small/q)
[ "$left" = "$(printf 'key\nlock')" ] && ok "no partial item left in the vault" ||
	fail "vault holds: $left"

finish
