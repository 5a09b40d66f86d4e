#!/usr/bin/python3
"""onaccess_fallback.py - vigild on a kernel that lacks a fanotify flag
(VIGILD_TEST_KERNEL_LACKS makes it treat the flag as missing): without
FAN_MARK_IGNORE the verdict cache uses FAN_MARK_IGNORED_MASK and still
works; without FAN_MARK_EVICTABLE there are no ignore marks and every
open is scanned; without FAN_MARK_FILESYSTEM the mount is marked and
still protected. Each fallback says so in the log. Also: pseudo
filesystems are never marked, OnAccessMaxFileSize lets larger files
through logged INCOMPLETE, and uid and executable exclusions."""
import errno
import os
import subprocess
import sys

import onaccess_harness as h

h.enter_namespace()
tree = h.Tree()


def second_open_events(d, name):
    """open_perm events of a first and a second open of a new clean file."""
    p = tree.path(name)
    h.write_file(p, b"clean %s\n" % name.encode())
    s0 = d.wait_stats(lambda s: s["pending"] == 0)
    h.try_open(p)
    s1 = d.wait_stats(lambda s: s["pending"] == 0)
    h.try_open(p)
    s2 = d.wait_stats(lambda s: s["pending"] == 0)
    return (s1["events"]["open_perm"] - s0["events"]["open_perm"],
            s2["events"]["open_perm"] - s1["events"]["open_perm"])


try:
    eicar = tree.path("eicar.com")
    h.write_file(eicar, h.EICAR)
    big = tree.path("big.bin")
    h.write_file(big, b"\0" * 8192)
    base = "OnAccessPrevention yes\nOnAccessScanOnClose no\n"

    with h.Vigild(tree, base + "OnAccessMaxFileSize 4K\n",
                  env={"VIGILD_TEST_KERNEL_LACKS": "FAN_MARK_IGNORE"}) as d:
        st = d.stats()
        h.check(st["ignore_mark_flag"] == "FAN_MARK_IGNORED_MASK",
                "without FAN_MARK_IGNORE: %s" % st["ignore_mark_flag"])
        h.check("lacks FAN_MARK_IGNORE" in d.log_text(), "the log says so")
        first, second = second_open_events(d, "a.txt")
        h.check(first == 1 and second == 0,
                "the ignored mask caches: %d event, then %d" % (first, second))
        h.check(h.try_open(eicar)[0] == errno.EPERM, "EICAR still denied")
        rc, _ = h.try_open(big)
        e = d.wait_event(lambda e: e["path"] == big)
        h.check(rc == 0 and e is not None and e["verdict"] == "INCOMPLETE" and
                e["findings"][0]["name"] == "Heuristics.Limits.Exceeded.OnAccessMaxFileSize",
                "a file over OnAccessMaxFileSize opens, logged INCOMPLETE: %s" % e)

    with h.Vigild(tree, base, env={"VIGILD_TEST_KERNEL_LACKS": "FAN_MARK_EVICTABLE"}) as d:
        st = d.stats()
        h.check(st["ignore_mark_flag"] == "off", "without FAN_MARK_EVICTABLE: no ignore marks")
        h.check("lacks FAN_MARK_EVICTABLE" in d.log_text(), "the log says so")
        first, second = second_open_events(d, "b.txt")
        h.check(first == 1 and second == 1,
                "every open is scanned: %d event, then %d" % (first, second))
        h.check(d.stats()["ignore_marks"]["live"] == 0, "the kernel holds no ignore mark")

    with h.Vigild(tree, base + "OnAccessIncludePath /proc\nOnAccessExcludeUname nobody\n"
                  "OnAccessExcludeExecutable /usr/bin/head\n",
                  env={"VIGILD_TEST_KERNEL_LACKS": "FAN_MARK_FILESYSTEM"}) as d:
        st = d.stats()
        h.check(st["watched"] == [{"path": tree.w, "type": "mount"}],
                "without FAN_MARK_FILESYSTEM the mount is marked; /proc is not: %s"
                % st["watched"])
        log = d.log_text()
        h.check("lacks FAN_MARK_FILESYSTEM" in log and "proc filesystem: not marked" in log,
                "the log says both")
        h.check(h.try_open(eicar)[0] == errno.EPERM, "EICAR denied through the mount mark")
        r = subprocess.run(["runuser", "-u", "nobody", "--", "cat", eicar],
                           capture_output=True)
        h.check(r.returncode == 0, "OnAccessExcludeUname nobody: nobody reads EICAR")
        r = subprocess.run(["head", "-c", "3", eicar], capture_output=True)
        h.check(r.returncode == 0, "OnAccessExcludeExecutable /usr/bin/head: head reads it")
        r = subprocess.run(["cat", eicar], capture_output=True)
        h.check(r.returncode != 0 and b"not permitted" in r.stderr, "cat as root does not")
        h.check(d.stats()["answered_at_once"]["excluded"] >= 2, "exclusions counted")

    # bad exclusions and a path that is not there stop vigild at start
    for bad, why in (("OnAccessExcludeRegex (\n", "OnAccessExcludeRegex"),
                     ("OnAccessExcludeUname no-such-user-here\n", "no such user"),
                     ("OnAccessIncludePath /no/such/dir\n", "/no/such/dir"),
                     ("OnAccessExcludeFSType notafs\n", "unknown filesystem type")):
        v = h.Vigild(tree, base + bad)
        r = subprocess.run([h.VIGILD, "--config", v.conf], capture_output=True, text=True,
                           timeout=30)
        h.check(r.returncode == 1 and why in r.stderr,
                "refused at start: %s (%s)" % (bad.strip(), r.stderr.strip()[-100:]))
finally:
    tree.close()
sys.exit(h.finish())
