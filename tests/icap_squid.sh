#!/bin/bash
# icap_squid.sh - end to end: curl -> squid -> origin (python http.server),
# with squid's RESPMOD and REQMOD going to srv_vigil in c-icap. An EICAR
# download gets the 403 page, clean downloads arrive byte for byte, a
# blocked domain gets the URL page. Debian's squid 5.7 stalls on RESPMOD
# bodies over about 64 KB when the service keeps the whole body before
# answering (squid bug 5352), so the large download goes through a
# second service with vigil.EarlyRelease, as doc/srv_vigil.8 advises.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/icap_lib.sh"
icap_require
squid=$(command -v squid || echo /usr/sbin/squid)
[ -x "$squid" ] || { echo "SKIP: squid not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

www="$scratch/www"
mkdir -p "$www"
eicar >"$www/eicar.com"
head -c 40000 /dev/urandom >"$www/clean.bin"
head -c 3000000 /dev/urandom >"$www/large.bin"
echo "blocked.example" >"$scratch/blocked_domains"
chmod -R a+rX "$scratch"

icap_start "vigil.BlockedDomains $scratch/blocked_domains"
port_hold=$ICAP_PORT
icap_start "vigil.EarlyRelease 32K" "vigil.EarlyReleaseHold 16K"
port_early=$ICAP_PORT

origin_port=$(free_port)
/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$www" "$origin_port" \
	>"$scratch/origin.log" 2>&1 &
icap_pids+=($!)
disown $!

squid_port=$(free_port)
sq="$scratch/squid"
mkdir -p "$sq"
user_line=
if [ "$(id -u)" -eq 0 ]; then
	user_line="cache_effective_user nobody"
	chown nobody "$sq"
fi
cat >"$sq/squid.conf" <<EOF
http_port 127.0.0.1:$squid_port
pid_filename $sq/squid.pid
cache_log $sq/cache.log
access_log stdio:$sq/access.log
coredump_dir $sq
$user_line
cache deny all
cache_mem 8 MB
shutdown_lifetime 1 seconds
dns_v4_first on
hosts_file /etc/hosts
http_access allow localhost
http_access deny all
icap_enable on
icap_preview_enable on
icap_preview_size 1024
icap_service vigil_req reqmod_precache bypass=off icap://127.0.0.1:$port_hold/vigil
icap_service vigil_resp respmod_precache bypass=off icap://127.0.0.1:$port_hold/vigil
icap_service vigil_early respmod_precache bypass=off icap://127.0.0.1:$port_early/vigil
acl large urlpath_regex ^/large
adaptation_access vigil_req allow all
adaptation_access vigil_early allow large
adaptation_access vigil_resp allow all
EOF
"$squid" -N -f "$sq/squid.conf" >"$sq/stdout" 2>&1 &
icap_pids+=($!)
disown $!
for _ in $(seq 1 100); do
	curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$squid_port/" && break
	# squid answers its own port with an error page once it is up
	[ -s "$sq/cache.log" ] && grep -q "Accepting HTTP" "$sq/cache.log" && break
	sleep 0.1
done
grep -q "Accepting HTTP" "$sq/cache.log" 2>/dev/null && ok "squid up on $squid_port" || {
	fail "squid did not start: $(cat "$sq/stdout" "$sq/cache.log" 2>/dev/null)"
	finish
}

get() { # get PATH FILE: through the proxy; sets $code
	code=$(curl -s --max-time 30 -x "http://127.0.0.1:$squid_port" -o "$2" \
		-w '%{http_code}' "http://127.0.0.1:$origin_port$1")
}
get /eicar.com "$scratch/got"
if [ "$code" = 403 ] && grep -q "threat found" "$scratch/got" &&
	grep -q "Eicar-Test-Signature" "$scratch/got"; then
	ok "EICAR through squid: 403 page"
else
	fail "EICAR through squid: $code $(head -c 300 "$scratch/got")"
fi
for f in clean.bin large.bin; do
	get "/$f" "$scratch/got"
	if [ "$code" = 200 ] && cmp -s "$scratch/got" "$www/$f"; then
		ok "$f through squid: intact"
	else
		fail "$f through squid: $code, $(wc -c <"$scratch/got") bytes"
	fi
done
code=$(curl -s --max-time 30 -x "http://127.0.0.1:$squid_port" -o "$scratch/got" \
	-w '%{http_code}' "http://blocked.example/")
if [ "$code" = 403 ] && grep -q "address not allowed" "$scratch/got"; then
	ok "blocked domain through squid: 403 URL page"
else
	fail "blocked domain through squid: $code $(head -c 300 "$scratch/got")"
fi
finish
