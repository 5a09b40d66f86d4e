# icap_lib.sh - starts a real c-icap with srv_vigil.so on a free loopback
# port, for the icap_*.sh tests; source it after lib.sh. Everything it
# starts is stopped on exit, also when a test fails. As root, c-icap
# drops to the user nobody after binding (its User directive).

ICAP_MODULE="$top_builddir/icap/.libs/srv_vigil.so"
ICAP_CLIENT="/usr/bin/python3 $top_srcdir/tests/icap_client.py"
icap_pids=()

icap_cleanup() {
	local p i
	# the last started first: squid before the c-icap it talks to
	for ((i = ${#icap_pids[@]} - 1; i >= 0; i--)); do
		p=${icap_pids[i]}
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${icap_pids[@]}"; do
		# c-icap stops its children itself; give it a moment, then insist
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$scratch"
}
trap icap_cleanup EXIT

icap_require() {
	local t
	for t in c-icap c-icap-client c-icap-config; do
		if ! command -v "$t" >/dev/null; then
			echo "SKIP: $t not installed (Debian package c-icap)"
			exit 77
		fi
	done
	if [ ! -f "$ICAP_MODULE" ]; then
		echo "SKIP: srv_vigil.so not built (configure found no libicapapi-dev)"
		exit 77
	fi
}

# free_port: a TCP port nobody listens on right now.
free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The user the daemons run as: nobody when we are root, else ourselves.
icap_user() {
	if [ "$(id -u)" -eq 0 ]; then echo nobody; else id -un; fi
}

# icap_start [DIRECTIVE...]: starts c-icap with the vigil service and
# the extra directives given (one per argument); sets ICAP_PORT, ICAP_DIR.
icap_start() {
	ICAP_DIR="$scratch/icap${#icap_pids[@]}"
	mkdir -p "$ICAP_DIR/tmp" "$ICAP_DIR/templates/vigil/en" "$ICAP_DIR/sigs"
	cp "$top_srcdir"/icap/templates/en/* "$ICAP_DIR/templates/vigil/en/"
	# a signature folder must yield a signature: one that matches nothing
	printf '%s:9:Test.Placeholder\n' "$(printf placeholder | md5sum | cut -c1-32)" \
		>"$ICAP_DIR/sigs/placeholder.hdb"
	ICAP_PORT=$(free_port)
	local moddir user_line=
	moddir=$(c-icap-config --modulesdir)
	[ "$(id -u)" -eq 0 ] && user_line="User nobody"
	{
		cat <<-EOF
		PidFile $ICAP_DIR/c-icap.pid
		CommandsSocket $ICAP_DIR/c-icap.ctl
		Timeout 60
		MaxKeepAliveRequests 1000
		KeepAliveTimeout 60
		StartServers 2
		MaxServers 2
		MinSpareThreads 2
		MaxSpareThreads 16
		ThreadsPerChild 8
		Port 127.0.0.1:$ICAP_PORT
		$user_line
		TmpDir $ICAP_DIR/tmp
		MaxMemObject 131072
		DebugLevel 1
		ModulesDir $moddir
		ServicesDir $moddir
		TemplateDir $ICAP_DIR/templates
		TemplateDefaultLanguage en
		LoadMagicFile /etc/c-icap/c-icap.magic
		ServerLog $ICAP_DIR/server.log
		LogFormat vigilfmt "%a %im %is %{vigil:action}Sa %{vigil:verdict}Sa %{vigil:threat}Sa %huo"
		AccessLog $ICAP_DIR/access.log vigilfmt
		Service vigil $ICAP_MODULE
		vigil.Database $ICAP_DIR/sigs
		EOF
		local d
		for d in "$@"; do echo "$d"; done
	} >"$ICAP_DIR/c-icap.conf"
	[ "$(id -u)" -eq 0 ] && chown -R nobody "$ICAP_DIR" && chmod 755 "$scratch"
	local env=()
	# an ASan build of the module needs the runtime loaded first
	local asan
	asan=$(ldd "$ICAP_MODULE" 2>/dev/null | awk '/libasan/ {print $3}')
	[ -n "$asan" ] && env=(LD_PRELOAD="$asan" ASAN_OPTIONS="detect_leaks=0:abort_on_error=0")
	env "${env[@]}" LD_LIBRARY_PATH="$top_builddir/.libs" \
		c-icap -N -f "$ICAP_DIR/c-icap.conf" >"$ICAP_DIR/stdout" 2>&1 &
	icap_pids+=($!)
	disown $! # no job-control notice when the cleanup kills it
	local i
	for i in $(seq 1 100); do
		if c-icap-client -i 127.0.0.1 -p "$ICAP_PORT" -s vigil >/dev/null 2>&1; then
			ok "c-icap with srv_vigil started on port $ICAP_PORT"
			return 0
		fi
		if ! kill -0 "${icap_pids[-1]}" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	fail "c-icap did not start"
	cat "$ICAP_DIR/stdout" "$ICAP_DIR/server.log" >&2 2>/dev/null
	exit 1
}

# icap ARGS...: one request with tests/icap_client.py; JSON in $reply.
icap() {
	reply=$($ICAP_CLIENT --port "$ICAP_PORT" "$@" 2>"$scratch/client.err") ||
		reply="client failed: $(cat "$scratch/client.err")"
}

# field NAME: a value from $reply (icap_status, http_status, ...);
# header NAME: an ICAP header of $reply.
field() { printf '%s' "$reply" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin).get('$1',''))" 2>/dev/null; }
header() { printf '%s' "$reply" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['icap_headers'].get('$1',''))" 2>/dev/null; }

# expect_blocked WHAT: $reply is a 403 page naming a threat.
expect_blocked() {
	local what=$1 st icap inf
	icap=$(field icap_status)
	st=$(field http_status)
	inf=$(header x-infection-found)
	if [ "$icap" = 200 ] && [[ "$st" == *" 403 "* ]] && [ -n "$inf" ] &&
		grep -q "threat found" "$scratch/out" 2>/dev/null; then
		ok "$what: blocked ($inf)"
	else
		fail "$what: not blocked: $reply"
	fi
}

# expect_passed WHAT FILE: $reply is a 204, or a 200 with FILE's bytes.
expect_passed() {
	local what=$1 file=$2 icap sum
	icap=$(field icap_status)
	if [ "$icap" = 204 ]; then
		ok "$what: passed (204)"
		return
	fi
	sum=$(sha256sum <"$file" | cut -d' ' -f1)
	# a RESPMOD answer keeps its 200, a REQMOD one its request line
	if [ "$icap" = 200 ] && [ "$(field body_sha256)" = "$sum" ] &&
		[[ "$(field http_status)" != *" 403 "* ]]; then
		ok "$what: passed (200, body identical)"
	else
		fail "$what: not passed intact: $reply"
	fi
}
