#!/bin/bash
# icap_bundle.sh - srv_vigil serving a signed bundle under
# vigil.TrustedKeys: `vigil update` installs a newer one from a local
# mirror (tests/update_mirror.py) and sends vigil:reload through
# NotifyCicap; the main process and both children serve it. An older
# bundle put in place and reloaded is refused in every process, with
# both versions logged, and the newer one keeps blocking.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/icap_lib.sh"
icap_require

chmod 755 "$scratch"
trust=$scratch/trust db=$scratch/db root=$scratch/mirror
mkdir -p "$trust" "$db" "$root" "$scratch/s1" "$scratch/s2"
chmod 755 "$trust" "$db"
"$VIGIL" sig keygen --secret "$scratch/k.sec" --public "$trust/k.pub" >/dev/null
chmod 644 "$trust/k.pub"
head -c 20000 /dev/urandom >"$scratch/t1.bin"
head -c 30000 /dev/urandom >"$scratch/t2.bin"
chmod 644 "$scratch"/*.bin
echo "$(md5sum <"$scratch/t1.bin" | cut -d' ' -f1):20000:Test.Bundle.One" >"$scratch/s1/one.hdb"
echo "$(md5sum <"$scratch/t2.bin" | cut -d' ' -f1):30000:Test.Bundle.Two" >"$scratch/s2/two.hdb"
B() { "$VIGIL" sig build -o "$root/$1" --version "$2" --key "$scratch/k.sec" \
	"$scratch/s1" ${3:-} >/dev/null || fail "building $1"; }
B v10.vgb 10
B v20.vgb 20 "$scratch/s2"
B v5.vgb 5
cp "$root/v10.vgb" "$db/main.vgb"
chmod 644 "$db/main.vgb"

/usr/bin/python3 "$top_srcdir/tests/update_mirror.py" "$root" "$scratch/port" \
	"$scratch/mirror.log" &
icap_pids+=($!)
for _ in $(seq 100); do [ -s "$scratch/port" ] && break; sleep 0.05; done
[ -s "$scratch/port" ] || { fail "mirror did not start"; finish; }

icap_start "vigil.Database $db" "vigil.TrustedKeys $trust"
expect_grep 'signatures, bundle version 10,' "$(cat "$ICAP_DIR/server.log")" \
	"started with bundle version 10"
icap --file "$scratch/t1.bin" --out "$scratch/out"
expect_blocked "version 10 blocks its target"
icap --file "$scratch/t2.bin"
[ "$(field icap_status)" = 204 ] && ok "version 10 passes the other" ||
	fail "t2 before the update: $reply"

cat >"$scratch/update.conf" <<EOF
DatabaseDirectory $db
TrustedKeys $trust
NotifyCicap $ICAP_DIR/c-icap.ctl
ConnectTimeout 5
ReceiveTimeout 5
MaxAttempts 1
DatabaseMirror http://127.0.0.1:$(cat "$scratch/port")/ok/v20.vgb
EOF
expect_exit 0 "vigil update installs version 20" "$VIGIL" update -c "$scratch/update.conf"
expect_grep "installed version 20 \\(was 10\\)" "$out" "update summary"
# the main process and both children say when they have reloaded
for _ in $(seq 1 100); do
	[ "$(grep -c 'reloaded in .*bundle version 20' "$ICAP_DIR/server.log")" -ge 3 ] && break
	sleep 0.1
done
[ "$(grep -c 'reloaded in .*bundle version 20' "$ICAP_DIR/server.log")" -ge 3 ] &&
	ok "main process and children serve version 20" ||
	fail "not reloaded: $(cat "$ICAP_DIR/server.log")"
for i in 1 2 3 4; do
	icap --file "$scratch/t2.bin" --out "$scratch/out"
	expect_blocked "version 20 blocks the new target ($i)" >/dev/null ||
		fail "new target after the update ($i): $reply"
done
expect_grep 'Test.Bundle.Two' "$(header x-infection-found)" "the new signature names the threat"

cp "$root/v5.vgb" "$db/.new" && chmod 644 "$db/.new" && mv "$db/.new" "$db/main.vgb"
printf 'vigil:reload' >"$ICAP_DIR/c-icap.ctl"
for _ in $(seq 1 100); do
	[ "$(grep -c 'reload failed' "$ICAP_DIR/server.log")" -ge 3 ] && break
	sleep 0.1
done
[ "$(grep -c 'reload failed.*version 5 is older than version 20.*bundle version 20 keeps serving' \
	"$ICAP_DIR/server.log")" -ge 3 ] &&
	ok "the older bundle is refused in every process" ||
	fail "older bundle: $(grep 'reload' "$ICAP_DIR/server.log")"
for i in 1 2 3 4; do
	icap --file "$scratch/t2.bin" --out "$scratch/out"
	expect_blocked "version 20 still blocks ($i)" >/dev/null ||
		fail "after the refused reload ($i): $reply"
done
ok "version 20 keeps blocking after the refusal"
finish
