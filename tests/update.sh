#!/bin/sh
# update.sh - `vigil update` against a local mirror (tests/update_mirror.py,
# python3's http.server on a free loopback port): a fresh install, up to
# date through the ETag, an older bundle, garbage, an untrusted key, a
# mirror down and one cut mid-download (resumed next time), rollback and
# the version it skips, the size cap, notifications, and 20 SIGKILLs of
# `vigil update` at random instants, each leaving a valid bundle.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

mirror_pid= listener_pid=
cleanup() {
	[ -n "$mirror_pid" ] && kill "$mirror_pid" 2>/dev/null
	[ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null
	rm -rf "$scratch"
}
trap cleanup EXIT

root=$scratch/mirror trust=$scratch/trust
mkdir -p "$root" "$trust" "$scratch/v1" "$scratch/v2" "$scratch/v3"
"$VIGIL" sig keygen --secret "$scratch/k.sec" --public "$trust/k.pub" >/dev/null
"$VIGIL" sig keygen --secret "$scratch/o.sec" --public "$scratch/o.pub" >/dev/null
# some weight, so a download takes a while on the slow mirror
python3 - "$scratch/v1/bulk.hdb" <<'PY'
import hashlib, sys
with open(sys.argv[1], "w") as f:
    for i in range(6000):
        f.write("%s:%d:Test.Bulk.%d\n" % (hashlib.md5(b"bulk%d" % i).hexdigest(), 1000 + i, i))
PY
printf 'rule V2Marker { strings: $a = "vigil-v2-marker" condition: $a }\n' \
	>"$scratch/v2/v2.yar"
printf 'rule V3Marker { strings: $a = "vigil-v3-marker" condition: $a }\n' \
	>"$scratch/v3/v3.yar"
B() { "$VIGIL" sig build -o "$root/$1" --version "$2" --key "$3" \
	"$scratch/v1" ${4:-} >/dev/null || fail "building $1"; }
B old.vgb 5 "$scratch/k.sec"
B v1.vgb 10 "$scratch/k.sec"
B v2.vgb 20 "$scratch/k.sec" "$scratch/v2"
B v3.vgb 30 "$scratch/k.sec" "$scratch/v3"
B untrusted.vgb 40 "$scratch/o.sec" "$scratch/v3"
echo 'a file with vigil-v2-marker' >"$scratch/v2.txt"

python3 "$top_srcdir/tests/update_mirror.py" "$root" "$scratch/port" \
	"$scratch/mirror.log" &
mirror_pid=$!
for _ in $(seq 100); do [ -s "$scratch/port" ] && break; sleep 0.05; done
[ -s "$scratch/port" ] || { fail "mirror did not start"; finish; }
url=http://127.0.0.1:$(cat "$scratch/port")

db=$scratch/db
mkdir -p "$db"
# conf DIR EXTRA-LINES MIRROR...: the configuration
conf() {
	local dir=$1 extra=$2
	shift 2
	{
		echo "# test configuration"
		echo "DatabaseDirectory $dir"
		echo "TrustedKeys $trust"
		echo "ConnectTimeout 5"
		echo "ReceiveTimeout 5"
		echo "MaxAttempts 1"
		printf '%s\n' "$extra"
		for m in "$@"; do echo "DatabaseMirror $url/$m"; done
	} >"$scratch/update.conf"
}
U() { "$VIGIL" update -c "$scratch/update.conf" "$@"; }
# installed DIR VERSION: a valid bundle of that version is installed
installed() {
	local got
	got=$("$VIGIL" sig verify --trust "$trust" "$1/main.vgb" 2>&1)
	case $got in
	*"OK (version $2,"*) return 0 ;;
	*) echo "installed: $got" >&2; return 1 ;;
	esac
}

conf "$db" "NotifyCommand echo \"\$VIGIL_BUNDLE_VERSION \$VIGIL_BUNDLE\" >>$scratch/notify.log" ok/v1.vgb
expect_exit 0 "fresh install" U
expect_grep "^vigil update: installed version 10 \(was 0\) from $url/ok/v1.vgb\$" "$out" "summary line"
installed "$db" 10 && ok "version 10 installed" || fail "version 10 not installed"
expect_grep "^10 $db/main.vgb\$" "$(cat "$scratch/notify.log")" "NotifyCommand ran"

expect_exit 1 "second run: up to date" U
expect_grep "^vigil update: up to date \(version 10\)\$" "$out" "up-to-date line"
[ "$(wc -l <"$scratch/notify.log")" -eq 1 ] && ok "no notification when nothing changed" ||
	fail "notified without a change"
n304=$(grep -c '^ok v1.vgb' "$scratch/mirror.log")
[ "$n304" -eq 2 ] && ok "asked the mirror twice" || fail "mirror log: $n304 requests"

conf "$db" "" ok/old.vgb
expect_exit 2 "an older bundle is refused" U
expect_grep "offers version 5, older than version 10 installed" "$err" "rollback message"
installed "$db" 10 && ok "still version 10" || fail "older bundle took over"

conf "$db" "" garbage/v2.vgb ok/v2.vgb
expect_exit 0 "garbage from one mirror, the next one serves" U
expect_grep "garbage/v2.vgb: refused: not a vigil bundle" "$err" "garbage named"
installed "$db" 20 && ok "version 20 installed" || fail "version 20 not installed"
"$VIGIL" sig verify --trust "$trust" "$db/main.vgb.prev" | grep -q "version 10," &&
	ok "previous bundle kept" || fail "no previous bundle"
expect_exit 1 "the new bundle's rule applies" "$VIGIL" scan --no-summary \
	--trust "$trust" -d "$db" "$scratch/v2.txt"
expect_grep "v2:V2Marker FOUND" "$out" "found with the installed bundle"

conf "$db" "" garbage/v3.vgb
expect_exit 2 "garbage only" U
installed "$db" 20 && ok "garbage leaves version 20" || fail "garbage changed the bundle"
conf "$db" "" ok/untrusted.vgb
expect_exit 2 "untrusted key refused" U
expect_grep "not in the trust store" "$err" "untrusted message"
conf "$db" "" down/v3.vgb
expect_exit 2 "mirror down" U
installed "$db" 20 && ok "mirror down leaves version 20" || fail "changed by a dead mirror"

conf "$db" "" cut/v3.vgb
expect_exit 2 "download cut in the middle" U
installed "$db" 20 && ok "a cut download leaves version 20" || fail "cut changed the bundle"
[ -s "$db/.main.vgb.part" ] && ok "partial download kept" || fail "no partial download"
have=$(wc -c <"$db/.main.vgb.part")
conf "$db" "" ok/v3.vgb
expect_exit 0 "the next run resumes" U
grep -q "^ok v3.vgb bytes=$have-\$" "$scratch/mirror.log" &&
	ok "resumed at byte $have" || fail "no Range request: $(tail -n 2 "$scratch/mirror.log")"
installed "$db" 30 && ok "version 30 installed" || fail "resumed download broken"

expect_exit 0 "rollback" U --rollback
expect_grep "rolled back to version 20 \(from 30\)" "$out" "rollback line"
installed "$db" 20 && ok "version 20 back" || fail "rollback did not install 20"
expect_exit 1 "a rolled-back version is not reinstalled" U
expect_grep "version 30 was rolled back" "$err" "skip message"
expect_exit 0 "--force reinstalls it" U --force
installed "$db" 30 && ok "version 30 again" || fail "--force did not install"

mkdir "$scratch/db2"
conf "$scratch/db2" "MaxBundleSize 8K" ok/v1.vgb
expect_exit 2 "size cap" U
expect_grep "larger than MaxBundleSize" "$err" "size cap message"
[ ! -e "$scratch/db2/main.vgb" ] && ok "nothing installed" || fail "installed past the cap"

# NotifyClamd: clamd's RELOAD on a unix socket, and a socket nobody serves
python3 - "$scratch/clamd.sock" "$scratch/clamd.got" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
open(sys.argv[2], "wb").write(c.recv(64))
c.sendall(b"RELOADING\n"); c.close()
PY
listener_pid=$!
for _ in $(seq 100); do [ -S "$scratch/clamd.sock" ] && break; sleep 0.05; done
# NotifyCicap: c-icap's control FIFO, held open for reading here
mkfifo "$scratch/c-icap.ctl"
python3 - "$scratch/c-icap.ctl" "$scratch/cicap.got" <<'PY' &
import os, select, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
open(sys.argv[2] + ".ready", "w").close()
got = b""
while select.select([fd], [], [], 10)[0]:
    chunk = os.read(fd, 64)
    if not chunk:
        break
    got += chunk
open(sys.argv[2], "wb").write(got)
PY
cat_pid=$!
for _ in $(seq 100); do [ -e "$scratch/cicap.got.ready" ] && break; sleep 0.05; done
conf "$scratch/db2" "NotifyClamd $scratch/clamd.sock
NotifyCicap $scratch/c-icap.ctl" ok/v1.vgb
expect_exit 0 "NotifyClamd answered RELOADING, NotifyCicap written" U
[ "$(tr '\0' '@' <"$scratch/clamd.got")" = "zRELOAD@" ] && ok "sent zRELOAD" ||
	fail "sent: $(od -c "$scratch/clamd.got")"
wait "$listener_pid" 2>/dev/null
listener_pid=
wait "$cat_pid" 2>/dev/null
[ "$(cat "$scratch/cicap.got")" = "vigil:reload" ] && ok "wrote vigil:reload to c-icap" ||
	fail "c-icap got: $(cat "$scratch/cicap.got")"
conf "$scratch/db2" "NotifyClamd $scratch/nobody.sock" ok/v2.vgb
expect_exit 3 "installed, but a scanner could not be told" U
installed "$scratch/db2" 20 && ok "installed anyway" || fail "not installed"

# SIGKILL at random instants of a slow download: always a valid bundle
mkdir "$scratch/dbk"
cp "$root/v1.vgb" "$scratch/dbk/main.vgb"
conf "$scratch/dbk" "" slow/v2.vgb
kills=0 resumed=0 runs=0
while [ "$kills" -lt 20 ] && [ "$runs" -lt 60 ]; do
	runs=$((runs + 1))
	if installed "$scratch/dbk" 20 2>/dev/null; then
		cp "$root/v1.vgb" "$scratch/dbk/main.vgb.new" &&
			mv "$scratch/dbk/main.vgb.new" "$scratch/dbk/main.vgb"
		rm -f "$scratch/dbk/.main.vgb.state"
	fi
	[ -s "$scratch/dbk/.main.vgb.part" ] && resumed=$((resumed + 1))
	"$VIGIL" update -c "$scratch/update.conf" >/dev/null 2>&1 &
	pid=$!
	sleep "0.$(shuf -i 0-30 -n 1 | xargs printf '%02d')"
	kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
	wait "$pid" 2>/dev/null
	if installed "$scratch/dbk" 10 2>/dev/null || installed "$scratch/dbk" 20; then :
	else fail "run $runs left no valid bundle"; fi
done
[ "$kills" -ge 20 ] && ok "$kills runs killed at random instants, a valid bundle after each ($runs runs, $resumed resumed a partial)" ||
	fail "only $kills of $runs runs were still alive to kill"
cp "$root/v1.vgb" "$scratch/dbk/main.vgb.new" &&
	mv "$scratch/dbk/main.vgb.new" "$scratch/dbk/main.vgb"
rm -f "$scratch/dbk/.main.vgb.state"
expect_exit 0 "after the kills, an update completes" U
installed "$scratch/dbk" 20 && ok "version 20 after the kills" || fail "no version 20"

finish
