#!/usr/bin/env bash
# cloud.sh [BUILD_DIR] - vigil-cloudd and the cloud stage under load.
#
#  1. wrk against vigil-cloudd on loopback, with 1 million hashes loaded,
#     on SQLite and on a private redis-server: single lookups
#     (GET /v1/lookup/<sha256>, a different hash each request) and
#     100-hash batches (POST /v1/lookup): requests/s, p50 and p99.
#  2. `vigil scan` of the bench corpus (bench/make_corpus.sh, 150 MB
#     here) without --cloud, with --cloud (first run: every eligible
#     file is asked about), and with --cloud again in the same process
#     (the corpus given twice, verdict cache off, so the second pass is
#     answered by the client cache: nothing persists across runs, see
#     doc/cloud-api.md). Wall and CPU (user + system) times.
# Environment: CONNECTIONS (16), DURATION (10s), HASHES (1000000),
# CORPUS (build/bench-corpus-cloud). Prints a table; runs for minutes.
set -euo pipefail
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
# the unpacking worker of this build, not an installed one
export VIGIL_UNPACKD=${VIGIL_UNPACKD:-$build/vigil-unpackd}
cloudd=$build/vigil-cloudd
vigil=$build/vigil
conns=${CONNECTIONS:-16}
duration=${DURATION:-10s}
nhashes=${HASHES:-1000000}
corpus=${CORPUS:-$build/bench-corpus-cloud}
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
for t in wrk redis-server python3 curl; do
	command -v $t >/dev/null || { echo "cloud.sh: $t is needed" >&2; exit 1; }
done

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"

# 1M random hashes, and the lua scripts that send them
python3 - "$work" "$nhashes" <<'PY'
import os, sys, random
work, n = sys.argv[1], int(sys.argv[2])
random.seed(1)
with open(os.path.join(work, "hashes.txt"), "w") as f:
    for i in range(n):
        f.write("%064x Bench.%d\n" % (random.getrandbits(256), i % 1000))
PY
head -n 20000 "$work/hashes.txt" | cut -c1-64 >"$work/sample.txt"
cat >"$work/single.lua" <<LUA
local hashes = {}
for l in io.lines("$work/sample.txt") do hashes[#hashes + 1] = l end
local i = 0
request = function()
  i = i % #hashes + 1
  return wrk.format("GET", "/v1/lookup/" .. hashes[i])
end
LUA
cat >"$work/batch.lua" <<LUA
local hashes = {}
for l in io.lines("$work/sample.txt") do hashes[#hashes + 1] = l end
local bodies, i = {}, 0
for b = 0, 99 do
  local t = {}
  for k = 1, 100 do t[k] = '"' .. hashes[(b * 100 + k) % #hashes + 1] .. '"' end
  bodies[#bodies + 1] = '{"hashes":[' .. table.concat(t, ",") .. ']}'
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/v1/lookup", nil, bodies[i])
end
LUA

# start_cloudd STORE: starts a node; sets url
start_cloudd() {
	rm -f "$work/port"
	printf 'Store %s\nRateLimit 0\nMaxThreads 4\n' "$1" >"$work/cloudd.conf"
	"$cloudd" --config "$work/cloudd.conf" --listen 127.0.0.1:0 \
		--port-file "$work/port" 2>>"$work/cloudd.err" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
	url=http://127.0.0.1:$(cat "$work/port")
}

# run_wrk NAME SCRIPT: one table row
run_wrk() {
	wrk -t2 -c"$conns" -d"$duration" --latency -s "$2" \
		-H "Authorization: Bearer $key" "$url" >"$work/wrk.out"
	awk -v name="$1" '
		/Requests\/sec/ { rps = $2 }
		$1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
		/Non-2xx/ { bad = $NF }
		END { printf "%-28s %10s req/s  p50 %8s  p99 %8s%s\n", name, rps,
		      p50, p99, bad ? "  NON-2xx: " bad : "" }' "$work/wrk.out"
}

bench_store() {
	local name=$1 store=$2 t0 t1
	t0=$(date +%s.%N)
	"$cloudd" import --store "$store" --format sha256 "$work/hashes.txt" >/dev/null
	t1=$(date +%s.%N)
	printf '%-28s %10.1f s for %d hashes\n' "$name import" \
		"$(echo "$t1 - $t0" | bc)" "$nhashes"
	key=$("$cloudd" key create --store "$store" --tenant bench | tail -n 1)
	start_cloudd "$store"
	run_wrk "$name single lookup" "$work/single.lua"
	run_wrk "$name 100-hash batch" "$work/batch.lua"
	kill "${pids[-1]}"
	wait "${pids[-1]}" 2>/dev/null || true
}

bench_store sqlite "sqlite:$work/cloud.db"
rport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$work" >/dev/null &
pids+=($!)
until redis-cli -p "$rport" ping >/dev/null 2>&1; do sleep 0.05; done
bench_store redis "redis://127.0.0.1:$rport"

# --- the client's cost in a scan ----------------------------------------
[ -d "$corpus" ] || "$top/bench/make_corpus.sh" "$corpus" 150 >/dev/null || [ -d "$corpus/files" ]
store=sqlite:$work/scan.db
key=$("$cloudd" key create --store "$store" --tenant bench | tail -n 1)
printf '%s\n' "$key" >"$work/key"
start_cloudd "$store"
files=$(find "$corpus" -type f | wc -l)
# scan_time ARGS...: best wall time of 3 runs, seconds; the CPU time
# (user + system) of that run goes to $work/cpu.<last word>, for a loaded
# machine where wall times say little
scan_time() {
	local best= cpu=
	for _ in 1 2 3; do
		local t c
		/usr/bin/time -f '%e %U %S' -o "$work/time" \
			"$vigil" scan --no-summary -i -j 2 --cache-entries 0 "$@" >/dev/null || true
		t=$(awk '{ print $1 }' "$work/time")
		c=$(awk '{ print $2 + $3 }' "$work/time")
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then
			best=$t
			cpu=$c
		fi
	done
	echo "$cpu" >"$work/cpu"
	echo "$best"
}
cloud=(--cloud "$url" --cloud-key "$work/key")
base1=$(scan_time "$corpus"); cbase1=$(cat "$work/cpu")
first=$(scan_time "${cloud[@]}" "$corpus"); cfirst=$(cat "$work/cpu")
base2=$(scan_time "$corpus" "$corpus"); cbase2=$(cat "$work/cpu")
twice=$(scan_time "${cloud[@]}" "$corpus" "$corpus"); ctwice=$(cat "$work/cpu")
# the second pass alone: the two-pass run less the first pass
cached=$(echo "$twice - $first" | bc)
base_second=$(echo "$base2 - $base1" | bc)
printf '%-28s %d files\n' "scan corpus" "$files"
printf '%-28s %8.2f s\n' "scan, no cloud" "$base1"
printf '%-28s %8.2f s  (x%.2f)\n' "scan --cloud, first run" "$first" \
	"$(echo "$first / $base1" | bc -l)"
printf '%-28s %8.2f s  vs %.2f s without: %+.1f %%\n' "scan --cloud, cached pass" \
	"$cached" "$base_second" "$(echo "($cached - $base_second) * 100 / $base_second" | bc -l)"
printf '%-28s %8.2f s  vs %.2f s without: %+.1f %%\n' "CPU, first run" \
	"$cfirst" "$cbase1" "$(echo "($cfirst - $cbase1) * 100 / $cbase1" | bc -l)"
printf '%-28s %8.2f s  vs %.2f s without: %+.1f %%\n' "CPU, cached pass" \
	"$(echo "$ctwice - $cfirst" | bc)" "$(echo "$cbase2 - $cbase1" | bc)" \
	"$(echo "(($ctwice - $cfirst) - ($cbase2 - $cbase1)) * 100 / ($cbase2 - $cbase1)" | bc -l)"
curl -s "$url/metrics" | grep 'requests_total{endpoint="lookup"' || true
