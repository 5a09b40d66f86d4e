#!/bin/sh
# isolation_hostile.sh - inputs that crash, hang or blow up Debian 12's
# libarchive (3.6.2) in-process are contained by isolation (issue 8):
# tests/hostile_inputs.py writes five of them from the formats (a CAB
# with a heap write out of bounds, a CAB with a NULL read, a xar that
# loops, a nested gzip stuck reading ahead, a RAR asking for 960 MiB),
# and the scan of their folder ends each INCOMPLETE with its named
# limit, the files beside them still scanned, the summary line written,
# in well under 10 s and under 512 MB (workers included).
#
# First, in-process (--no-isolation): the two CAB inputs must still
# kill the process, or they no longer reach libarchive's bugs (with the
# Debian libarchive they were checked against; a later one only gets a
# note). The
# hangs and the 960 MiB are not run in-process here; the libarchive
# inputs they copy are in tests/libarchive_hostile.sh (run by hand).
. "$top_srcdir/tests/lib.sh"

[ -x /usr/bin/time ] || { echo "SKIP: no /usr/bin/time (Debian: time)"; exit 77; }

mkdir "$scratch/in"
/usr/bin/python3 "$top_srcdir/tests/hostile_inputs.py" "$scratch/in" ||
	{ fail "hostile_inputs.py"; finish; }
eicar | gzip -c >"$scratch/in/eicar.com.gz"
echo "plain text" >"$scratch/in/plain.txt"

# sanitizer builds run several times slower (as in bombs.py); there a
# worker's start alone (libclamav, the sanitizer's shadow) takes a
# second or two of a loaded machine, so the deadline is longer
asan=no scan_time=2 limit=10
if sanitized; then
	asan=yes scan_time=5 limit=30
fi
checked_version=3.6.2-1+deb12u5
libarchive_version=$(dpkg-query -W -f='${Version}' libarchive13 2>/dev/null)
for f in cab_lzx_oob.cab cab_skip_null.cab; do
	# sanitizer builds report instead of dying by the signal; no core
	(ulimit -c 0; ASAN_OPTIONS=detect_leaks=0 exec timeout 10 "$VIGIL" \
		scan --no-isolation --no-summary "$scratch/in/$f") \
		>/dev/null 2>"$scratch/inproc.err"
	rc=$?
	if [ $rc -gt 128 ] && [ $rc -ne 124 ] ||
	    grep -q 'AddressSanitizer' "$scratch/inproc.err"; then
		ok "$f: in-process scan killed (status $rc)"
	else
		# the inputs were checked against this Debian libarchive; a
		# later security update may fix the bug: say so, do not fail
		if [ "$libarchive_version" = "$checked_version" ]; then
			fail "$f: in-process scan ended with $rc, not by a fault: $(head -c 300 "$scratch/inproc.err")"
		else
			echo "note: $f no longer kills an in-process scan with libarchive $libarchive_version (checked with $checked_version): the bug may be fixed; the isolated checks below still run"
		fi
	fi
done

expect_exit 1 "scan of the hostile folder" /usr/bin/time \
	-o "$scratch/time" -f '%e %M' "$VIGIL" scan --json -j 2 \
	--max-scan-time=$scan_time "$scratch/in"
printf '%s\n' "$out" >"$scratch/out.json"
/usr/bin/python3 - "$scratch/out.json" <<'PY' || fail "reports"
import json, sys
want = {"cab_lzx_oob.cab": "Limit.Crash", "cab_skip_null.cab": "Limit.Crash",
        "xar_doublelink.xar": "Limit.ScanTime",
        "gzip_recursive.gz": "Limit.ScanTime",
        "rar_staticdata.rar": "Limit.Memory"}
reports, summary = {}, None
for line in open(sys.argv[1]):
    o = json.loads(line)
    if "path" in o:
        reports[o["path"].rsplit("/", 1)[-1]] = o
    else:
        summary = o
bad = 0
def check(cond, what):
    global bad
    print(("ok: " if cond else "FAIL: ") + what)
    bad += not cond
for name, limit in want.items():
    r = reports.get(name, {})
    names = [f["name"] for f in r.get("findings", [])]
    check(r.get("verdict") == "INCOMPLETE" and limit in names,
          f"{name}: INCOMPLETE with {limit}: {r.get('verdict')} {names}")
check(reports.get("eicar.com.gz", {}).get("verdict") == "MALICIOUS",
      "eicar.com.gz beside them: MALICIOUS")
check(reports.get("plain.txt", {}).get("verdict") == "CLEAN",
      "plain.txt beside them: CLEAN")
check(summary is not None and summary.get("files") == 7 and
      summary.get("incomplete") == 5, f"summary line: {summary}")
sys.exit(1 if bad else 0)
PY
expect_bounded "$scratch/time" "$limit"
expect_no_sanitizer_report "$err"
finish
