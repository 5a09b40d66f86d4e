#!/bin/sh
# cli_json.sh - `vigil scan --json`: every line is a JSON object; file
# reports, errors, skips and the summary carry the fields that
# doc/vigil-json.md promises, with the right values.
. "$top_srcdir/tests/lib.sh"

mkdir -p "$scratch/t/sub"
eicar >"$scratch/t/eicar.com"
echo hello >"$scratch/t/sub/hello.txt"
# a file name that is not UTF-8 must still give valid JSON
printf 'x' >"$scratch/t/sub/bad-$(printf '\377')-name"
mkfifo "$scratch/t/fifo"

expect_exit 1 "--json scan" "$VIGIL" scan --json --no-progress \
	"$scratch/t" "$scratch/missing"
printf '%s\n' "$out" >"$scratch/out.ndjson"

/usr/bin/python3 - "$scratch" "$scratch/out.ndjson" <<'PY' || fail "JSON checks"
import hashlib, json, sys
top, path = sys.argv[1], sys.argv[2]
bad = 0
def check(cond, what):
    global bad
    if cond:
        print("ok:", what)
    else:
        print("FAIL:", what, file=sys.stderr)
        bad += 1

objs = []
for n, line in enumerate(open(path, encoding="utf-8"), 1):
    try:
        objs.append(json.loads(line))
    except ValueError as e:
        check(False, "line %d parses: %s: %r" % (n, e, line))
check(all(isinstance(o, dict) for o in objs), "every line is an object")

summaries = [o for o in objs if o.get("summary") is True]
reports = [o for o in objs if "summary" not in o]
check(all(isinstance(o.get("path"), str) for o in reports),
      "every report has a path")
files = {o["path"]: o for o in reports if "verdict" in o}
errors = [o for o in reports if "error" in o]
skips = [o for o in reports if "skipped" in o]
check(len(summaries) == 1 and objs[-1] is summaries[0],
      "one summary object, last")

fields = {"path": str, "verdict": str, "findings": list, "sha256": str,
          "size": int, "type": str, "cached": bool, "time_us": int,
          "bytes_scanned": int}
for p, o in files.items():
    for k, t in fields.items():
        check(isinstance(o.get(k), t), "%s has %s (%s)" % (p, k, t.__name__))
    for f in o["findings"]:
        for k, t in {"stage": str, "name": str, "layer": str, "verdict": str,
                     "score": float, "detail": str}.items():
            check(isinstance(f.get(k), t), "finding of %s has %s" % (p, k))

e = files.get(top + "/t/eicar.com")
check(e is not None, "EICAR reported")
if e:
    data = open(top + "/t/eicar.com", "rb").read()
    check(e["verdict"] == "MALICIOUS", "EICAR MALICIOUS")
    check(e["sha256"] == hashlib.sha256(data).hexdigest(), "EICAR sha256")
    check(e["size"] == len(data), "EICAR size")
    check(any(f["name"] == "Eicar-Test-Signature" and f["layer"] == "" and
              f["verdict"] == "MALICIOUS" and f["score"] == 1.0
              for f in e["findings"]), "EICAR finding")
h = files.get(top + "/t/sub/hello.txt")
check(h is not None and h["verdict"] == "CLEAN" and h["size"] == 6,
      "hello.txt CLEAN, 6 bytes")
odd = [o for o in files.values() if "path_hex" in o]
check(len(odd) == 1 and bytes.fromhex(odd[0]["path_hex"]).endswith(b"bad-\xff-name")
      and "\ufffd" in odd[0]["path"], "non-UTF-8 name: path_hex holds the bytes")

check(len(errors) == 1 and errors[0]["path"] == top + "/missing" and
      errors[0]["error"] == "No such file or directory" and
      isinstance(errors[0]["code"], int), "error object for the missing path")
check(len(skips) == 1 and skips[0]["path"] == top + "/t/fifo" and
      skips[0]["skipped"] == "not a regular file", "FIFO skipped object")

s = summaries[0] if summaries else {}
for k in ("files", "directories", "found", "malicious", "suspicious",
          "incomplete", "skipped", "errors", "bytes_read", "bytes_scanned",
          "signatures", "exit_code"):
    check(isinstance(s.get(k), int), "summary has %s" % k)
for k in ("time_s", "mb_per_s"):
    check(isinstance(s.get(k), (int, float)), "summary has %s" % k)
check(s.get("files") == 3 and s.get("found") == 1 and s.get("malicious") == 1
      and s.get("errors") == 1 and s.get("skipped") == 1 and
      s.get("directories") == 2 and s.get("exit_code") == 1,
      "summary counts: %r" % s)
sys.exit(1 if bad else 0)
PY

# --infected --json: only the hits (and errors), then the summary
expect_exit 1 "--json -i" "$VIGIL" scan --json -i --no-progress "$scratch/t"
n=$(printf '%s\n' "$out" | wc -l)
[ "$n" -eq 2 ] && ok "-i: one hit and the summary" || fail "-i: $n lines: $out"
expect_grep '"verdict":"MALICIOUS"' "$(printf '%s\n' "$out" | head -n 1)" \
	"-i: the hit first"

# --no-summary leaves the summary object out
expect_exit 0 "--json --no-summary" "$VIGIL" scan --json --no-summary \
	--no-progress "$scratch/t/sub/hello.txt"
n=$(printf '%s\n' "$out" | wc -l)
[ "$n" -eq 1 ] && ok "--no-summary: one line" || fail "--no-summary: $out"

finish
