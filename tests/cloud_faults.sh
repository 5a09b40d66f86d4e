#!/bin/sh
# cloud_faults.sh - the cloud client when the service fails: a server
# that never answers, one that answers 500, one killed mid-request.
# Every scan ends within the deadline plus a small margin with the
# policy's verdict, and the circuit breaker opens after K failures,
# stays open (no requests reach the server), probes after T and closes.
. "$top_srcdir/tests/cloud_lib.sh"

mode=$scratch/mode
count=$scratch/count
echo ok >"$mode"
/usr/bin/python3 "$top_srcdir/tests/cloud_fault_server.py" "$scratch/fport" \
	"$mode" "$count" 2>"$scratch/fault.err" &
fault_pid=$!
pids="$pids $fault_pid"
wait_for "$scratch/fport" || { fail "fault server did not start"; finish; }
url=http://127.0.0.1:$(cat "$scratch/fport")
requests() { cat "$count" 2>/dev/null || echo 0; }

for i in 1 2 3 4 5 6 7 8; do
	printf '#!/bin/sh\necho fault %s %s\n' "$i" "$$" >"$scratch/f$i.sh"
done
# scan_ms LINE: the scan's time in ms from a cloud_probe line
scan_ms() { echo "$1" | awk '{ print int($3 / 1000) }'; }
# Margin over the deadline: the machine is shared and may be loaded.
margin=150

# --- healthy: an unknown answer, no failure note --------------------------------
expect_exit 0 "healthy server" "$PROBE" set "url=$url" scan "$scratch/f1.sh"
expect_grep "f1.sh CLEAN [0-9]+\$" "$out" "unknown: CLEAN, no finding"

# --- never answers --------------------------------------------------------------
echo hang >"$mode"
expect_exit 0 "hanging server, policy open" "$PROBE" set "url=$url" \
	set timeout_ms=200 scan "$scratch/f2.sh"
expect_grep 'f2.sh CLEAN .*Cloud.LookupFailed\[cloud lookup failed: .*policy open' "$out" \
	"open: CLEAN with the failure noted"
t=$(scan_ms "$out")
[ "$t" -lt $((200 + margin)) ] && ok "ended after $t ms (deadline 200)" ||
	fail "took $t ms past a 200 ms deadline"
expect_exit 0 "hanging server, policy closed" "$PROBE" set "url=$url" \
	set timeout_ms=100 set policy=closed scan "$scratch/f3.sh"
expect_grep 'f3.sh INCOMPLETE .*Cloud.LookupFailed\[.*policy closed' "$out" \
	"closed: INCOMPLETE"
t=$(scan_ms "$out")
[ "$t" -lt $((100 + margin)) ] && ok "ended after $t ms (deadline 100)" ||
	fail "took $t ms past a 100 ms deadline"
start=$(date +%s%N)
expect_exit 3 "vigil scan --cloud-policy closed" "$VIGIL" scan --no-summary \
	--cloud "$url" --cloud-timeout 0.1 --cloud-policy closed "$scratch/f4.sh"
expect_grep 'f4.sh: Cloud.LookupFailed INCOMPLETE' "$out" "the CLI reports it"
t=$((($(date +%s%N) - start) / 1000000))
cli_ms=1500 # the CLI's whole start and end, not only the lookup
sanitized && cli_ms=6000
[ "$t" -lt $cli_ms ] && ok "the CLI run took $t ms" ||
	fail "the CLI run took $t ms, wanted under $cli_ms"

# --- 500 and the breaker ------------------------------------------------------------
echo 500 >"$mode"
r0=$(requests)
expect_exit 0 "breaker" "$PROBE" set "url=$url" set breaker_failures=3 \
	set breaker_retry_ms=400 set batch_wait_ms=0 \
	scan "$scratch/f1.sh" scan "$scratch/f2.sh" scan "$scratch/f3.sh" stats \
	scan "$scratch/f4.sh" stats sleep 500 \
	scan "$scratch/f5.sh" stats sleep 500 \
	scan "$scratch/f6.sh" \
	scan "$scratch/f7.sh" scan "$scratch/f8.sh" stats
printf '%s\n' "$out" >"$scratch/breaker.out"
expect_grep 'f1.sh CLEAN .*HTTP 500' "$out" "500: CLEAN under the open policy"
expect_grep 'breaker_opens=1 breaker_state=1' "$(sed -n 4p "$scratch/breaker.out")" \
	"opens after 3 failures"
expect_grep 'f4.sh CLEAN .*circuit open' "$out" "open: answered without asking"
expect_grep 'requests=3 ' "$(sed -n 6p "$scratch/breaker.out")" "no request while open"
expect_grep 'requests=4 .*breaker_opens=2 breaker_state=1' \
	"$(sed -n 8p "$scratch/breaker.out")" "the failed probe opens it again"
# the service recovers before the next probe
echo ok >"$mode"
r1=$(requests)
# f1-f3 fail, f4 meets the open breaker, f5 and f6 are failed probes
# 500 ms apart, f7 and f8 meet the open breaker again
expect_grep 'requests=5 .*breaker_opens=3 breaker_state=1' \
	"$(sed -n 12p "$scratch/breaker.out")" "one probe per retry period"
[ $((r1 - r0)) -eq 5 ] && ok "the server saw 3 requests and 2 probes" ||
	fail "the server saw $((r1 - r0)) requests"
expect_exit 0 "recovery" "$PROBE" set "url=$url" set breaker_failures=1 \
	set breaker_retry_ms=300 set batch_wait_ms=0 \
	scan "$scratch/f1.sh" stats sleep 400 scan "$scratch/f2.sh" stats \
	scan "$scratch/f3.sh" stats
expect_grep 'f2.sh CLEAN [0-9]+$' "$out" "the probe gets an answer"
expect_grep 'requests=3 .*breaker_state=0' "$(printf '%s\n' "$out" | tail -n 1)" \
	"closed again: the next lookup is sent"

# --- killed mid-request ---------------------------------------------------------------
echo die >"$mode"
expect_exit 0 "server killed mid-scan" "$PROBE" set "url=$url" \
	scan "$scratch/f7.sh" scan "$scratch/f8.sh"
expect_grep 'f7.sh CLEAN .*Cloud.LookupFailed' "$out" "the request in flight fails"
expect_grep 'f8.sh CLEAN .*Cloud.LookupFailed' "$out" "so does the next (nobody listens)"
for l in 1 2; do
	t=$(scan_ms "$(printf '%s\n' "$out" | sed -n ${l}p)")
	[ "$t" -lt $((200 + margin)) ] && ok "scan $l ended after $t ms" ||
		fail "scan $l took $t ms"
done
wait "$fault_pid" 2>/dev/null
finish
