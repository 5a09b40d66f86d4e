#!/usr/bin/python3
"""vigild_pyclamd.py - python3-pyclamd, unchanged, against vigild:
PING, VERSION, INSTREAM of EICAR, SCAN of a file, CONTSCAN of a tree,
STATS."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests"))
import vigild_harness as h  # noqa: E402

try:
    import pyclamd
except ImportError:
    print("SKIP: python3-pyclamd not installed")
    sys.exit(77)

with h.Vigild() as d:
    cd = pyclamd.ClamdUnixSocket(filename=d.sock)
    h.check(cd.ping() is True, "PING")
    v = cd.version()
    h.check(v.startswith("vigil "), "VERSION: " + v)
    r = cd.scan_stream(h.EICAR)
    h.check(r == {"stream": ("FOUND", "Eicar-Test-Signature")}, "INSTREAM EICAR: %r" % r)
    r = cd.scan_stream(b"just text\n" * 1000)
    h.check(r is None, "INSTREAM clean: %r" % r)
    path = os.path.join(d.dir, "eicar.com")
    with open(path, "wb") as f:
        f.write(h.EICAR)
    r = cd.scan_file(path)
    h.check(r == {path: ("FOUND", "Eicar-Test-Signature")}, "SCAN: %r" % r)
    clean = os.path.join(d.dir, "clean.txt")
    with open(clean, "w") as f:
        f.write("clean\n")
    h.check(cd.scan_file(clean) is None, "SCAN clean file")
    r = cd.contscan_file(d.dir)
    h.check(path in r and r[path] == ("FOUND", "Eicar-Test-Signature"), "CONTSCAN: %r" % r)
    r = cd.multiscan_file(d.dir)
    h.check(path in r, "MULTISCAN: %r" % r)
    s = cd.stats()
    h.check("POOLS" in s and s.rstrip().endswith("END"), "STATS")
sys.exit(h.finish())
