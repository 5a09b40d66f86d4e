#!/usr/bin/env bash
# onaccess.sh [TREE_MB] - on-access scanning side by side, in one run, on
# the same tmpfs (in a private mount namespace, so nothing else is
# marked) and the same signatures (.hdb and .ndb):
#   none           no daemon
#   vigild-exec    vigild: exec blocked until scanned + close-write scans
#   vigild-prevent vigild: every open blocked until scanned (prevention)
#   clamonacc      clamd + clamonacc --fdpass, OnAccessPrevention yes
# Workloads: (a) open+read+close of 10,000 small files, cold (first pass
# after the daemon starts) and warm (second pass), p50 and p99; (b) tar
# -x of a TREE_MB (default 200) tarball of /usr into the watched tree;
# (c) find -type f -exec cat {} + over it. Prints a table, the overheads
# against no daemon, the slowest permission answer (vigild's own
# counter), peak RSS of the daemon's processes and peak open fds, and
# for vigild how long its background (close-write) scans ran on after
# the extraction (waited for, up to WORKLOAD_TIMEOUT, before (c)), how
# many notifications it dropped and how many files (c) had to scan (0
# when every extracted file was cached by its close-write scan).
# Needs root (fanotify); clamonacc comes with Debian's clamav-daemon.
set -euo pipefail
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
# the unpacking worker of this build, not an installed one
export VIGIL_UNPACKD=${VIGIL_UNPACKD:-$build/vigil-unpackd}
tree_mb=${1:-200}
limit=${WORKLOAD_TIMEOUT:-900}

if [ "${VIGIL_BENCH_NS:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "onaccess.sh: needs root (fanotify)" >&2; exit 1; }
	for t in clamd clamonacc unshare cc; do
		command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] ||
			{ echo "onaccess.sh: $t is missing (apt-get install clamav-daemon util-linux)" >&2; exit 1; }
	done
	[ -x "$build/vigild" ] || { echo "onaccess.sh: build vigild first ($build)" >&2; exit 1; }
	VIGIL_BENCH_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
PATH=$PATH:/usr/sbin

tmp=$(mktemp -d /var/tmp/vigil-onaccess-bench.XXXXXX)
chmod 755 "$tmp"
W=$tmp/w
mkdir -p "$W" "$tmp/db" "$tmp/clamtmp"
mount -t tmpfs -o size=3g,mode=755 tmpfs "$W"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	umount -l "$W" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

cc -O2 -o "$tmp/open_lat" "$top/bench/open_lat.c"
# the same signatures for both: EICAR by MD5, a byte pattern
eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
printf '%s:%d:Bench.Eicar.MD5\n' "$(printf '%s' "$eicar" | md5sum | cut -d' ' -f1)" \
	"${#eicar}" >"$tmp/db/bench.hdb"
printf 'Bench.Pattern:0:*:%s\n' "$(printf 'vigil-bench-malicious-marker' | xxd -p | tr -d '\n')" \
	>"$tmp/db/bench.ndb"
chmod -R a+rX "$tmp/db"

# workload inputs, outside the watched tree
echo "preparing: 10,000 small files, a ${tree_mb} MB tarball of /usr" >&2
mkdir -p "$W/small"
python3 - "$W/small" <<'PY'
import os, random, sys
random.seed(1)
for d in range(100):
    os.mkdir(os.path.join(sys.argv[1], "d%02d" % d))
    for i in range(100):
        with open(os.path.join(sys.argv[1], "d%02d" % d, "f%03d.txt" % i), "w") as f:
            f.write(("line %d of file %d/%d\n" % (random.random(), d, i)) * random.randint(20, 120))
PY
find "$W/small" -type f | sort >"$tmp/small.list"
find /usr/lib /usr/share -xdev -type f -size -5M 2>/dev/null | sort >"$tmp/all.list"
python3 - "$tmp/all.list" "$tree_mb" >"$tmp/usr.list" <<'PY'
import os, sys
budget = int(sys.argv[2]) << 20
for line in open(sys.argv[1]):
    p = line.rstrip("\n")
    try:
        s = os.lstat(p)
    except OSError:
        continue
    if not os.path.isfile(p) or os.path.islink(p) or not os.access(p, os.R_OK):
        continue
    budget -= s.st_size
    if budget < 0:
        break
    print(p[1:])
PY
tar -cf "$tmp/usr.tar" -C / -T "$tmp/usr.list" 2>/dev/null || true
nfiles=$(wc -l <"$tmp/usr.list")
tar_mb=$(( $(stat -c %s "$tmp/usr.tar") / 1048576 ))
echo "tarball: $nfiles files, $tar_mb MB" >&2

now() { date +%s.%N; }
# descendants of a pid, itself included
tree_pids() { local p; echo "$1"; for p in $(pgrep -P "$1" 2>/dev/null); do tree_pids "$p"; done; }
peak_rss_mb() {
	local sum=0 p v
	for p in $(for r in "$@"; do tree_pids "$r"; done); do
		v=$(awk '/^VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
		sum=$((sum + ${v:-0}))
	done
	echo $((sum / 1024))
}
fd_sampler() { # PID... -> writes the most open fds seen to $tmp/fds
	local max=0 n p
	echo 0 >"$tmp/fds"
	while :; do
		n=0
		for p in "$@"; do n=$((n + $(ls "/proc/$p/fd" 2>/dev/null | wc -l || true))); done
		[ "$n" -gt "$max" ] && { max=$n; echo "$max" >"$tmp/fds"; }
		sleep 0.2
	done
}

results=()
run_workloads() { # NAME
	local name=$1 cold warm t0 ext cat_s
	cold=$("$tmp/open_lat" <"$tmp/small.list")
	warm=$("$tmp/open_lat" <"$tmp/small.list")
	mkdir -p "$W/tree"
	t0=$(now)
	timeout "$limit" tar -xf "$tmp/usr.tar" -C "$W/tree" 2>/dev/null && ext=$(echo "$(now) - $t0" | bc) || ext=timeout
	[ -n "${drain:-}" ] && $drain
	t0=$(now)
	timeout "$limit" find "$W/tree" -type f -exec cat {} + >/dev/null 2>&1 && cat_s=$(echo "$(now) - $t0" | bc) || cat_s=timeout
	results+=("$name $(echo "$cold" | cut -d' ' -f2,3) $(echo "$warm" | cut -d' ' -f2,3) $ext $cat_s $(echo "$cold" | cut -d' ' -f4)")
}

# an untimed extraction first: the tarball's pages and tmpfs's own
# first-use costs would otherwise count against the first setup only
mkdir -p "$W/tree" && tar -xf "$tmp/usr.tar" -C "$W/tree" 2>/dev/null || true
rm -rf "$W/tree"

# --- no daemon ---------------------------------------------------------
echo "run: none" >&2
drain=
run_workloads none
extras=("none - - - - - - -")
rm -rf "$W/tree"

# --- vigild ------------------------------------------------------------
vigild_run() { # NAME EXTRA-CONF
	local name=$1 vp sp st
	cat >"$tmp/vigild.conf" <<CONF
Foreground yes
LogSyslog no
LogFile $tmp/vigild-$name.log
EventLogFile $tmp/events-$name.json
LocalSocket
ControlSocket $tmp/control.sock
DatabaseDirectory $tmp/db
OnAccessMountPath $W
$2
CONF
	"$build/vigild" --config "$tmp/vigild.conf" >"$tmp/vigild-$name.out" 2>&1 &
	vp=$!
	pids+=("$vp")
	for _ in $(seq 300); do
		"$build/vigil" daemon --socket "$tmp/control.sock" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	printf '%s' "$eicar" >"$W/eicar.com"
	if cat "$W/eicar.com" >/dev/null 2>&1; then echo "$name: EICAR opens (expected for exec mode)" >&2
	else echo "$name: EICAR open denied" >&2; fi
	fd_sampler "$vp" & sp=$!
	drain="vigild_drain"
	run_workloads "$name"
	kill "$sp" 2>/dev/null || true; wait "$sp" 2>/dev/null || true
	st=$("$build/vigil" onaccess --socket "$tmp/control.sock" stats)
	printf '%s\n' "$st" >"$tmp/stats-$name.json"
	extras+=("$name $(printf '%s' "$st" | python3 -c '
import json,sys
s=json.load(sys.stdin)["onaccess"]; p=s["permission_answers"]
print(p["max_us"], p["later_than_deadline"], end=" ")')$(peak_rss_mb "$vp") $(cat "$tmp/fds") \
$(cat "$tmp/drain") $(printf '%s' "$st" | python3 -c '
import json,sys
s=json.load(sys.stdin)["onaccess"]["scans"]
print(s["dropped_notifications"], s["total"] - int(sys.argv[1]))' "$(cat "$tmp/scans0")")")
	kill "$vp"; wait "$vp" 2>/dev/null || true
	rm -rf "$W/tree" "$W/eicar.com"
}
vigild_drain() { # close-write scans still queued after the extraction (up to WORKLOAD_TIMEOUT)
	local t0 s0 q
	t0=$(now)
	s0=$(date +%s)
	while :; do
		q=$("$build/vigil" onaccess --socket "$tmp/control.sock" stats |
		    python3 -c 'import json,sys; s=json.load(sys.stdin)["onaccess"]
print(s["pending"], s["scans"]["total"])')
		echo "${q#* }" >"$tmp/scans0"
		[ "${q%% *}" = 0 ] && break
		[ $(($(date +%s) - s0)) -ge "$limit" ] && break
		sleep 0.1
	done
	echo "$(now) - $t0" | bc >"$tmp/drain"
	echo "  close-write scans drained $(cat "$tmp/drain") s after the extraction" >&2
}
echo "run: vigild-exec" >&2
vigild_run vigild-exec "OnAccessScanOnOpen no"
echo "run: vigild-prevent" >&2
vigild_run vigild-prevent "OnAccessPrevention yes"

# --- clamd + clamonacc ---------------------------------------------------
echo "run: clamonacc" >&2
cat >"$tmp/clamd.conf" <<CONF
Foreground yes
LogFile $tmp/clamd.log
LocalSocket $tmp/run/clamd.sock
DatabaseDirectory $tmp/db
TemporaryDirectory $tmp/clamtmp
User clamav
MaxThreads 10
OnAccessIncludePath $W
OnAccessPrevention yes
OnAccessExcludeUname clamav
OnAccessMaxFileSize 5M
CONF
# clamd drops to clamav before it binds its socket
mkdir -p "$tmp/run"
chown clamav "$tmp/clamtmp" "$tmp/run"
touch "$tmp/clamd.log"; chown clamav "$tmp/clamd.log"
clamd --config-file="$tmp/clamd.conf" >"$tmp/clamd.out" 2>&1 &
cp=$!
pids+=("$cp")
for _ in $(seq 600); do [ -S "$tmp/run/clamd.sock" ] && break; sleep 0.1; done
clamonacc --foreground --fdpass --config-file="$tmp/clamd.conf" --log="$tmp/clamonacc.log" \
	>"$tmp/clamonacc.out" 2>&1 &
op=$!
pids+=("$op")
printf '%s' "$eicar" >"$W/eicar.com"
ok=0
for _ in $(seq 300); do
	if ! cat "$W/eicar.com" >/dev/null 2>&1; then ok=1; break; fi
	sleep 0.1
done
[ $ok = 1 ] && echo "clamonacc: EICAR open denied" >&2 || echo "clamonacc: EICAR NOT denied (clamonacc not ready?)" >&2
fd_sampler "$op" "$cp" & sp=$!
drain=
run_workloads clamonacc
kill "$sp" 2>/dev/null || true; wait "$sp" 2>/dev/null || true
extras+=("clamonacc - - $(peak_rss_mb "$cp" "$op") $(cat "$tmp/fds") - - -")

# --- the table -------------------------------------------------------------
echo
echo "On-access, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at the end (shared machine)."
echo "(a) 10,000 files of 1-7 KB; (b) tar -x of $nfiles files, $tar_mb MB of /usr; (c) find -exec cat {} +"
printf '%s\n' "${results[@]}" | python3 -c '
import sys
rows = [l.split() for l in sys.stdin if l.strip()]
base = rows[0]
def f(x): 
    try: return float(x)
    except ValueError: return None
print("%-15s %10s %10s %10s %10s %9s %9s %6s" % ("setup", "cold p50", "cold p99", "warm p50",
      "warm p99", "(b) s", "(c) s", "failed"))
for r in rows:
    print("%-15s %8sus %8sus %8sus %8sus %9s %9s %6s" % tuple(r))
print()
print("overhead against no daemon (b, c: time / none - 1; a: p50 / none p50 - 1)")
over = {}
for r in rows[1:]:
    o = []
    for i in (1, 3, 5, 6):
        a, b = f(r[i]), f(base[i])
        o.append("%+.0f%%" % ((a / b - 1) * 100) if a is not None and b else "n/a")
        over.setdefault(r[0], {})[i] = (a - b) if a is not None and b else None
    print("%-15s cold p50 %7s  warm p50 %7s  (b) %7s  (c) %7s" % (r[0], *o))
if "clamonacc" in over:
    for v in ("vigild-exec", "vigild-prevent"):
        if v not in over:
            continue
        for i, w in ((5, "(b)"), (6, "(c)")):
            c, x = over["clamonacc"][i], over[v][i]
            if c is None or x is None:
                print("%s %s: n/a" % (v, w))
            elif x <= 0:
                print("%s %s: no measurable overhead; clamonacc adds %.2f s" % (v, w, c))
            else:
                print("%s %s: clamonacc overhead / vigild overhead = %.1fx" % (v, w, c / x))
'
echo
echo "setup            slowest-answer-us  later-than-deadline  peak-RSS-MB(all processes)  peak-open-fds  background-drain-s  dropped-notifications  scans-during-(c)"
printf '%s\n' "${extras[@]}" | awk '{ printf "%-16s %17s %20s %27s %14s %19s %22s %17s\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
