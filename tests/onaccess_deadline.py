#!/usr/bin/python3
"""onaccess_deadline.py - vigild answers in time whatever a scan does
(tests/crash_shim.c, preloaded, stalls a scan 3 s on one marker, aborts
it on another, and stalls the event loop's readlink on a third): a hung
scan does not hold open() past OnAccessDeadline and its late result is
logged; fail-closed denies instead; a crashing scan kills only its
worker, the open is answered at once and denied, the file is reported
and not rescanned, the next opens are still protected; SIGKILL of vigild
while 50 processes wait on opens releases every one within 1 s; a
stalled event loop makes vigild exit (the watchdog) and the opener
goes on."""
import errno
import os
import signal
import subprocess
import sys
import time

import onaccess_harness as h

h.enter_namespace()
if not os.path.exists(h.SHIM):
    h.skip("%s not built" % h.SHIM)
env = {"LD_PRELOAD": h.SHIM,
       # an ASan build needs its runtime first; the shim comes before it
       "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
tree = h.Tree()
try:
    # created before vigild starts: no close-write scan touches them
    hang = tree.path("hang.txt")
    h.write_file(hang, b"VIGIL-TEST-HANG-MARKER\n")
    crash = tree.path("crash.bin")
    h.write_file(crash, b"header VIGIL-TEST-CRASH-MARKER trailer\n")
    eicar = tree.path("eicar.com")
    h.write_file(eicar, h.EICAR)
    waiters = []
    for i in range(50):
        p = tree.path("wait%02d.txt" % i)
        h.write_file(p, b"VIGIL-TEST-HANG-MARKER %d\n" % i)
        waiters.append(p)
    os.mkdir(tree.path("VIGIL-TEST-STALL"))
    stall = tree.path("VIGIL-TEST-STALL", "file.txt")
    h.write_file(stall, b"clean\n")

    conf = "OnAccessPrevention yes\nOnAccessDeadline 1\nOnAccessScanOnClose no\n"
    with h.Vigild(tree, conf, env=env) as d:
        # a hung scan: open() returns at the deadline, allowed
        rc, dt = h.try_open(hang)
        h.check(rc == 0 and 0.9 <= dt < 1.6,
                "hung scan: open allowed at the deadline after %.2f s" % dt)
        h.check(d.wait_log("allowed_at_deadline", timeout=4.0),
                "the late result is logged when it lands")
        st = d.stats()
        h.check(st["permission_answers"]["deadline"] == 1 and
                st["scans"]["late_results"] == 1, "one deadline answer, one late result")

        # a crashing scan: answered at once, denied, reported
        rc, dt = h.try_open(crash)
        h.check(rc == errno.EPERM and dt < 0.9,
                "crashing scan: open denied in %.2f s (%s)" % (dt, os.strerror(rc)))
        e = d.wait_event(lambda e: e["path"] == crash)
        h.check(e is not None and e["findings"][0]["name"] == "Heuristics.ScannerCrash"
                and e["action"] == "deny", "the crash is reported: %s" % e)
        rc, dt = h.try_open(crash)
        st = d.stats()
        h.check(rc == errno.EPERM and st["answered_at_once"]["known_crash"] == 1 and
                d.pool()["crashes"] == 1,
                "the crashing file is denied again at once, not rescanned")
        rc, _ = h.try_open(eicar)
        h.check(rc == errno.EPERM, "after the crash EICAR is still denied")
        h.check(d.pool()["workers"] == 2, "the worker was replaced")

    # fail-closed: the deadline denies
    with h.Vigild(tree, conf + "OnAccessDeadlineAction deny\n", env=env) as d:
        rc, dt = h.try_open(hang)
        h.check(rc == errno.EPERM and 0.9 <= dt < 1.6,
                "fail-closed: hung scan denied at the deadline after %.2f s" % dt)

    # SIGKILL while 50 processes wait on opens: all released within 1 s
    d = h.Vigild(tree, "OnAccessPrevention yes\nOnAccessDeadline 30\n"
                 "OnAccessScanOnClose no\n", env=env).start()
    try:
        procs = [subprocess.Popen(["cat", p], stdout=subprocess.DEVNULL) for p in waiters]
        d.wait_stats(lambda s: s["pending"] >= 50, timeout=5)
        waiting = sum(1 for p in procs if p.poll() is None)
        h.check(waiting == 50, "%d of 50 openers wait for a verdict" % waiting)
        t0 = time.time()
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        for p in procs:
            p.wait(timeout=10)
        dt = time.time() - t0
        h.check(dt < 1.0, "after SIGKILL all 50 returned in %.3f s" % dt)
        h.check(all(p.returncode == 0 for p in procs), "and every open succeeded")
    finally:
        d.stop()

    # a stalled event loop: the watchdog ends vigild, the opener goes on
    d = h.Vigild(tree, "OnAccessPrevention yes\nOnAccessDeadline 1\n", env=env).start()
    try:
        rc, dt = h.try_open(stall)
        try:
            d.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        h.check(d.proc.poll() == 70, "the watchdog ended vigild: status %s" % d.proc.poll())
        h.check(rc == 0 and dt < 3.5, "the opener went on after %.2f s" % dt)
        h.check("event loop stalled" in d.output(), "the watchdog said why")
    finally:
        d.stop()
finally:
    tree.close()
sys.exit(h.finish())
