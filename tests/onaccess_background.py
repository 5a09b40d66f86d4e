#!/usr/bin/python3
"""onaccess_background.py - close-write scans are background work that
never costs a permission event its place (tests/crash_shim.c, preloaded,
stalls a scan 3 s on a marker): a burst of written files far larger than
MaxQueue waits in the background queue, none is dropped, all end up
cached by ignore marks (reading them again makes no event; an empty
file too, until it is written to); while a
background scan hangs, an open of an unscanned file still finds a worker
at once, and an EICAR file whose close-write scan still waits is denied
on open (scanned in the foreground); background scans run at
OnAccessBackgroundNice, and a worker busy with one goes back to full
priority when a permission event waits for it; past
OnAccessBackgroundQueue notifications are dropped and counted, and the
next open still scans the file; a background scan stopped after
WorkerHangTimeout is not taken for a file that hangs scans."""
import errno
import os
import sys
import threading
import time

import onaccess_harness as h

h.enter_namespace()
if not os.path.exists(h.SHIM):
    h.skip("%s not built" % h.SHIM)
env = {"LD_PRELOAD": h.SHIM,
       "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}


def descendants(pid):
    parent = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                with open("/proc/%s/stat" % e) as f:
                    parent[int(e)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [k for k, v in parent.items() if v == p]
        out += kids
        todo += kids
    return out


def nice_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[16])
    except (OSError, IndexError, ValueError):
        return None


def worker_nices(d):
    return [n for n in (nice_of(p) for p in descendants(d.proc.pid)) if n is not None]


tree = h.Tree()
try:
    # written before vigild starts: never scanned until opened
    unscanned = tree.path("unscanned.txt")
    h.write_file(unscanned, b"written before vigild\n")
    unscanned2 = tree.path("unscanned2.txt")
    h.write_file(unscanned2, b"written before vigild too\n")

    conf = "OnAccessPrevention yes\nMaxQueue 2\n"
    with h.Vigild(tree, conf, env=env) as d:
        # a background scan that hangs 3 s on one of the two workers
        h.write_file(tree.path("hang.txt"), b"VIGIL-TEST-HANG-MARKER\n")
        s = d.wait_stats(lambda s: s["background"]["in_flight"] >= 1, 2)
        h.wait_for(lambda: 10 in worker_nices(d), 2)
        h.check(10 in worker_nices(d),
                "the worker running a background scan runs at nice 10: %s"
                % worker_nices(d))
        burst = []
        for i in range(150):
            p = tree.path("burst%03d.txt" % i)
            h.write_file(p, b"clean file %d\n" % i * 20)
            burst.append(p)
        eicar = tree.path("late-eicar.com")
        h.write_file(eicar, h.EICAR)
        s = d.stats()
        h.check(s["background"]["waiting"] > 6 and
                s["scans"]["dropped_notifications"] == 0,
                "150 close-writes behind a hung scan wait (%d) past MaxQueue + "
                "2 x workers = 6, none dropped" % s["background"]["waiting"])
        # the permission event takes the worker kept free of background
        # jobs, and the queue's room: it is scanned, not answered by policy
        # answered while the hung scan is still in flight (not after
        # it): the test is that, not a time a loaded machine may miss
        rc, dt = h.try_open(unscanned)
        s = d.stats()
        h.check(rc == 0 and s["background"]["in_flight"] >= 1 and
                s["scans"]["clean"] == 1 and
                s["permission_answers"]["queue_full"] == 0,
                "an open of an unscanned file is scanned and answered in %.3f s "
                "while a background scan hangs (%s, %s)"
                % (dt, s["scans"], s["background"]))
        # exact: the file's close-write scan still waits, its open scans it
        rc, dt = h.try_open(eicar)
        h.check(rc == errno.EPERM,
                "EICAR whose close-write scan still waits is denied on open (%s, "
                "%.3f s)" % (os.strerror(rc), dt))
        s = d.wait_stats(lambda s: s["pending"] == 0, 30)
        h.check(s["pending"] == 0 and s["scans"]["dropped_notifications"] == 0 and
                s["background"]["scans"] >= 152,
                "the background queue drains: %s, dropped %d"
                % (s["background"], s["scans"]["dropped_notifications"]))
        h.check(s["ignore_marks"]["live"] >= 150,
                "every clean written file is cached (%d live ignore marks)"
                % s["ignore_marks"]["live"])
        before = s["events"]["open_perm"]
        for p in burst:
            with open(p, "rb") as f:
                f.read()
        s = d.stats()
        h.check(s["events"]["open_perm"] == before,
                "reading the 150 files again makes no event (%d -> %d)"
                % (before, s["events"]["open_perm"]))
        # an empty file is cached too, until it is written to
        empty = tree.path("empty.txt")
        open(empty, "wb").close()
        d.wait_stats(lambda s: s["pending"] == 0, 10)
        before = d.stats()["events"]["open_perm"]
        for _ in range(3):
            h.try_open(empty)
        s = d.stats()
        h.check(s["events"]["open_perm"] == before,
                "an unchanged empty file opens with no event (%d -> %d)"
                % (before, s["events"]["open_perm"]))
        with open(empty, "ab") as f:
            f.write(h.EICAR)
        d.wait_stats(lambda s: s["pending"] == 0, 10)
        rc, _ = h.try_open(empty)
        h.check(rc == errno.EPERM, "once written to, its next open is scanned: "
                "EICAR denied (%s)" % os.strerror(rc))
        h.check(any(e["event"] == "close_write" and e["path"] == eicar
                    for e in d.event_lines()),
                "the waiting close-write scan of EICAR is logged too")

    # one worker: it takes background scans, and is set back to full
    # priority as soon as a permission event waits for it
    one = h.Vigild(tree, "OnAccessPrevention yes\nOnAccessDeadline 5\n", env=env)
    with open(one.conf) as f:
        text = f.read().replace("ScanWorkers 2\n", "ScanWorkers 1\n")
    with open(one.conf, "w") as f:
        f.write(text)
    with one as d:
        h.write_file(tree.path("hang2.txt"), b"VIGIL-TEST-HANG-MARKER 2\n")
        d.wait_stats(lambda s: s["background"]["in_flight"] >= 1, 2)
        h.wait_for(lambda: 10 in worker_nices(d), 2)
        h.check(10 in worker_nices(d), "the only worker runs its background "
                "scan at nice 10: %s (%s)" % (worker_nices(d), d.stats()["background"]))
        t = threading.Thread(target=h.try_open, args=(unscanned2,))
        t.start()
        h.wait_for(lambda: 10 not in worker_nices(d) and
                   0 in worker_nices(d), 2)
        h.check(10 not in worker_nices(d) and 0 in worker_nices(d),
                "a waiting permission event sets it back to nice 0: %s"
                % worker_nices(d))
        t.join()

    # past OnAccessBackgroundQueue: dropped, counted, and still scanned
    # on open
    with h.Vigild(tree, "OnAccessPrevention yes\nOnAccessBackgroundQueue 4\n",
                  env=env) as d:
        h.write_file(tree.path("hang3.txt"), b"VIGIL-TEST-HANG-MARKER 3\n")
        d.wait_stats(lambda s: s["background"]["in_flight"] >= 1, 2)
        for i in range(30):
            h.write_file(tree.path("small%02d.txt" % i), b"x%d\n" % i)
        eicar2 = tree.path("dropped-eicar.com")
        h.write_file(eicar2, h.EICAR)
        s = d.stats()
        h.check(s["scans"]["dropped_notifications"] >= 20 and
                s["background"]["waiting"] <= 4,
                "past OnAccessBackgroundQueue 4: %d notifications dropped and "
                "counted" % s["scans"]["dropped_notifications"])
        rc, _ = h.try_open(eicar2)
        h.check(rc == errno.EPERM, "a file whose notification was dropped is "
                "scanned on open: EICAR denied (%s)" % os.strerror(rc))

    # a background scan killed after WorkerHangTimeout (a busy machine
    # starves low-priority scans) is no verdict on the file: nothing is
    # remembered, and the next open scans it in the foreground
    with h.Vigild(tree, "OnAccessPrevention yes\nWorkerHangTimeout 1\n"
                  "OnAccessDeadline 5\n", env=env) as d:
        slow = tree.path("slow.txt")
        h.write_file(slow, b"VIGIL-TEST-HANG-MARKER slow\n")
        h.check(d.wait_log("background scan stopped after WorkerHangTimeout", 10),
                "a background scan past WorkerHangTimeout is stopped and logged")
        s = d.stats()
        h.check(s["scans"]["crashes"] == 0,
                "and not counted as a crash: %s" % s["scans"])
        rc, dt = h.try_open(slow)
        s = d.stats()
        h.check(s["answered_at_once"]["known_crash"] == 0 and dt >= 0.9,
                "its next open is scanned in the foreground, not answered from "
                "the crash memory (%.2f s, %s)" % (dt, s["answered_at_once"]))
finally:
    tree.close()
sys.exit(h.finish())
