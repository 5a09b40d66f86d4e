#!/usr/bin/python3
"""compare_matches.py - do two scanners report the same files?

    compare_matches.py [--rules LIST] [--show N] ROOT NAME_A FORMAT_A OUT_A
                       NAME_B FORMAT_B OUT_B
    compare_matches.py --count ROOT FORMAT OUT

Reads what two scanners printed for the same tree ROOT and compares the
sets of top-level files each reported (findings inside an archive count
for the archive). FORMAT is one of:
  yara    `yara -e` lines: "namespace:rule path"
  clam    clamscan/clamdscan lines: "path: Name FOUND"
  vigil   `vigil scan --json` lines: one object per file with "findings"

Prints one summary line, "same files: yes|no (...)", then up to N files
found by only one side, with the names the other side missed. With
--rules (the DEFAULT-SET list), each such YARA rule is marked when its
file uses the filename/filepath/extension/filetype/owner externals:
vigil sets those per file, the yara command line can only set them to
one value for all files, so such rules may rightly differ.

--count prints only the number of files OUT reports.

Exit status 0 whether or not the sets differ; 2 on bad input.
"""
import json
import os
import re
import sys

EXTERNALS = re.compile(rb"\b(filename|filepath|extension|filetype|owner)\b")


def norm(root, path):
    return os.path.relpath(os.path.abspath(path), root)


def read_yara(root, path):
    found = {}
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "surrogateescape").rstrip("\n")
            rule, sep, target = line.partition(" ")
            if not sep or ":" not in rule:
                continue
            found.setdefault(norm(root, target), set()).add(rule)
    return found


def read_clam(root, path):
    found = {}
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "surrogateescape").rstrip("\n")
            if not line.endswith(" FOUND"):
                continue
            target, sep, rest = line.rpartition(": ")
            if not sep:
                continue
            name = rest[: -len(" FOUND")]
            if name.endswith(".UNOFFICIAL"):
                name = name[: -len(".UNOFFICIAL")]
            found.setdefault(norm(root, target), set()).add(name)
    return found


def read_vigil(root, path):
    found = {}
    with open(path, "rb") as f:
        for raw in f:
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(obj, dict) or "findings" not in obj:
                continue
            target = obj.get("path", "")
            if "path_hex" in obj:
                target = bytes.fromhex(obj["path_hex"]).decode("utf-8", "surrogateescape")
            # every YARA match counts, informational ones (a rule's
            # score below the thresholds) included, as yara lists them
            names = {f.get("name", "") for f in obj["findings"]
                     if f.get("verdict") in ("MALICIOUS", "SUSPICIOUS")
                     or f.get("stage") == "yara"}
            if names:
                found.setdefault(norm(root, target), set()).update(names)
    return found


READERS = {"yara": read_yara, "clam": read_clam, "vigil": read_vigil}


def rules_with_externals(listfile):
    """Namespaces (file base names) of the listed rule files that use externals."""
    out = set()
    base = os.path.dirname(listfile)
    with open(listfile) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            p = line if os.path.isabs(line) else os.path.join(base, line)
            try:
                with open(p, "rb") as r:
                    if EXTERNALS.search(r.read()):
                        out.add(os.path.splitext(os.path.basename(p))[0])
            except OSError:
                pass
    return out


def main(argv):
    rules, show = None, 20
    if len(argv) == 4 and argv[0] == "--count" and argv[2] in READERS:
        print(len(READERS[argv[2]](os.path.abspath(argv[1]), argv[3])))
        return 0
    while argv and argv[0].startswith("--"):
        if argv[0] == "--rules" and len(argv) > 1:
            rules, argv = argv[1], argv[2:]
        elif argv[0] == "--show" and len(argv) > 1:
            show, argv = int(argv[1]), argv[2:]
        else:
            break
    if len(argv) != 7 or argv[2] not in READERS or argv[5] not in READERS:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    root = os.path.abspath(argv[0])
    a_name, b_name = argv[1], argv[4]
    a = READERS[argv[2]](root, argv[3])
    b = READERS[argv[5]](root, argv[6])
    ext = rules_with_externals(rules) if rules else set()

    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    same = not only_a and not only_b
    print("same files: %s (%s %d, %s %d, both %d, only %s %d, only %s %d)"
          % ("yes" if same else "no", a_name, len(a), b_name, len(b),
             len(set(a) & set(b)), a_name, len(only_a), b_name, len(only_b)))

    def mark(name):
        ns = name.split(":", 1)[0]
        return name + (" [uses externals]" if ns in ext else "")

    for who, files, src in ((a_name, only_a, a), (b_name, only_b, b)):
        for path in files[:show]:
            print("  only %s: %s: %s" % (who, path, ", ".join(mark(n) for n in sorted(src[path]))))
        if len(files) > show:
            print("  only %s: ... and %d more" % (who, len(files) - show))
    # Files both found but with different YARA rules.
    differ = [p for p in sorted(set(a) & set(b)) if a[p] != b[p]]
    if differ:
        print("  files found by both with different names: %d" % len(differ))
        for path in differ[:show]:
            print("    %s: only %s: %s; only %s: %s" % (
                path, a_name, ", ".join(mark(n) for n in sorted(a[path] - b[path])) or "-",
                b_name, ", ".join(mark(n) for n in sorted(b[path] - a[path])) or "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
