#!/bin/sh
# cloud_tls.sh - vigil-cloudd with TLSCertificate/TLSKey (libmicrohttpd's
# GnuTLS support) and a self-signed certificate made here: curl trusting
# that certificate gets answers over HTTPS, plain HTTP on the TLS port
# gets none, a key that does not match the certificate is refused at
# start, and `vigil scan --cloud https://...` refuses the untrusted
# certificate (the policy's verdict, never a silent answer).
. "$top_srcdir/tests/cloud_lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl is not installed"; exit 77; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$scratch/key.pem" -out "$scratch/cert.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	>"$scratch/openssl.log" 2>&1 || { fail "openssl req: $(cat "$scratch/openssl.log")"; finish; }
store=sqlite:$scratch/cloud.db
admin=$(new_key "$store" acme --admin)
user=$(new_key "$store" acme)
printf '%s\n' "$user" >"$scratch/user.key"
printf 'Store %s\nTLSCertificate %s\nTLSKey %s\n' "$store" "$scratch/cert.pem" \
	"$scratch/key.pem" >"$scratch/tls.conf"
start_cloudd tls --config "$scratch/tls.conf"
port=${tls_url##*:}
u=https://127.0.0.1:$port
grep -q '(TLS)' "$scratch/tls.err" && ok "the start line says TLS" ||
	fail "no TLS in the start line: $(cat "$scratch/tls.err")"

# curl with the certificate as its only trust anchor
tcurl() { curl -s --cacert "$scratch/cert.pem" "$@"; }
code=$(tcurl -o "$scratch/body" -w '%{http_code}' "$u/healthz")
[ "$code" = 200 ] && ok "GET /healthz over HTTPS" || fail "healthz over HTTPS: $code"
printf '#!/bin/sh\necho tls %s\n' "$$" >"$scratch/t.sh"
h=$(sha256sum "$scratch/t.sh" | cut -c1-64)
code=$(tcurl -o "$scratch/body" -w '%{http_code}' -X PUT \
	-H "Authorization: Bearer $admin" --data-binary \
	'{"verdict":"malicious","name":"Test.Cloud.Tls"}' "$u/v1/verdicts/$h")
[ "$code" = 200 ] && ok "PUT a verdict over HTTPS" || fail "PUT over HTTPS: $code"
code=$(tcurl -o "$scratch/body" -w '%{http_code}' -H "Authorization: Bearer $user" \
	"$u/v1/lookup/$h")
expect_grep '"verdict":"malicious".*Test.Cloud.Tls' "$(cat "$scratch/body")" \
	"lookup over HTTPS answers"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/healthz")
[ "$code" != 200 ] && ok "plain HTTP on the TLS port gets no answer ($code)" ||
	fail "plain HTTP answered on the TLS port"

# the client verifies the certificate: a self-signed one is not trusted
expect_exit 0 "vigil refuses an untrusted certificate (policy open)" \
	"$VIGIL" scan --no-summary --cloud "$u" --cloud-key "$scratch/user.key" \
	--cloud-timeout 2 "$scratch/t.sh"
expect_exit 0 "--json" "$VIGIL" scan --json --no-summary --cloud "$u" \
	--cloud-key "$scratch/user.key" --cloud-timeout 2 "$scratch/t.sh"
expect_grep '"name":"Cloud.LookupFailed".*(SSL|certificate)' "$out" \
	"the finding says the certificate failed"
expect_exit 3 "policy closed: INCOMPLETE" "$VIGIL" scan --no-summary --cloud "$u" \
	--cloud-key "$scratch/user.key" --cloud-timeout 2 --cloud-policy closed \
	"$scratch/t.sh"

# a key that is not the certificate's
openssl ecparam -name prime256v1 -genkey -noout -out "$scratch/other.pem" 2>/dev/null
printf 'Store %s\nTLSCertificate %s\nTLSKey %s\nListen 127.0.0.1:0\n' "$store" \
	"$scratch/cert.pem" "$scratch/other.pem" >"$scratch/bad.conf"
timeout 10 "$CLOUDD" --config "$scratch/bad.conf" >"$scratch/bad.out" 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && ok "a mismatched key is refused at start (exit $rc)" ||
	fail "mismatched key: exit $rc: $(cat "$scratch/bad.out")"
finish
