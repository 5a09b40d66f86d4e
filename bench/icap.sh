#!/usr/bin/env bash
# icap.sh [BUILD_DIR] - srv_vigil against c-icap's own services, side by
# side on this machine: echo (the floor: c-icap without scanning),
# virus_scan with clamav_mod (Debian's libc-icap-mod-virus-scan), and
# srv_vigil. Same unique bodies (bench/icap_load.py writes a counter into
# each), same signatures: a 100k MD5 .hdb from bench/make_hashlist.sh
# plus EICAR (built in for vigil, one .hdb line for ClamAV, whose
# clamav_mod only reads /var/lib/clamav: it runs in a private mount
# namespace with the bench's folder mounted there, so the system's
# folder is not touched; this needs root).
#
# Rows: 100 KB and 10 MB bodies, concurrency 1 and 8, with and without
# Allow: 204. virus_scan gets MaxObjectSize 100M so that it scans the
# 10 MB bodies too (its default, 5M, passes them unscanned). Prints
# MB/s, req/s, p99 latency and each c-icap's peak RSS (all its processes'
# VmHWM added), the CPU time c-icap spent per request (user + system of
# all its processes: a figure a loaded machine disturbs less than MB/s),
# then the ratios the targets name.
#
# SERVICES="virus_scan vigil" and ROWS="10MB:1 10MB:8 100KB:8" (body:conc)
# narrow a run to some services and rows; both default to all.
# VIGIL_DIRECTIVES="vigil.MaxMemObject 16M" adds lines to vigil's config.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=$(cd "${1:-$top/build}" && pwd)
# the unpacking worker of this build, not an installed one
export VIGIL_UNPACKD=${VIGIL_UNPACKD:-$build/vigil-unpackd}
module=$build/icap/.libs/srv_vigil.so
[ -f "$module" ] || { echo "icap.sh: build srv_vigil.so first ($module)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "icap.sh: needs root (private mount for clamav_mod)" >&2; exit 2; }
work=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 1
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"

SERVICES=${SERVICES:-echo virus_scan vigil}
ROWS=${ROWS:-100KB:1 100KB:8 10MB:1 10MB:8}
R100K_1=${R100K_1:-300} R100K_8=${R100K_8:-800} R10M_1=${R10M_1:-6} R10M_8=${R10M_8:-16}
mkdir -p "$work/sigs" "$work/clamdb" "$work/templates"
bench/make_hashlist.sh "$work/sigs/bench.hdb" >/dev/null
cp "$work/sigs/bench.hdb" "$work/clamdb/bench.hdb"
echo "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature" >"$work/clamdb/eicar.hdb"
cp -r /usr/share/c_icap/templates/virus_scan "$work/templates/"
mkdir -p "$work/templates/vigil/en"
cp icap/templates/en/* "$work/templates/vigil/en/"
chown -R nobody "$work"
moddir=$(c-icap-config --modulesdir)
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start NAME SERVICE-LINES...: a c-icap for one service; sets PORT, PID
start() {
	local name=$1
	shift
	PORT=$(port)
	mkdir -p "$work/$name/tmp"
	cat >"$work/$name/c-icap.conf" <<-EOF
	PidFile $work/$name/pid
	CommandsSocket $work/$name/ctl
	Timeout 300
	MaxKeepAliveRequests 0
	KeepAliveTimeout 600
	StartServers 2
	MaxServers 2
	MinSpareThreads 2
	MaxSpareThreads 20
	ThreadsPerChild 10
	Port 127.0.0.1:$PORT
	User nobody
	TmpDir $work/$name/tmp
	MaxMemObject 4194304
	DebugLevel 0
	ModulesDir $moddir
	ServicesDir $moddir
	TemplateDir $work/templates
	LoadMagicFile /etc/c-icap/c-icap.magic
	ServerLog $work/$name/server.log
	AccessLog /dev/null
	EOF
	printf '%s\n' "$@" >>"$work/$name/c-icap.conf"
	chown -R nobody "$work/$name"
	if [ "$name" = virus_scan ]; then
		unshare -m --propagation private sh -c \
			"mount --bind '$work/clamdb' /var/lib/clamav && exec c-icap -N -f '$work/$name/c-icap.conf'" &
	else
		LD_LIBRARY_PATH="$build/.libs" c-icap -N -f "$work/$name/c-icap.conf" &
	fi
	PID=$!
	pids+=("$PID")
	local svc=${SVC:-$name}
	for _ in $(seq 1 600); do
		c-icap-client -i 127.0.0.1 -p "$PORT" -s "$svc" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "icap.sh: $name did not start" >&2
	cat "$work/$name/server.log" >&2
	exit 1
}

# peak RSS in MB of a c-icap and all its processes
peak_rss() {
	local root=$1 total=0 p kb
	for p in $(pgrep -P "$root") "$root"; do
		kb=$(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
		total=$((total + ${kb:-0}))
	done
	echo $((total / 1024))
}

# CPU time (clock ticks) of a c-icap and all its processes so far
cpu_ticks() {
	local root=$1 total=0 p t
	for p in $(pgrep -P "$root") "$root"; do
		t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
		total=$((total + ${t:-0}))
	done
	echo "$total"
}
hz=$(getconf CLK_TCK)

results=$work/results.txt
: >"$results"
run_rows() { # run_rows NAME SERVICE
	local name=$1 svc=$2 size conc n no204 label out c0 cpu
	for size in 102400 10485760; do
		for conc in 1 8; do
			if [ "$size" = 102400 ]; then
				n=$([ "$conc" = 1 ] && echo "$R100K_1" || echo "$R100K_8")
				label=100KB
			else
				n=$([ "$conc" = 1 ] && echo "$R10M_1" || echo "$R10M_8")
				label=10MB
			fi
			case " $ROWS " in *" $label:$conc "*) ;; *) continue ;; esac
			for no204 in "" --no204; do
				c0=$(cpu_ticks "$PID")
				out=$(/usr/bin/python3 bench/icap_load.py --port "$PORT" --service "$svc" \
					--size "$size" --conc "$conc" --requests "$n" $no204)
				cpu=$(( ($(cpu_ticks "$PID") - c0) * 1000 * 100 / hz / n ))
				out="${out%\}}, \"cpu_ms\": $((cpu / 100)).$(printf %02d $((cpu % 100)))}"
				echo "$name $label c=$conc $([ -n "$no204" ] && echo no204 || echo allow204) $out" >>"$results"
				echo "$name $label c=$conc $([ -n "$no204" ] && echo no204 || echo allow204) $out" >&2
			done
		done
	done
	echo "$name rss_mb $(peak_rss "$PID")" >>"$results"
}

echo "load before: $(cat /proc/loadavg)" >&2
on() { case " $SERVICES " in *" $1 "*) return 0 ;; esac; return 1; }
if on echo; then
SVC=echo start echo "Service echo srv_echo.so"
run_rows echo echo
fi
if on virus_scan; then
SVC=virus_scan start virus_scan "Service virus_scan virus_scan.so" \
	"virus_scan.ScanFileTypes TEXT DATA EXECUTABLE ARCHIVE GIF JPEG MSOFFICE" \
	"virus_scan.MaxObjectSize 100M" "virus_scan.Allow204Responces on" \
	"Module common clamav_mod.so" "clamav_mod.MaxScanSize 100M" \
	"clamav_mod.MaxFileSizeInArchive 100M"
run_rows virus_scan virus_scan
fi
if on vigil; then
extra=()
[ -z "${VIGIL_DIRECTIVES:-}" ] || extra=("$VIGIL_DIRECTIVES")
SVC=vigil start vigil "Service vigil $module" "vigil.Database $work/sigs" "${extra[@]}"
run_rows vigil vigil
fi
echo "load after: $(cat /proc/loadavg)" >&2

/usr/bin/python3 - "$results" $SERVICES <<'EOF'
import json, sys
rows, rss = {}, {}
for line in open(sys.argv[1]):
    parts = line.split(" ", 4)
    if parts[1] == "rss_mb":
        rss[parts[0]] = parts[2].strip(); continue
    rows[(parts[0], parts[1], parts[2], parts[3])] = json.loads(parts[4])
svcs = [s for s in ("echo", "virus_scan", "vigil") if s in sys.argv[2:]]
print("%-6s %-4s %-8s | %s" % ("body", "conc", "204", " | ".join("%-38s" % s for s in svcs)))
print("%-6s %-4s %-8s | %s" % ("", "", "", " | ".join("%7s %7s %8s %6s %5s" % ("MB/s", "req/s", "p99 ms", "cpu ms", "err") for s in svcs)))
for size in ("100KB", "10MB"):
    for conc in ("c=1", "c=8"):
        for a in ("allow204", "no204"):
            if not any((s, size, conc, a) in rows for s in svcs):
                continue
            cells = []
            for s in svcs:
                r = rows.get((s, size, conc, a))
                cells.append("%7.1f %7.1f %8.1f %6.1f %5d" % (r["mb_s"], r["req_s"], r["p99_ms"], r["cpu_ms"], r["errors"])
                             if r else "%38s" % "-")
            print("%-6s %-4s %-8s | %s" % (size, conc, a, " | ".join(cells)))
print("cpu ms: CPU time (user + system) of c-icap's processes per request")
print("peak RSS of c-icap (MB, all processes): " + ", ".join("%s %s" % (s, rss.get(s, "?")) for s in svcs))
def ratio(size, conc, a, key, label, target):
    v, c = rows.get(("vigil", size, conc, a)), rows.get(("virus_scan", size, conc, a))
    if v and c:
        print("%s %s %s: vigil/virus_scan %s = %.1fx (target >= %s), CPU per request %.1fx less"
              % (label, conc, a, key.replace("_", "/"), v[key] / c[key], target,
                 c["cpu_ms"] / v["cpu_ms"] if v["cpu_ms"] else float("inf")))
for a in ("allow204", "no204"):
    for conc in ("c=1", "c=8"):
        ratio("10MB", conc, a, "mb_s", "clean 10 MB", "5x")
    ratio("100KB", "c=8", a, "req_s", "100 KB", "2x")
EOF
