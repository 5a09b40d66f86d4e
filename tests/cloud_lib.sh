# cloud_lib.sh - helpers for the cloud tests: start vigil-cloudd,
# redis-server and the fault server on free loopback ports, stop them
# all on exit (also when a test fails), and call the API with curl.
. "$top_srcdir/tests/lib.sh"

CLOUDD=$top_builddir/vigil-cloudd
PROBE=$top_builddir/tests/cloud_probe
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$scratch"
}
trap cleanup EXIT

for tool in curl python3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

# wait_for FILE: until FILE is non-empty, at most 5 s
wait_for() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -s "$1" ]
}

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_cloudd NAME ARGS...: sets NAME_url and NAME_pid
start_cloudd() {
	local name=$1
	shift
	rm -f "$scratch/$name.port"
	"$CLOUDD" --listen 127.0.0.1:0 --port-file "$scratch/$name.port" "$@" \
		2>>"$scratch/$name.err" &
	pids="$pids $!"
	eval "${name}_pid=$!"
	wait_for "$scratch/$name.port" ||
		{ fail "$name did not start: $(cat "$scratch/$name.err")"; finish; }
	eval "${name}_url=http://127.0.0.1:$(cat "$scratch/$name.port")"
}

# start_redis: a private redis-server; sets redis_url
start_redis() {
	command -v redis-server >/dev/null ||
		{ echo "SKIP: redis-server is not installed"; exit 77; }
	local port
	port=$(free_port)
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$scratch" >"$scratch/redis.log" 2>&1 &
	pids="$pids $!"
	i=0
	until redis-cli -p "$port" ping >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { fail "redis-server did not start"; finish; }
		sleep 0.05
	done
	redis_url=redis://127.0.0.1:$port
}

# api METHOD URL KEY [BODY]: the response body in $body, status in $code
api() {
	local auth=
	[ -n "$3" ] && auth="Authorization: Bearer $3"
	code=$(curl -s -o "$scratch/body" -w '%{http_code}' -X "$1" \
		${auth:+-H "$auth"} ${4+--data-binary "$4"} "$2")
	body=$(cat "$scratch/body")
}

# expect_code WANT DESCRIPTION
expect_code() {
	[ "$code" = "$1" ] && ok "$2 ($code)" || fail "$2: HTTP $code, wanted $1: $body"
}

# metric NAME_AND_LABELS URL: its value, 0 when absent
metric() {
	curl -s "$2/metrics" | awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }'
}

# new_key STORE TENANT [--admin]: the key
new_key() {
	"$CLOUDD" key create --store "$1" --tenant "$2" ${3:-} | tail -n 1
}
