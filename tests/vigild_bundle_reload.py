#!/usr/bin/python3
"""vigild_bundle_reload.py - a signed bundle reloaded in a running vigild.

vigild serves a signed bundle (version 10) from DatabaseDirectory under
TrustedKeys. Clients scan without pause (INSTREAM and SCAN, a new
connection each) while `vigil update` fetches version 20 from a local
mirror (tests/update_mirror.py), installs it and sends RELOAD through
NotifyClamd: every scan answers, and the marker only version 20 knows
is FOUND as soon as the new generation serves (and from then on, for
each client). Then a tampered bundle, an older one and one signed by an
untrusted key, each put in place and RELOADed, are refused with their
reason logged while version 20 keeps serving; a good newer one still
loads afterwards. vigild --check-config refuses an untrusted bundle
unless AllowUnsignedBundles is set.
"""
import json
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests"))
import vigild_harness as h  # noqa: E402

VIGIL = os.environ["VIGIL"]
VIGILD = os.path.join(os.environ["top_builddir"], "vigild")


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60,
                          **kw)


def vigil(*args):
    r = run(VIGIL, *args)
    if r.returncode != 0:
        raise RuntimeError("vigil %s: %s" % (" ".join(args), r.stderr))
    return r


def status(d):
    r = run(VIGIL, "daemon", "--socket", d.ctl, "stats")
    return json.loads(r.stdout)["pool"]


def wait_pool(d, cond, what, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        st = status(d)
        if cond(st):
            return st
        time.sleep(0.02)
    h.check(False, "%s within %d s: %s" % (what, timeout, status(d)))
    return status(d)


def replace(src, dst):
    """Puts a bundle in place the way vigil update does: a rename."""
    tmp = dst + ".tmp"
    shutil.copyfile(src, tmp)
    os.rename(tmp, dst)


work = None
mirror = None
try:
    import tempfile
    work = tempfile.mkdtemp()
    os.chmod(work, 0o755)
    trust, other, src, root, db = (os.path.join(work, n) for n in
                                   ("trust", "other", "src", "mirror", "db"))
    for p in (trust, other, root, db, src + "1", src + "2", src + "3"):
        os.mkdir(p)
    os.chmod(db, 0o755)
    vigil("sig", "keygen", "--secret", work + "/k.sec", "--public", trust + "/k.pub")
    vigil("sig", "keygen", "--secret", work + "/o.sec", "--public", other + "/o.pub")
    for i in (1, 2, 3):
        with open("%s%d/m%d.yar" % (src, i, i), "w") as f:
            f.write('rule Marker%d { strings: $a = "vigil-bundle-marker-%d" '
                    'condition: $a }\n' % (i, i))
    samples = {}
    for i in (1, 2, 3):
        samples[i] = os.path.join(work, "sample%d.txt" % i)
        with open(samples[i], "w") as f:
            f.write("a file with vigil-bundle-marker-%d in it\n" % i)
        os.chmod(samples[i], 0o644)

    def build(name, version, key, *dirs):
        vigil("sig", "build", "-o", os.path.join(root, name), "--version",
              str(version), "--key", key, *dirs)
        return os.path.join(root, name)

    k, o = work + "/k.sec", work + "/o.sec"
    v10 = build("v10.vgb", 10, k, src + "1")
    build("v20.vgb", 20, k, src + "1", src + "2")
    v5 = build("v5.vgb", 5, k, src + "1")
    v30 = build("v30.vgb", 30, k, src + "1", src + "2", src + "3")
    v40o = build("v40o.vgb", 40, o, src + "1", src + "2", src + "3")
    tampered = os.path.join(work, "tampered.vgb")
    data = bytearray(open(v30, "rb").read())
    data[len(data) // 2] ^= 0x01
    with open(tampered, "wb") as f:
        f.write(data)
    replace(v10, os.path.join(db, "main.vgb"))

    # --check-config builds the engine: the trust settings apply there too
    conf = os.path.join(work, "check.conf")
    with open(conf, "w") as f:
        f.write("DatabaseDirectory %s\nTrustedKeys %s\n" % (db, other))
    r = run(VIGILD, "--check-config", "--config", conf)
    h.check(r.returncode == 1 and "not in the trust store" in r.stderr,
            "--check-config: a bundle by a key not in TrustedKeys is refused: %d %r"
            % (r.returncode, r.stderr))
    with open(conf, "a") as f:
        f.write("AllowUnsignedBundles yes\n")
    r = run(VIGILD, "--check-config", "--config", conf)
    h.check(r.returncode == 0, "--check-config: AllowUnsignedBundles loads it: %d %r"
            % (r.returncode, r.stderr))

    portfile, mlog = os.path.join(work, "port"), os.path.join(work, "mirror.log")
    mirror = subprocess.Popen([sys.executable, os.path.join(
        os.environ["top_srcdir"], "tests", "update_mirror.py"), root, portfile, mlog])
    for _ in range(100):
        if os.path.exists(portfile) and os.path.getsize(portfile):
            break
        time.sleep(0.05)
    url = "http://127.0.0.1:%s" % open(portfile).read().strip()

    with h.Vigild("DatabaseDirectory %s\nTrustedKeys %s\n" % (db, trust)) as d:
        ver = d.command(b"zVERSION\0")
        h.check(b"/10/" in ver, "VERSION shows bundle version 10: %r" % ver)
        st = status(d)
        h.check(st["bundle_version"] == 10 and st["generation"] == 1,
                "status: bundle version 10, generation 1: %s" % st)

        def scan_path(p):
            return d.command(b"zSCAN " + p.encode() + b"\0", timeout=20)

        def instream(p):
            body = open(p, "rb").read()
            return d.command(b"zINSTREAM\0" + len(body).to_bytes(4, "big") + body +
                             b"\0\0\0\0", timeout=20)

        h.check(scan_path(samples[1]).endswith(b"FOUND\0"), "version 10 finds marker 1")
        h.check(scan_path(samples[2]).endswith(b": OK\0"), "version 10 misses marker 2")

        stop = threading.Event()
        logs = []

        def client(kind):
            log = []
            logs.append(log)
            while not stop.is_set():
                try:
                    r = (instream(samples[2]) if kind == "INSTREAM"
                         else scan_path(samples[2]))
                except OSError as e:
                    r = ("%s" % e).encode()
                log.append((time.time(), r))

        threads = [threading.Thread(target=client, args=(k,))
                   for k in ("INSTREAM", "SCAN", "INSTREAM")]
        for t in threads:
            t.start()
        time.sleep(0.3)
        uconf = os.path.join(work, "update.conf")
        with open(uconf, "w") as f:
            f.write("DatabaseDirectory %s\nTrustedKeys %s\nNotifyClamd %s\n"
                    "ConnectTimeout 5\nReceiveTimeout 5\nMaxAttempts 1\n"
                    "DatabaseMirror %s/slow/v20.vgb\n" % (db, trust, d.sock, url))
        t_update = time.time()
        r = run(VIGIL, "update", "-c", uconf)
        h.check(r.returncode == 0 and "installed version 20 (was 10)" in r.stdout,
                "vigil update installs version 20 and notifies: %d %r %r"
                % (r.returncode, r.stdout, r.stderr))
        st = wait_pool(d, lambda s: s["generation"] == 2, "generation 2 serves")
        t_served = time.time()
        first = scan_path(samples[2])
        h.check(first.endswith(b"FOUND\0") and b"Marker2" in first,
                "right after the reload marker 2 is FOUND: %r" % first)
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join(30)
        h.check(st["bundle_version"] == 20, "bundle version 20 serves: %s" % st)

        total = sum(len(lg) for lg in logs)
        during = sum(1 for lg in logs for (t, _) in lg if t_update <= t <= t_served)
        bad = [r for lg in logs for (_, r) in lg
               if not (r.endswith(b": OK\0") or r.endswith(b"FOUND\0"))]
        h.check(not bad, "all %d scans answered OK or FOUND (%d while updating): %r"
                % (total, during, bad[:3]))
        h.check(during >= 10, "%d scans ran during the update and reload" % during)
        flips = 0
        for lg in logs:
            seen = False
            for (_, r) in lg:
                if r.endswith(b"FOUND\0"):
                    seen = True
                elif seen:
                    flips += 1
        h.check(flips == 0, "no client saw marker 2 again missed once found (%d)" % flips)
        h.check(all(any(r.endswith(b"FOUND\0") for (_, r) in lg) for lg in logs),
                "every client saw marker 2 FOUND after the reload")
        h.check(all(lg and lg[0][1].endswith(b": OK\0") for lg in logs),
                "every client saw marker 2 missed before it")

        # refused bundles: the served generation stays, the log says why
        cur = os.path.join(db, "main.vgb")
        cases = [(tampered, "a tampered bundle", "signature"),
                 (v5, "an older bundle", "older"),
                 (v40o, "a bundle signed by an untrusted key", "not in the trust store")]
        for n, (path, what, why) in enumerate(cases):
            replace(path, cur)
            h.check(d.command(b"zRELOAD\0") == b"RELOADING\0", what + ": RELOADING")
            st = wait_pool(d, lambda s: s["reload_failures"] == n + 1,
                           what + ": reload fails")
            h.check(why in st["last_reload"], "%s refused: %s" % (what, st["last_reload"]))
            h.check(st["generation"] == 2 and st["bundle_version"] == 20,
                    what + ": version 20 keeps serving")
            r = instream(samples[2])
            h.check(r.endswith(b"FOUND\0"), what + ": marker 2 still FOUND: %r" % r)
            r = instream(samples[3])
            h.check(r.endswith(b": OK\0"), what + ": marker 3 not loaded: %r" % r)
        log = open(os.path.join(d.dir, "vigild.log")).read()
        h.check(log.count("reload refused") == 3 and "generation 2 keeps serving" in log,
                "the log names each refusal and the generation serving")

        replace(v30, cur)
        h.check(d.command(b"zRELOAD\0") == b"RELOADING\0", "RELOAD of version 30")
        st = wait_pool(d, lambda s: s["generation"] == 3, "generation 3 serves")
        h.check(st["bundle_version"] == 30, "version 30 serves: %s" % st)
        h.check(instream(samples[3]).endswith(b"FOUND\0"), "version 30 finds marker 3")
        h.check(d.alive(), "vigild alive")
finally:
    if mirror:
        mirror.kill()
        mirror.wait()
    if work:
        shutil.rmtree(work, ignore_errors=True)
sys.exit(h.finish())
