#!/usr/bin/python3
"""quarantine_kill.py - kill -9 `vigil scan --action=quarantine` at random
points, at least 50 times, over a tree of detected files (EICAR files and
512 KiB files matched by a SHA-256 list, so a kill can land in the middle
of a payload). After each kill every file must be in place with its bytes,
or whole in the vault, or both; never missing, never half-written. The
vault must list cleanly (no damaged item), and every item must restore to
the exact bytes. Then the files go back for the next round.

The tree and vault live on /dev/shm when there is one: a process kill
does not depend on the disk (the data written is in the page cache
either way), and without fsync costs the whole test takes seconds."""

import base64
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

VIGIL = os.environ["VIGIL"]
KILLS = 50
EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-"
         b"ANTIVIRUS-TEST-FILE!$H+H*")

failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg, file=sys.stderr)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def run(*args, check=True):
    p = subprocess.run([VIGIL, *args], capture_output=True)
    if check and p.returncode != 0:
        raise SystemExit("FAIL: vigil %s: exit %d: %s" % (
            " ".join(args), p.returncode, p.stderr.decode(errors="replace")))
    return p


def main():
    shm = "/dev/shm"
    base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
    scratch = tempfile.mkdtemp(prefix="vigil-qkill-", dir=base)
    try:
        test(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if failures:
        print("%d failure(s)" % failures, file=sys.stderr)
        sys.exit(1)


def test(scratch):
    rng = random.Random(os.environ.get("VIGIL_TEST_SEED"))
    tree = os.path.join(scratch, "tree")
    vault = os.path.join(scratch, "vault")
    sigs = os.path.join(scratch, "big.hsb")
    expected = {}   # path -> sha256 of its bytes
    lines = []
    for i in range(6):
        d = os.path.join(tree, "d%d" % (i % 4), "e%d" % (i % 3))
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, "eicar %d.com" % i)
        expected[p] = EICAR
    for i in range(2):
        blob = rng.randbytes(512 * 1024)
        p = os.path.join(tree, "d%d" % i if i < 4 else "", "blob%d.bin" % i)
        expected[p] = blob
        lines.append("%s:%d:Test.Blob%d\n" % (sha(blob), len(blob), i))
    with open(sigs, "w") as f:
        f.writelines(lines)
    for p, data in expected.items():
        with open(p, "wb") as f:
            f.write(data)
    expected = {p: sha(d) for p, d in expected.items()}
    scan = [VIGIL, "scan", "--action=quarantine", "--vault", vault,
            "-d", sigs, "-j", "2", "--no-summary", "--no-allowlist", tree]

    # how long a whole run takes, to spread the kills over it
    t0 = time.monotonic()
    subprocess.run(scan, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    full = time.monotonic() - t0
    if any(os.path.exists(p) for p in expected):
        fail("an uninterrupted run left files in place")
    check_and_refill(vault, expected, 0, True)
    t0 = time.monotonic()
    subprocess.run(scan[:2] + scan[3:], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    start = time.monotonic() - t0   # the same scan, acting on nothing
    print("ok: a full run takes %.0f ms, without actions %.0f ms "
          "(shared machine)" % (full * 1e3, start * 1e3))
    window = max(full - start, 0.002) * 1.2
    os.makedirs(vault, exist_ok=True)

    kills = mid = rounds = temps = 0
    while kills < KILLS and rounds < 4 * KILLS:
        rounds += 1
        proc = subprocess.Popen(scan, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        # wait for the first item to be begun (loading the engine takes
        # most of a run), then kill at a random point of the actions
        deadline = time.monotonic() + 20
        while (proc.poll() is None and time.monotonic() < deadline and
               not any(n.startswith(".tmp-") for n in os.listdir(vault))):
            time.sleep(0.0005)
        time.sleep(rng.uniform(0, window))
        proc.send_signal(signal.SIGKILL)
        if proc.wait() == -signal.SIGKILL:
            kills += 1
        else:           # it finished first: aim earlier next time
            window *= 0.7
        if os.path.isdir(vault):
            temps += sum(n.startswith(".tmp-") for n in os.listdir(vault))
        moved = sum(not os.path.exists(p) for p in expected)
        if 0 < moved < len(expected):
            mid += 1
        check_and_refill(vault, expected, rounds, True)
    print("ok: %d kills in %d rounds, %d of them in the middle of the "
          "actions" % (kills, rounds, mid))
    if kills < KILLS:
        fail("only %d kills landed" % kills)
    if mid < 5:
        fail("only %d kills landed while files were being quarantined" % mid)
    left = [n for n in os.listdir(vault) if n.startswith(".tmp-")]
    print("ok: %d half-written items left by killed writers, all swept "
          "when the vault was next opened" % temps)
    if left:
        fail("temporaries of dead writers not swept: %s" % left)


def check_and_refill(vault, expected, rnd, refill):
    """Every file in place or in the vault; with refill, restore every
    item (an item whose original is also in place, to a side path)."""
    p = run("quarantine", "--vault", vault, "list", "--json", check=False)
    if not os.path.isdir(vault):
        items = []
    elif p.returncode != 0:
        fail("round %d: list: exit %d: %s" % (rnd, p.returncode, p.stderr))
        return
    else:
        items = [json.loads(l) for l in p.stdout.splitlines()]
    in_vault = {}
    for r in items:
        path = os.fsdecode(base64.b64decode(r["path_b64"]))
        if path not in expected:
            fail("round %d: item %s has an unknown path %r" % (rnd, r["id"], path))
            continue
        if r["sha256"] != expected[path]:
            fail("round %d: item %s records a wrong SHA-256" % (rnd, r["id"]))
        in_vault.setdefault(path, []).append(r["id"])
    for path, digest in expected.items():
        here = os.path.exists(path)
        if here:
            with open(path, "rb") as f:
                if sha(f.read()) != digest:
                    fail("round %d: %s is in place but changed" % (rnd, path))
        elif path not in in_vault:
            fail("round %d: %s is LOST: neither in place nor in the vault"
                 % (rnd, path))
    # every item restores to the exact bytes (restore checks the SHA-256
    # too); an item whose original is still in place goes to a side path
    for path, ids in in_vault.items() if refill else ():
        for i in ids:
            if os.path.exists(path):
                side = os.path.join(os.path.dirname(vault), "check.bin")
                run("quarantine", "--vault", vault, "restore", i, "--to", side)
                with open(side, "rb") as f:
                    if sha(f.read()) != expected[path]:
                        fail("round %d: item %s restores other bytes" % (rnd, i))
                os.unlink(side)
            else:
                run("quarantine", "--vault", vault, "restore", i)
                with open(path, "rb") as f:
                    if sha(f.read()) != expected[path]:
                        fail("round %d: %s restored with other bytes"
                             % (rnd, path))


main()
