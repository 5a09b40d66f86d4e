# vigild_lib.sh - start and stop a vigild for a test; source after lib.sh.
# start_vigild writes $scratch/vigild.conf from the default lines below
# plus the test's own ($1, may be empty), starts vigild in the
# foreground and waits for its control socket. The trap stops it.
VIGILD=$top_builddir/vigild
vigild_pid=
# sockets live in a folder every user may enter: tests run clients as nobody
chmod 755 "$scratch"
ctl=$scratch/control.sock
sock=$scratch/clamd.sock

stop_vigild() {
	[ -n "$vigild_pid" ] || return 0
	kill -TERM "$vigild_pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$vigild_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$vigild_pid" 2>/dev/null
	wait "$vigild_pid" 2>/dev/null
	vigild_rc=$?
	vigild_pid=
}
trap 'stop_vigild; rm -rf "$scratch"' EXIT

start_vigild() {
	cat >"$scratch/vigild.conf" <<CONF
Foreground yes
LogSyslog no
LogFile $scratch/vigild.log
EventLogFile $scratch/events.json
ControlSocket $ctl
LocalSocket $sock
ScanWorkers 2
$1
CONF
	"$VIGILD" --config "$scratch/vigild.conf" >"$scratch/vigild.out" 2>&1 &
	vigild_pid=$!
	for _ in $(seq 300); do
		if "$VIGIL" daemon --socket "$ctl" --timeout 1 ping >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$vigild_pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "vigild did not start: $(cat "$scratch/vigild.out")"
	finish
}

# json_field JSON KEY: a number or string of the JSON, by key path a.b
json_field() {
	printf '%s' "$1" | /usr/bin/python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$2"
}
