#!/usr/bin/env bash
# vigild_reload.sh [--count N] [--warm N] [--workers N] - memory of a
# reload in vigild, whose engine lives in an engine process per
# generation (the new one loads while the old one serves). With
# bench/bundle.sh's inputs (signature-base DEFAULT-SET + N MD5s, default
# 1,000,000; bundles all.vgb and all-next.vgb, one more YARA file):
# vigild serves all.vgb, --warm INSTREAM scans warm it (default 2,000),
# then all-next.vgb replaces it and RELOAD runs. Sums PSS and RSS of
# vigild, its engine processes and their scan workers
# (/proc/PID/smaps_rollup) in steady state and every 20 ms during the
# reload, and prints the peak against the steady state (target 1.3x).
set -euo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/.." && pwd)
shared=${VIGIL_SHARED:-$top/../shared}
VIGIL=${VIGIL:-$top/build/vigil}
# the unpacking worker beside the binary when it runs from a build tree
export VIGIL_UNPACKD=${VIGIL_UNPACKD:-$(dirname "$VIGIL")/vigil-unpackd}
VIGILD=${VIGILD:-$(dirname "$VIGIL")/vigild}
count=1000000 warm=2000 workers=2
while [ $# -gt 0 ]; do
	case $1 in
	--count) count=$2; shift ;;
	--warm) warm=$2; shift ;;
	--workers) workers=$2; shift ;;
	*) echo "usage: $0 [--count N] [--warm N] [--workers N]" >&2; exit 2 ;;
	esac
	shift
done
rules_dir=$shared/rules/yara/signature-base
[ -f "$rules_dir/DEFAULT-SET.txt" ] || { echo "vigild_reload.sh: no $rules_dir (set VIGIL_SHARED)" >&2; exit 1; }

# the inputs of bench/bundle.sh, in the same place (made once)
work=$top/build/bench-bundle
mkdir -p "$work/rules"
hdb=$work/hashes-$count.hdb
[ -s "$hdb" ] || "$top/bench/make_hashlist.sh" --count "$count" "$hdb"
if [ ! -e "$work/rules/.done" ]; then
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in '' | '#'*) continue ;; esac
		cp "$rules_dir/$line" "$work/rules/"
	done <"$rules_dir/DEFAULT-SET.txt"
	touch "$work/rules/.done"
fi
trust=$work/trust
if [ ! -s "$work/bench.sec" ]; then
	rm -rf "$trust" && mkdir -p "$trust"
	"$VIGIL" sig keygen --secret "$work/bench.sec" --public "$trust/bench.pub" >/dev/null
fi
printf 'rule BenchNextDay { strings: $a = "vigil-bench-next-day" condition: $a }\n' \
	>"$work/next-day.yar"
mk() {
	local out=$work/$1 version=$2
	shift 2
	[ -s "$out" ] && [ "$out" -nt "$hdb" ] && return 0
	"$VIGIL" sig build -o "$out" --version "$version" --key "$work/bench.sec" "$@" >/dev/null
}
mk all.vgb 1 "$work/rules" "$hdb"
mk all-next.vgb 2 "$work/rules" "$work/next-day.yar" "$hdb"

run=$(mktemp -d)
chmod 755 "$run"
vpid=
cleanup() {
	[ -n "$vpid" ] && kill "$vpid" 2>/dev/null && wait "$vpid" 2>/dev/null
	rm -rf "$run"
}
trap cleanup EXIT
mkdir "$run/db"
cp "$work/all.vgb" "$run/db/main.vgb"
cat >"$run/vigild.conf" <<EOF
Foreground yes
LogSyslog no
LogFile $run/vigild.log
LocalSocket $run/clamd.sock
ControlSocket $run/control.sock
DatabaseDirectory $run/db
TrustedKeys $trust
ScanWorkers $workers
SharedCacheEntries 0
EOF
"$VIGILD" --config "$run/vigild.conf" >"$run/out" 2>&1 &
vpid=$!
/usr/bin/python3 - "$vpid" "$run" "$work/all-next.vgb" "$warm" <<'PY'
import os, shutil, socket, sys, time

vpid, run, nxt, warm = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
sock = os.path.join(run, "clamd.sock")

def cmd(data):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(120)
    s.connect(sock)
    s.sendall(data)
    out = b""
    while not out.endswith(b"\0"):
        b = s.recv(4096)
        if not b:
            break
        out += b
    s.close()
    return out

def tree(pid):
    out = [pid]
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                for c in f.read().split():
                    out += tree(int(c))
    except OSError:
        pass
    return out

def mem():
    pss = rss = 0
    for p in tree(vpid):
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            pass
    return pss, rss, len(tree(vpid))

for _ in range(600):
    try:
        if cmd(b"zPING\0") == b"PONG\0":
            break
    except OSError:
        time.sleep(0.1)
t0 = time.time()
for i in range(warm):
    body = os.urandom(4096)
    cmd(b"zINSTREAM\0" + len(body).to_bytes(4, "big") + body + b"\0\0\0\0")
print("warm-up: %d INSTREAM scans in %.1f s" % (warm, time.time() - t0))
time.sleep(1)
steady = [mem() for _ in range(5)]
pss0 = sorted(s[0] for s in steady)[2]
rss0 = sorted(s[1] for s in steady)[2]
print("steady: PSS %.1f MB, RSS %.1f MB, %d processes" % (pss0 / 1024, rss0 / 1024, steady[0][2]))
shutil.copyfile(nxt, os.path.join(run, "db", ".main.vgb"))
os.rename(os.path.join(run, "db", ".main.vgb"), os.path.join(run, "db", "main.vgb"))
t0 = time.time()
cmd(b"zRELOAD\0")
peak_pss = peak_rss = nproc = 0
log = os.path.join(run, "vigild.log")
served = None
while time.time() - t0 < 300:
    pss, rss, n = mem()
    peak_pss, peak_rss, nproc = max(peak_pss, pss), max(peak_rss, rss), max(nproc, n)
    if served is None and "generation 2 serving" in open(log).read():
        served = time.time() - t0
    if served is not None and n <= steady[0][2]:
        break
    time.sleep(0.02)
time.sleep(1)
after = mem()
print("reload: generation 2 served after %.1f s" % (served or -1))
print("peak during the reload: PSS %.1f MB (%.2fx steady), RSS %.1f MB (%.2fx), up to %d processes"
      % (peak_pss / 1024, peak_pss / pss0, peak_rss / 1024, peak_rss / rss0, nproc))
print("after: PSS %.1f MB (%.2fx steady)" % (after[0] / 1024, after[0] / pss0))
PY
