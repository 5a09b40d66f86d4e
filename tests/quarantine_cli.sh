#!/bin/bash
# quarantine_cli.sh - `vigil scan --action` and `vigil quarantine`:
# quarantine then restore gives back content, owner, mode, times (to
# the nanosecond), extended attributes and ACLs exactly (stat and
# getfattr before and after) for nested directories and odd names
# (spaces, a newline, bytes that are not UTF-8); the vault's payloads
# match nothing for vigil or clamscan; a symbolic link out of the tree
# is never followed; full vault, wrong vault permissions and remove
# without --yes fail clearly and lose nothing; list, show, delete,
# purge, restore --force and --allow.
. "$top_srcdir/tests/lib.sh"

for tool in getfattr setfattr setfacl clamscan; do
	command -v $tool >/dev/null ||
		{ echo "SKIP: $tool not installed (packages attr, acl, clamav)"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (chown, trusted xattrs)"; exit 77; }
clamexe=/usr/share/clamav-testfiles/clam.exe
[ -f "$clamexe" ] || { echo "SKIP: no $clamexe (package clamav-testfiles)"; exit 77; }

cd "$scratch" || exit 1
vault=$scratch/vault
q() { "$VIGIL" quarantine --vault "$vault" "$@"; }

# The tree: detected files in nested directories with odd names, and
# metadata worth keeping on each.
nl='
'
odd=("tree/a b/c d/with space.com" "tree/new${nl}line.com"
     "tree/$(printf 'bad\xff\xfebytes').com" "tree/deep/er/still/eicar.com")
mkdir -p "tree/a b/c d" tree/deep/er/still
for f in "${odd[@]}"; do eicar >"$f"; done
cp "$clamexe" tree/deep/clam.exe
echo "just text" >tree/clean.txt
chown nobody:nogroup "${odd[0]}"
chmod 4751 "${odd[1]}"
setfattr -n user.origin -v "downloaded" "${odd[0]}"
setfattr -n trusted.vigiltest -v 0x00ff10 "${odd[2]}"
setfacl -m u:nobody:rw,g:nogroup:r "${odd[3]}"
touch -d '2001-02-03 04:05:06.123456789' "${odd[0]}" "${odd[3]}"
touch -a -d '1999-12-31 23:59:59.987654321' "${odd[1]}"

# What must come back: content first (reading moves the access time),
# then metadata. vigil reads with O_NOATIME.
snapshot() {
	for f in "${odd[@]}" tree/deep/clam.exe; do
		stat -c '%n|%s|%u|%g|%a|%x|%y' -- "$f"
		getfattr -d -m - -e hex --absolute-names -- "$f" 2>/dev/null |
			grep -v '^# file'
	done
}
sha256sum -- "${odd[@]}" tree/deep/clam.exe >sums.before
snapshot >meta.before
[ "$(grep -c 'user.origin\|trusted.vigiltest\|posix_acl_access' meta.before)" -eq 3 ] &&
	ok "test files carry a user xattr, a trusted xattr and an ACL" ||
	fail "setting up xattrs: $(cat meta.before)"

# remove without --yes is refused before anything is read
expect_exit 2 "--action=remove without --yes is refused" \
	"$VIGIL" scan --action=remove tree
expect_grep "add --yes" "$err" "it says how to confirm"
[ -f "${odd[0]}" ] && ok "nothing removed" || fail "a file went missing"

# quarantine the tree
expect_exit 1 "scan --action=quarantine finds and quarantines" \
	"$VIGIL" scan --action=quarantine --vault "$vault" --json tree
n=$(printf '%s\n' "$out" | grep -c '"action":{"type":"quarantine","done":true,"id":"[0-9a-f]\{16\}"}')
[ "$n" -eq 5 ] && ok "5 files quarantined (JSON action objects)" ||
	fail "$n quarantined: $out $err"
expect_grep '"quarantined":5' "$out" "the summary counts them"
for f in "${odd[@]}" tree/deep/clam.exe; do
	[ ! -e "$f" ] || fail "still in place: $f"
done
[ -f tree/clean.txt ] && ok "the clean file is untouched" || fail "clean file gone"
[ "$(stat -c %a "$vault")" = 700 ] && ok "vault is created 0700" ||
	fail "vault mode $(stat -c %a "$vault")"

# the payloads are inert: no EICAR or clam.exe for vigil, clamscan, grep
expect_exit 0 "vigil scan of the vault finds nothing" "$VIGIL" scan "$vault"
{
	printf '%s:%s:Test.EICAR\n' "$(eicar | md5sum | cut -d' ' -f1)" "$(eicar | wc -c)"
	printf '%s:%s:Test.ClamExe\n' "$(md5sum <"$clamexe" | cut -d' ' -f1)" \
		"$(stat -c %s "$clamexe")"
} >test.hdb
mkdir probe && eicar >probe/e.com && cp "$clamexe" probe/
expect_exit 1 "clamscan with the test signatures finds the originals" \
	clamscan --no-summary -d test.hdb probe
expect_exit 0 "clamscan finds nothing in the vault" \
	clamscan --no-summary -r -d test.hdb "$vault"
grep -rqa 'EICAR-STANDARD' "$vault" && fail "EICAR string in the vault" ||
	ok "no EICAR string in the vault's bytes"

# list and show
expect_exit 0 "quarantine list" q list
[ "$(printf '%s\n' "$out" | grep -c '^[0-9a-f]\{16\}  ')" -eq 5 ] &&
	ok "list shows 5 items, one line each" || fail "list: $out"
expect_grep 'new\\x0aline\.com' "$out" "a newline in a name is escaped"
expect_grep 'bad\\xff\\xfebytes' "$out" "bytes that are not UTF-8 are escaped"
expect_exit 0 "quarantine list --json" q list --json
[ "$(printf '%s\n' "$out" | /usr/bin/python3 -c '
import sys, json, base64
n = 0
for line in sys.stdin:
    r = json.loads(line)
    base64.b64decode(r["path_b64"], validate=True)
    n += r["format"] == "vigil-quarantine-record"
print(n)')" = 5 ] && ok "list --json: 5 records that parse" || fail "list --json: $out"
id=$(printf '%s\n' "$out" | grep 'with space' | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')
expect_exit 0 "quarantine show by prefix" q show "${id:0:6}"
expect_grep "user.origin" "$out" "show lists the xattrs"
expect_grep "Eicar-Test-Signature MALICIOUS" "$out" "show lists the findings"

# restore everything, compare
ids=$(q list | cut -d' ' -f1)
for i in $ids; do q restore "$i" >/dev/null || fail "restore $i"; done
snapshot >meta.after
if cmp -s meta.before meta.after; then
	ok "owner, mode, ns times, xattrs and ACLs round-trip exactly"
else
	fail "metadata differs: $(diff meta.before meta.after)"
fi
sha256sum -c --quiet sums.before && ok "contents round-trip exactly" ||
	fail "contents differ"
expect_exit 0 "the vault is empty after restoring all" q list
[ -z "$out" ] || fail "left in vault: $out"

# restore refuses to overwrite unless forced
"$VIGIL" scan --action=quarantine --vault "$vault" --no-summary "${odd[3]}" >/dev/null
id=$(q list | cut -d' ' -f1)
echo "new content" >"${odd[3]}"
expect_exit 2 "restore onto an existing file is refused" q restore "$id"
expect_grep "exists" "$err" "and says the file exists"
[ "$(cat "${odd[3]}")" = "new content" ] && ok "the existing file is untouched" ||
	fail "existing file changed"
expect_exit 0 "restore --force replaces it" q restore --force "$id"
cmp -s "${odd[3]}" probe/e.com && ok "forced restore has the old bytes" ||
	fail "forced restore content"

# restore --to, --allow: the false positive stays away
"$VIGIL" scan --action=quarantine --vault "$vault" --no-summary "${odd[3]}" >/dev/null
id=$(q list | cut -d' ' -f1)
expect_exit 0 "restore --to --allow" \
	q restore "$id" --to "$scratch/back.com" --allow --allowlist "$scratch/local.sfp"
grep -q "^$(sha256sum <"$scratch/back.com" | cut -d' ' -f1):68:vigil.restored.$id\$" local.sfp &&
	ok "allowlist has the file's SHA-256 and size" || fail "allowlist: $(cat local.sfp)"
expect_exit 0 "a scan with the allowlist no longer finds it" \
	"$VIGIL" scan --allowlist "$scratch/local.sfp" "$scratch/back.com"
expect_exit 1 "without it, it is found again" "$VIGIL" scan --no-allowlist "$scratch/back.com"
chmod 666 local.sfp
expect_exit 2 "a world-writable allowlist is refused" \
	"$VIGIL" scan --allowlist "$scratch/local.sfp" "$scratch/back.com"
chmod 644 local.sfp

# remove with --yes
expect_exit 1 "--action=remove --yes" \
	"$VIGIL" scan --action=remove --yes --no-summary "$scratch/back.com"
expect_grep "Removed\." "$out" "it says Removed."
[ ! -e "$scratch/back.com" ] && ok "the file is gone" || fail "not removed"

# a symbolic link out of the scanned tree is never acted on
mkdir -p outside links
eicar >outside/victim.com
ln -s "$scratch/outside/victim.com" links/file-link.com
ln -s "$scratch/outside" links/dir-link
expect_exit 1 "--follow-symlinks --action=quarantine over links out of the tree" \
	"$VIGIL" scan --follow-symlinks --action=quarantine --vault "$vault" links
expect_grep "not quarantined: .*symbolic link" "$err" "the link is refused"
[ "$(grep -c 'not quarantined' <<<"$err")" -eq 2 ] && ok "both ways in are refused" ||
	fail "refusals: $err"
cmp -s outside/victim.com probe/e.com && [ -L links/file-link.com ] &&
	ok "the file outside and the links are untouched" || fail "something outside changed"
expect_exit 1 "a link named on the command line is not followed either" \
	"$VIGIL" scan --action=remove --yes links/file-link.com
[ -f outside/victim.com ] && ok "its target is still there" || fail "target removed"

# a full vault refuses and leaves the file
eicar >full.com
expect_exit 1 "--vault-max-size too small" \
	"$VIGIL" scan --action=quarantine --vault "$vault" --vault-max-size 100 full.com
expect_grep "not quarantined: vault .* is full" "$err" "it says the vault is full"
[ -f full.com ] && ok "the file stays in place" || fail "file lost on a full vault"

# a vault with the wrong permissions or owner is refused before scanning
chmod 755 "$vault"
expect_exit 2 "a 0755 vault is refused" \
	"$VIGIL" scan --action=quarantine --vault "$vault" full.com
expect_grep "mode 0755; it must be 0700" "$err" "the message names the mode"
chmod 700 "$vault"
chown nobody "$vault"
expect_exit 2 "a vault owned by someone else is refused" q list
expect_grep "owned by uid" "$err" "the message names the owner"
chown root "$vault"
[ -f full.com ] && ok "the file stays in place" || fail "file lost"

# delete and purge
"$VIGIL" scan --action=quarantine --vault "$vault" --no-summary full.com >/dev/null
eicar >p1.com && "$VIGIL" scan --action=quarantine --vault "$vault" p1.com >/dev/null
id=$(q list | head -n 1 | cut -d' ' -f1)
expect_exit 0 "delete" q delete "$id"
expect_exit 2 "purge needs a unit" q purge --older-than 30
expect_exit 0 "purge --older-than 1d keeps a new item" q purge --older-than 1d
expect_grep "Deleted 0 items" "$out" "none deleted"
sleep 1.1
expect_exit 0 "purge --older-than 1s" q purge --older-than 1s
expect_grep "Deleted 1 item\." "$out" "the other one is deleted"
expect_exit 0 "empty vault lists cleanly" q list

finish
