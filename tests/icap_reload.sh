#!/bin/bash
# icap_reload.sh - "vigil:reload" through c-icap's control pipe: a new
# signature changes the verdict of the next requests in every child, the
# ISTag changes with it, and requests running across the reload all
# succeed. A reload with a broken database keeps the signatures in use.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/icap_lib.sh"
icap_require

head -c 20000 /dev/urandom >"$scratch/target.bin"
head -c 30000 /dev/urandom >"$scratch/other.bin"
chmod 644 "$scratch"/*.bin
icap_start

icap --file "$scratch/target.bin"
[ "$(field icap_status)" = 204 ] && ok "target passes before the reload" ||
	fail "target before reload: $reply"
tag_before=$(header istag)

# requests on persistent connections from 4 threads while we reload
/usr/bin/python3 - "$top_srcdir/tests" "$ICAP_PORT" "$scratch/other.bin" \
	>"$scratch/load.out" 2>&1 <<'EOF' &
import sys, threading, time
sys.path.insert(0, sys.argv[1])
import icap_client
port, body = int(sys.argv[2]), open(sys.argv[3], "rb").read()
stats = {"ok": 0, "bad": 0}
lock = threading.Lock()
def worker():
    c = icap_client.Connection("127.0.0.1", port, "vigil")
    end = time.time() + 3
    n = 0
    while time.time() < end:
        n += 1
        b = body + b"%d-%d" % (threading.get_ident(), n)  # unique: no cache
        try:
            r = c.request("resp", "http://load.test/x", b, allow204=False)
            good = r.status == 200 and r.body == b
            if r.icap_headers.get("connection") == "close":
                c.close()
                c = icap_client.Connection("127.0.0.1", port, "vigil")
        except Exception as e:
            print(e, file=sys.stderr)
            good = False
            c = icap_client.Connection("127.0.0.1", port, "vigil")
        with lock:
            stats["ok" if good else "bad"] += 1
ts = [threading.Thread(target=worker) for _ in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
print("ok=%d bad=%d" % (stats["ok"], stats["bad"]))
EOF
load=$!
sleep 0.5
md5=$(md5sum <"$scratch/target.bin" | cut -d' ' -f1)
echo "$md5:20000:Test.Reload.NewRule" >"$ICAP_DIR/sigs/new.hdb"
chmod 644 "$ICAP_DIR/sigs/new.hdb"
printf 'vigil:reload' >"$ICAP_DIR/c-icap.ctl"
# the main process and both children say when they have reloaded
for _ in $(seq 1 100); do
	[ "$(grep -c 'srv_vigil: reloaded' "$ICAP_DIR/server.log")" -ge 3 ] && break
	sleep 0.1
done
expect_grep 'reloaded in main process' "$(cat "$ICAP_DIR/server.log")" "main process reloaded"
[ "$(grep -c 'srv_vigil: reloaded in child' "$ICAP_DIR/server.log")" -ge 2 ] &&
	ok "both children reloaded" || fail "children did not reload: $(cat "$ICAP_DIR/server.log")"
# new connections land on either child: every one must see the new rule
for i in 1 2 3 4 5 6; do
	icap --file "$scratch/target.bin" --out "$scratch/out"
	expect_blocked "target after the reload ($i)" >/dev/null ||
		fail "target after the reload ($i)"
done
expect_grep 'Test.Reload.NewRule' "$(header x-infection-found)" "the new rule names the threat"
tag_after=$(header istag)
[ -n "$tag_before" ] && [ "$tag_before" != "$tag_after" ] &&
	ok "ISTag changed: $tag_before -> $tag_after" || fail "ISTag did not change: $tag_before"
wait "$load"
load_result=$(cat "$scratch/load.out")
if [[ "$load_result" =~ ok=([0-9]+)\ bad=0 ]] && [ "${BASH_REMATCH[1]}" -gt 10 ]; then
	ok "requests across the reload all succeeded ($load_result)"
else
	fail "requests across the reload: $load_result"
fi

# a broken database: the reload fails, the old signatures stay
echo "this is not a hash line" >"$ICAP_DIR/sigs/broken.hdb"
chmod 644 "$ICAP_DIR/sigs/broken.hdb"
printf 'vigil:reload' >"$ICAP_DIR/c-icap.ctl"
for _ in $(seq 1 100); do
	[ "$(grep -c 'reload failed' "$ICAP_DIR/server.log")" -ge 3 ] && break
	sleep 0.1
done
expect_grep 'reload failed, keeping the loaded signatures: .*broken.hdb' \
	"$(cat "$ICAP_DIR/server.log")" "broken database: reload refused with the file named"
icap --file "$scratch/target.bin" --out "$scratch/out"
expect_blocked "target still blocked after the refused reload"
finish
