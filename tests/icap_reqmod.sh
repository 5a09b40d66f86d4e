#!/bin/bash
# icap_reqmod.sh - srv_vigil in a real c-icap, REQMOD: domain block and
# allow lists (subdomains, "=" for one host only), URL regular
# expressions, the URL_BLOCKED page, and uploads scanned like downloads.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/icap_lib.sh"
icap_require

cat >"$scratch/blocked_domains" <<'EOF'
# domains blocked with their subdomains
blocked.example
Bad-Site.Example.   # case and the final dot do not matter
=exact.example
EOF
cat >"$scratch/allowed_domains" <<'EOF'
good.blocked.example
EOF
cat >"$scratch/blocked_urls" <<'EOF'
# PCRE2 over the URL
/malware/[^/?]*\.exe($|\?)
(?i)^(http://)?[^/]*/PHISH/
EOF
eicar >"$scratch/eicar.com"
head -c 3000 /dev/urandom >"$scratch/clean.bin"
chmod 644 "$scratch"/*
icap_start "vigil.BlockedDomains $scratch/blocked_domains" \
	"vigil.AllowedDomains $scratch/allowed_domains" \
	"vigil.BlockedURLs $scratch/blocked_urls"

blocked_url() { # blocked_url URL WHAT
	icap --mode req --url "$1" --out "$scratch/out"
	if [ "$(field icap_status)" = 200 ] && [[ "$(field http_status)" == *" 403 "* ]] &&
		grep -q "address not allowed" "$scratch/out" &&
		[ "$(header x-vigil-verdict)" = URL ]; then
		ok "$2: $1 blocked"
	else
		fail "$2: $1 not blocked: $reply"
	fi
}
passed_url() { # passed_url URL WHAT
	icap --mode req --url "$1"
	if [ "$(field icap_status)" = 204 ]; then ok "$2: $1 passed"; else
		fail "$2: $1 not passed: $reply"; fi
}

blocked_url http://blocked.example/ "listed domain"
blocked_url http://www.blocked.example/a/b "subdomain of a listed domain"
blocked_url http://user@BLOCKED.example:8080/ "listed domain, other case, port, user"
blocked_url http://bad-site.example/ "domain listed in capitals with a final dot"
blocked_url http://exact.example/ "=host rule"
passed_url http://sub.exact.example/ "=host rule leaves subdomains alone"
passed_url http://good.blocked.example/ "allowed subdomain of a blocked domain"
passed_url http://notblocked.example/ "domain that only ends like a listed one"
passed_url http://fine.test/index.html "unlisted domain"
blocked_url http://fine.test/malware/setup.exe "URL regex"
blocked_url "http://fine.test/phish/login?x=1" "case-insensitive URL regex"
passed_url http://fine.test/malware/readme.txt "URL regex that does not match"
grep -q "URL blocked.example" "$ICAP_DIR/access.log" &&
	ok "access log names the rule" || fail "access log: $(cat "$ICAP_DIR/access.log")"
icap --mode req --url http://blocked.example/x --out "$scratch/out"
expect_grep 'Rule</th><td>blocked.example' "$(cat "$scratch/out")" "URL_BLOCKED page names the rule"

# uploads: scanned like downloads, also to allowed domains
icap --mode req --url http://upload.test/form --file "$scratch/eicar.com" --out "$scratch/out"
expect_blocked "EICAR upload"
icap --mode req --url http://good.blocked.example/up --file "$scratch/eicar.com" --out "$scratch/out"
expect_blocked "EICAR upload to an allowed domain"
icap --mode req --url http://upload.test/form --file "$scratch/clean.bin"
expect_passed "clean upload, Allow 204" "$scratch/clean.bin"
icap --mode req --url http://upload.test/form --file "$scratch/clean.bin" --no204 --preview -1
expect_passed "clean upload, no 204, no preview" "$scratch/clean.bin"
finish
