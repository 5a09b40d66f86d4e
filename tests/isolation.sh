#!/bin/sh
# isolation.sh - a worker that crashes, hangs or eats memory in the
# middle of a job is contained: the layer is INCOMPLETE with its named
# limit (Limit.Crash, Limit.ScanTime, Limit.Memory), every finding made
# before is kept, the worker is replaced and the scan goes on to its
# summary. The misbehaving workers come from tests/vigil-unpackd-test,
# a build of the helper where a member named vigil-test-abort, -loop or
# -alloc triggers the fault (the installed helper has no such code).
# Also: the whole scan stays within 10 s and under 512 MB (workers
# included), and the scanning process itself reports nothing (in the
# ASan build: no sanitizer report) while its workers die.
. "$top_srcdir/tests/lib.sh"

helper="$top_builddir/tests/vigil-unpackd-test"
[ -x "$helper" ] || { echo "SKIP: $helper not built"; exit 77; }
[ -x /usr/bin/time ] || { echo "SKIP: no /usr/bin/time (Debian: time)"; exit 77; }

mkdir "$scratch/in" "$scratch/src"
eicar >"$scratch/src/eicar.com"
# each tar: EICAR first (found before the fault), then the trigger
for mode in abort loop alloc; do
	echo "$mode" >"$scratch/src/vigil-test-$mode"
	tar -C "$scratch/src" -cf "$scratch/in/$mode.tar" eicar.com \
		"vigil-test-$mode"
done
# after the faults, a worker must still be there for these
tar -C "$scratch/src" -cf "$scratch/in/after.tar" eicar.com
echo "plain text" >"$scratch/in/plain.txt"
# A xar whose two entries are each a hard link twice over, the second
# to the first: Debian 12's libarchive (3.6.2) loops forever on it, as
# on libarchive's own test_read_format_xar_doublelink.xar. Written by
# tests/hostile_inputs.py from the format.
/usr/bin/python3 "$top_srcdir/tests/hostile_inputs.py" "$scratch/in" \
	xar_doublelink.xar || fail "hostile_inputs.py"
gzip -c "$scratch/src/eicar.com" >"$scratch/in/eicar.com.gz"

# sanitizer builds run several times slower (as in bombs.py); there a
# worker's start alone (libclamav, the sanitizer's shadow) takes a
# second or two of a loaded machine, so the deadline is longer
scan_time=1 limit=10
if sanitized; then
	scan_time=5 limit=30
fi
# one thread, so one worker serves the files in turn and must be
# replaced after each fault
VIGIL_UNPACKD=$helper
export VIGIL_UNPACKD
expect_exit 1 "scan with misbehaving workers" /usr/bin/time \
	-o "$scratch/time" -f '%e %M' "$VIGIL" scan --json -j 1 \
	--max-scan-time=$scan_time --max-worker-memory=64M "$scratch/in"
printf '%s\n' "$out" >"$scratch/out.json"
/usr/bin/python3 - "$scratch/out.json" "$scratch/in" <<'PY' || fail "reports"
import json, sys
reports = {}
summary = None
for line in open(sys.argv[1]):
    o = json.loads(line)
    if "summary" in o or "files" in o and "path" not in o:
        summary = o
    elif "path" in o:
        reports[o["path"].rsplit("/", 1)[-1]] = o
bad = 0
def check(cond, what):
    global bad
    print(("ok: " if cond else "FAIL: ") + what)
    bad += not cond
want = {"abort.tar": "Limit.Crash", "loop.tar": "Limit.ScanTime",
        "alloc.tar": "Limit.Memory"}
r = reports.get("xar_doublelink.xar", {})
check(r.get("verdict") == "INCOMPLETE" and
      any(f["name"] == "Limit.ScanTime" for f in r.get("findings", [])),
      "xar_doublelink.xar: libarchive's endless loop stopped at the deadline")
for name, limit in want.items():
    r = reports.get(name)
    check(r is not None, name + " reported")
    if not r:
        continue
    names = {(f["stage"], f["name"]) for f in r["findings"]}
    check(("limit", limit) in names, f"{name}: {limit} in {sorted(names)}")
    check(any(f["name"] == "Eicar-Test-Signature" and f["layer"] == "eicar.com"
              for f in r["findings"]), name + ": EICAR found before the fault kept")
    check(r["verdict"] == "MALICIOUS", name + ": verdict MALICIOUS")
for name in ("after.tar", "eicar.com.gz"):
    r = reports.get(name, {})
    check(r.get("verdict") == "MALICIOUS", name + ": unpacked by a new worker")
check(reports.get("plain.txt", {}).get("verdict") == "CLEAN", "plain.txt CLEAN")
check(summary is not None, "summary line written")
sys.exit(1 if bad else 0)
PY
expect_bounded "$scratch/time" "$limit"
expect_no_sanitizer_report "$err"

# No helper: the engine refuses to start (never a silent in-process
# fallback or a CLEAN); --no-isolation unpacks in-process without one.
VIGIL_UNPACKD=$scratch/no-such-helper
expect_exit 2 "no helper: the error is reported" "$VIGIL" scan \
	--no-summary "$scratch/in/after.tar" "$scratch/in/plain.txt"
expect_grep 'no-such-helper: cannot run the unpacking worker' "$err" \
	"no helper: said once, before any file, naming the helper"
if printf '%s\n' "$out" | grep -q 'plain.txt: OK'; then
	fail "no helper: a file was reported CLEAN: $out"
else ok "no helper: nothing is reported CLEAN"; fi
expect_exit 1 "--no-isolation needs no helper" "$VIGIL" scan \
	--no-isolation --no-summary "$scratch/in/after.tar"
expect_grep 'after.tar!eicar.com: Eicar-Test-Signature FOUND' "$out" \
	"--no-isolation: EICAR found in-process"
finish
