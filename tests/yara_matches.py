"""yara_matches.py - rule matches of the yara command and of `vigil scan
--json`, file by file, for the tests that hold vigil to yara's answers."""
import json
import os


def compare(yara_out, vigil_out, corpus):
    """Returns (want, got, differing): yara's and vigil's top-layer rule
    matches per file name of corpus, and how many files differ (each
    difference is printed)."""
    want = {n: set() for n in os.listdir(corpus)}
    for line in open(yara_out):
        rule, path = line.rstrip("\n").split(" ", 1)
        want[os.path.basename(path)].add(rule)
    got = {n: set() for n in os.listdir(corpus)}
    for line in open(vigil_out):
        o = json.loads(line)
        if o.get("summary"):
            continue
        for f in o.get("findings", []):
            if f["stage"] == "yara" and f["layer"] == "":
                got[os.path.basename(o["path"])].add(f["name"])
    bad = 0
    for n in sorted(want):
        if want[n] != got[n]:
            bad += 1
            print("DIFF %s: yara %s vigil %s" % (n, sorted(want[n]), sorted(got[n])))
    return want, got, bad
