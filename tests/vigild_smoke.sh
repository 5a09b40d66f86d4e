#!/bin/sh
# vigild_smoke.sh - vigild starts, serves its control socket (root only
# by default), reloads, keeps the old signatures when a reload fails,
# reloads on SIGHUP and stops cleanly on SIGTERM.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/vigild_lib.sh"

mkdir "$scratch/db"
# a signature folder must yield a signature (as clamd, vigild refuses an
# empty one): one that matches nothing here
printf '%s:9:Test.Placeholder\n' "$(printf placeholder | md5sum | cut -c1-32)" \
	>"$scratch/db/placeholder.hdb"
start_vigild "DatabaseDirectory $scratch/db"

expect_exit 0 "daemon ping" "$VIGIL" daemon --socket "$ctl" ping
expect_grep '^PONG$' "$out" "ping answers PONG"
expect_exit 0 "daemon status" "$VIGIL" daemon --socket "$ctl" status
[ "$(json_field "$out" generation)" = 1 ] && ok "generation 1" || fail "status: $out"
[ "$(json_field "$out" workers)" = 2 ] && ok "2 workers" || fail "status: $out"
sigs=$(json_field "$out" signatures)

# a scan worker per ScanWorkers, not running as root
workers=$(pgrep -P "$(pgrep -f -- "--engine-process 3 --config $scratch/vigild.conf" | head -n 1)" | wc -l)
[ "$workers" -eq 2 ] && ok "two worker processes" || fail "$workers worker processes"
for w in $(pgrep -u nobody -f -- "--config $scratch/vigild.conf"); do
	found_nobody=1
done
[ -n "${found_nobody:-}" ] && ok "workers run as nobody" || fail "no worker runs as nobody"

# a new signature file is picked up by a reload
printf '44d88612fea8a8f36de82e1278abb02f:68:Test.Reload\n' >"$scratch/db/t.hdb"
expect_exit 0 "daemon reload" "$VIGIL" daemon --socket "$ctl" reload
expect_grep '^RELOADED generation 2 serving' "$out" "reload reports the new generation"
"$VIGIL" daemon --socket "$ctl" status >"$scratch/st"
[ "$(json_field "$(cat "$scratch/st")" signatures)" -eq $((sigs + 1)) ] &&
	ok "one more signature after reload" || fail "status after reload: $(cat "$scratch/st")"

# a broken file: the reload fails, says why, the old engine serves
printf 'not a signature line\n' >"$scratch/db/bad.hdb"
expect_exit 2 "failed reload exits 2" "$VIGIL" daemon --socket "$ctl" reload
expect_grep '^ERROR .*bad.hdb' "$out" "failed reload names the file"
"$VIGIL" daemon --socket "$ctl" status >"$scratch/st"
[ "$(json_field "$(cat "$scratch/st")" generation)" = 2 ] &&
	ok "generation 2 still serves" || fail "status: $(cat "$scratch/st")"
rm "$scratch/db/bad.hdb"

# SIGHUP takes the same path
kill -HUP "$vigild_pid"
for _ in $(seq 100); do
	g=$(json_field "$("$VIGIL" daemon --socket "$ctl" status)" generation)
	[ "$g" = 3 ] && break
	sleep 0.1
done
[ "$g" = 3 ] && ok "SIGHUP reloads" || fail "generation $g after SIGHUP"
old_engines=$(pgrep -P "$vigild_pid" -f -- "--engine-process" | wc -l)
[ "$old_engines" -eq 1 ] && ok "old engine processes are gone" ||
	fail "$old_engines engine processes"

# root only: nobody is refused by vigild itself (SO_PEERCRED), even
# when the socket's mode would let anyone connect
chmod 666 "$ctl"
expect_exit 2 "nobody is refused" setpriv --reuid=nobody --regid=nogroup \
	--clear-groups "$VIGIL" daemon --socket "$ctl" stats
expect_grep "^ERROR permission denied" "$out" "refusal says why (stderr: $err)"
expect_exit 0 "stats" "$VIGIL" daemon --socket "$ctl" stats
[ "$(json_field "$out" control.refused)" -ge 1 ] && ok "refusal counted" ||
	fail "stats: $out"

stop_vigild
[ "$vigild_rc" -eq 0 ] && ok "SIGTERM: exit 0" || fail "exit status $vigild_rc"
[ ! -e "$ctl" ] && ok "control socket removed" || fail "control socket left"
pgrep -f -- "--config $scratch/vigild.conf" >/dev/null &&
	fail "vigild processes left" || ok "no process left"
grep -q 'vigild stopped' "$scratch/vigild.log" && ok "LogFile written" ||
	fail "log: $(cat "$scratch/vigild.log")"

# without its unpacking worker vigild does not start: it would otherwise
# answer every scan with an error and let files through
VIGIL_UNPACKD=$scratch/no-such-helper timeout 30 "$VIGILD" --foreground \
	--config "$scratch/vigild.conf" >"$scratch/nohelper.out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && ok "no helper: vigild refuses to start (exit $rc)" ||
	fail "no helper: exit $rc: $(cat "$scratch/nohelper.out")"
grep -q 'no-such-helper: cannot run the unpacking worker' "$scratch/nohelper.out" \
	"$scratch/vigild.log" && ok "no helper: the reason is said" ||
	fail "no helper: reason not said: $(cat "$scratch/nohelper.out")"
[ ! -e "$ctl" ] && ok "no helper: no control socket left" || fail "control socket left"
finish
