#!/usr/bin/python3
"""onaccess_quarantine.py - OnAccessAction quarantine through real
fanotify, with the vault inside the watched tmpfs (vigild's own vault
accesses must not wait for itself): EICAR written and closed ends up in
the vault (the event log names the item, `vigil quarantine list` shows
it, restore brings it back byte-identical with its mode and times); an
open of an EICAR file is denied and the file moves to the vault; the
exec of clam.exe is denied and it moves too; a clean file is untouched;
a vault over QuarantineMaxSize leaves the file in place, still denied,
and says why; a vault vigild cannot use stops it at start."""
import errno
import json
import os
import shutil
import subprocess
import sys
import time

import onaccess_harness as h

h.enter_namespace()


def wait_gone(path, timeout=5.0):
    end = time.time() + timeout
    while os.path.lexists(path) and time.time() < end:
        time.sleep(0.02)
    return not os.path.lexists(path)


def vault_list(vault):
    r = subprocess.run([h.VIGIL, "quarantine", "--vault", vault, "list", "--json"],
                       capture_output=True, text=True)
    return [json.loads(x) for x in r.stdout.splitlines() if x.strip()], r


tree = h.Tree()
try:
    vault = tree.path("vault")
    # there before vigild starts: no close-write scan sees them
    opened = tree.path("docs", "invoice eicar.txt")
    os.makedirs(os.path.dirname(opened))
    h.write_file(opened, h.EICAR, 0o640)
    prog = tree.path("clam.exe")
    shutil.copy(h.CLAM_EXE, prog)
    os.chmod(prog, 0o755)
    clean = tree.path("docs", "clean.txt")
    h.write_file(clean, b"a clean file\n" * 40)

    conf = ("OnAccessPrevention yes\nOnAccessAction quarantine\n"
            "QuarantineDirectory %s\n" % vault)
    with h.Vigild(tree, conf) as d:
        st = os.stat(vault)
        h.check(st.st_uid == 0 and (st.st_mode & 0o777) == 0o700,
                "the vault is made at start, root-only (mode %o)" % (st.st_mode & 0o777))

        # written and closed: found by the close-write scan, moved
        written = tree.path("docs", "dropped.com")
        h.write_file(written, h.EICAR, 0o600)
        os.utime(written, ns=(1500000000123456789, 1600000000987654321))
        h.check(wait_gone(written), "EICAR written and closed leaves its place")
        e = d.wait_event(lambda e: e["path"] == written and e["action"] == "quarantine")
        h.check(e is not None and e["event"] in ("close_write", "open_perm") and
                len(e.get("quarantine_id", "")) == 16 and e["verdict"] == "MALICIOUS",
                "its event names the vault item: %s" % e)
        items, r = vault_list(vault)
        item = [i for i in items if e and i.get("id") == e.get("quarantine_id")]
        h.check(len(item) == 1 and item[0]["path"] == written and
                item[0]["agent"].startswith("vigild") and r.returncode == 0,
                "vigil quarantine list shows it, quarantined by vigild: %s" % items)
        # restored outside the watched tree (back in place, vigild would
        # quarantine it again: it is still EICAR)
        back = os.path.join(tree.dir, "restored.com")
        r = subprocess.run([h.VIGIL, "quarantine", "--vault", vault, "restore",
                            e["quarantine_id"] if e else "none", "--to", back],
                           capture_output=True, text=True)
        ok = r.returncode == 0 and os.path.exists(back)
        if ok:
            with open(back, "rb") as f:
                data = f.read()
            bst = os.stat(back)
        h.check(ok and data == h.EICAR and (bst.st_mode & 0o777) == 0o600 and
                bst.st_mtime_ns == 1600000000987654321,
                "restore brings it back byte-identical, mode and mtime too (%s)"
                % r.stderr.strip())

        # an open of EICAR: denied, then moved
        rc, _ = h.try_open(opened)
        h.check(rc == errno.EPERM, "open of EICAR denied (%s)" % os.strerror(rc))
        h.check(wait_gone(opened), "and the file moves to the vault")
        e = d.wait_event(lambda e: e["path"] == opened and e["action"] == "quarantine")
        h.check(e is not None and e["event"] == "open_perm" and e["pid"] == os.getpid(),
                "logged as open_perm, quarantine, by this pid: %s" % e)

        # exec of clam.exe: denied, then moved
        try:
            subprocess.run([prog])
            h.check(False, "exec of clam.exe denied")
        except PermissionError as x:
            h.check(x.errno == errno.EPERM, "exec of clam.exe denied with EPERM")
        h.check(wait_gone(prog), "and clam.exe moves to the vault")

        # a clean file stays
        rc, _ = h.try_open(clean)
        h.check(rc == 0 and os.path.exists(clean), "a clean file opens and stays")
        s = d.stats()
        items, _ = vault_list(vault)
        h.check(s["actions"]["quarantined"] == 3 and s["actions"]["quarantine_failed"] == 0
                and len(items) == 2,
                "stats count 3 quarantined (one restored since): %s, %d in the vault"
                % (s["actions"], len(items)))

    # a vault too small: the file stays, the open is still denied, the
    # event says why
    small = tree.path("small-vault")
    conf = ("OnAccessPrevention yes\nOnAccessAction quarantine\n"
            "QuarantineDirectory %s\nQuarantineMaxSize 100\n" % small)
    kept = tree.path("kept.com")
    with h.Vigild(tree, conf) as d:
        h.write_file(kept, h.EICAR)
        e = d.wait_event(lambda e: e["path"] == kept and "quarantine_error" in e)
        h.check(e is not None and e["action"] in ("log", "deny") and
                os.path.exists(kept),
                "over QuarantineMaxSize the file stays and the event says why: %s"
                % (e and e["quarantine_error"]))
        rc, _ = h.try_open(kept)
        h.check(rc == errno.EPERM and os.path.exists(kept),
                "and its open is still denied")
        h.check(d.stats()["actions"]["quarantine_failed"] >= 1,
                "counted as quarantine_failed")

    # a vault vigild cannot use: refused at start, saying why
    bad = tree.path("bad-vault")
    os.mkdir(bad)
    os.chmod(bad, 0o777)
    v = h.Vigild(tree, "OnAccessAction quarantine\nQuarantineDirectory %s\n" % bad)
    try:
        r = subprocess.run([h.VIGILD, "--config", v.conf], capture_output=True,
                           text=True, timeout=30)
        why = [x for x in (r.stdout + r.stderr).splitlines()
               if "OnAccessAction quarantine" in x]
        h.check(r.returncode != 0 and why and bad in why[0],
                "vigild refuses a vault with mode 777 at start (exit %d): %s"
                % (r.returncode, why))
    except subprocess.TimeoutExpired:
        h.check(False, "vigild refuses a vault with mode 777 at start")
finally:
    tree.close()
sys.exit(h.finish())
