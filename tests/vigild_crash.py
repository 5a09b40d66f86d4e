#!/usr/bin/python3
"""vigild_crash.py - a scan that crashes its worker (tests/crash_shim.c,
preloaded, aborts on a marker) is contained: the client gets
Heuristics.ScannerCrash FOUND at once, a new worker takes over, the next
scans work, vigild counts the crash. And RELOAD while another client
runs a MULTISCAN loses no reply."""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests"))
import vigild_harness as h  # noqa: E402

shim = os.path.join(os.environ["top_builddir"], "tests", ".libs", "libcrashshim.so")
if not os.path.exists(shim):
    print("SKIP: %s not built" % shim)
    sys.exit(77)
env = {"LD_PRELOAD": shim,
       # an ASan build needs its runtime first; the shim comes before it
       "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
with h.Vigild("", env=env) as d:
    bomb = os.path.join(d.dir, "bomb.bin")
    with open(bomb, "wb") as f:
        f.write(b"header VIGIL-TEST-CRASH-MARKER trailer\n")
    t0 = time.time()
    r = d.command(b"zSCAN " + bomb.encode() + b"\0")
    h.check(r == (bomb + ": Heuristics.ScannerCrash FOUND\0").encode(),
            "crash answered: %r" % r)
    h.check(time.time() - t0 < 5, "crash answered in %.2f s" % (time.time() - t0))
    ok_path = os.path.join(d.dir, "eicar.com")
    with open(ok_path, "wb") as f:
        f.write(h.EICAR)
    for i in range(4):
        r = d.command(b"zSCAN " + ok_path.encode() + b"\0")
        h.check(r == (ok_path + ": Eicar-Test-Signature FOUND\0").encode(),
                "scan %d after the crash: %r" % (i + 1, r))
    r = d.command(b"zINSTREAM\0" + len(b"VIGIL-TEST-CRASH-MARKER").to_bytes(4, "big") +
                  b"VIGIL-TEST-CRASH-MARKER" + b"\0\0\0\0")
    h.check(r == b"stream: Heuristics.ScannerCrash FOUND\0", "INSTREAM crash: %r" % r)
    stats = subprocess.run([os.environ["VIGIL"], "daemon", "--socket", d.ctl, "stats"],
                           capture_output=True, text=True).stdout
    import json
    st = json.loads(stats)
    h.check(st["pool"]["crashes"] == 2 and st["pool"]["workers"] == 2,
            "2 crashes counted, 2 workers alive: %s" % st["pool"])

    # RELOAD during a MULTISCAN from another client: no reply lost
    tree = os.path.join(d.dir, "tree")
    os.mkdir(tree)
    for i in range(300):
        with open(os.path.join(tree, "f%03d.com" % i), "wb") as f:
            f.write(h.EICAR if i % 3 == 0 else b"clean file %d\n" % i)
    result = {}

    def multiscan():
        result["r"] = d.command(b"zMULTISCAN " + tree.encode() + b"\0", timeout=60)

    th = threading.Thread(target=multiscan)
    th.start()
    reloads = 0
    while th.is_alive() and reloads < 3:
        if d.command(b"zRELOAD\0") == b"RELOADING\0":
            reloads += 1
        time.sleep(0.05)
    th.join()
    lines = [x for x in result.get("r", b"").split(b"\0") if x]
    found = [x for x in lines if x.endswith(b" FOUND")]
    h.check(len(found) == 100 and len(lines) == 100,
            "MULTISCAN across %d RELOADs: %d FOUND of %d lines" % (reloads, len(found), len(lines)))
    h.check(reloads >= 1, "at least one RELOAD ran during the MULTISCAN")
    for _ in range(50):
        st = json.loads(subprocess.run([os.environ["VIGIL"], "daemon", "--socket", d.ctl,
                                        "stats"], capture_output=True, text=True).stdout)
        if st["pool"]["reloads"] >= 1 + reloads:
            break
        time.sleep(0.1)
    h.check(st["pool"]["generation"] >= 2, "a new generation serves: %s" % st["pool"])
sys.exit(h.finish())
