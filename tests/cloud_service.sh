# cloud_service.sh - vigil-cloudd and `vigil scan --cloud` end to end on
# one store ($store, set by cloud_sqlite.sh or cloud_redis.sh): keys,
# 401/400/403/413/429, tenant isolation over every endpoint, imports,
# the cloud finding in text and JSON, the client cache, metrics and the
# access log.

global=$(new_key "$store" global --admin)
a_admin=$(new_key "$store" acme --admin)
a_user=$(new_key "$store" acme)
b_user=$(new_key "$store" bravo)
b_admin=$(new_key "$store" bravo --admin)
case $global in vgk_*) ok "key create prints the key last" ;;
*) fail "key create: '$global'" ;; esac
printf '%s\n' "$a_user" >"$scratch/a.key"

start_cloudd srv --store "$store" --log-file "$scratch/access.log"
u=$srv_url

# --- authentication and bad requests -----------------------------------
hello=$(printf 'hello' | sha256sum | cut -c1-64)
api POST "$u/v1/lookup" "" "{\"hashes\":[\"$hello\"]}"
expect_code 401 "no key"
api POST "$u/v1/lookup" "vgk_0000" "{\"hashes\":[\"$hello\"]}"
expect_code 401 "unknown key"
api POST "$u/v1/lookup" "$a_user" '{"hashes":['
expect_code 400 "malformed JSON"
api POST "$u/v1/lookup" "$a_user" '{"hashes":["abc"]}'
expect_code 400 "short hash"
api POST "$u/v1/lookup" "$a_user" "{\"hashes\":[\"${hello}00\"]}"
expect_code 400 "long hash"
api GET "$u/v1/lookup/xyz" "$a_user"
expect_code 400 "bad hash in the path"
many=$(/usr/bin/python3 -c "import json; print(json.dumps({'hashes': ['$hello'] * 1001}))")
api POST "$u/v1/lookup" "$a_user" "$many"
expect_code 400 "1001 hashes"
api POST "$u/v1/lookup" "$a_user" '[]'
expect_code 400 "not an object"
api PUT "$u/v1/verdicts/$hello" "$a_user" '{"verdict":"malicious"}'
expect_code 403 "PUT with a non-admin key"
api PUT "$u/v1/verdicts/$hello" "$a_admin" '{"verdict":"evil"}'
expect_code 400 "PUT with a bad verdict"
api DELETE "$u/v1/lookup" "$a_user"
expect_code 405 "wrong method"
api GET "$u/v2/nothing" "$a_user"
expect_code 404 "unknown endpoint"
api GET "$u/healthz" ""
expect_code 200 "still up after the bad requests"

# --- a harmless file marked known-bad: vigil scan --cloud ----------------
printf '#!/bin/sh\necho harmless %s\n' "$$" >"$scratch/harmless.sh"
cp "$scratch/harmless.sh" "$scratch/same.sh"
h=$(sha256sum "$scratch/harmless.sh" | cut -c1-64)
expect_exit 0 "clean before the verdict" "$VIGIL" scan --no-summary \
	--cloud "$u" --cloud-key "$scratch/a.key" "$scratch/harmless.sh"
api PUT "$u/v1/verdicts/$h" "$global" '{"verdict":"malicious","name":"Test.Cloud.Harmless"}'
expect_code 200 "global admin marks it known-bad"
expect_exit 1 "vigil scan --cloud: MALICIOUS" "$VIGIL" scan --no-summary \
	--cloud "$u" --cloud-key "$scratch/a.key" "$scratch/harmless.sh"
expect_grep 'harmless.sh: Cloud.Malicious FOUND' "$out" "text names the cloud finding"
expect_grep 'known-bad: Test.Cloud.Harmless; prevalence [0-9]+; first seen 20' "$out" \
	"text gives the service's reason"
expect_exit 1 "--json" "$VIGIL" scan --json --no-summary --cloud "$u" \
	--cloud-key "$scratch/a.key" "$scratch/harmless.sh"
expect_grep '"stage":"cloud","name":"Cloud.Malicious".*"verdict":"MALICIOUS".*Test.Cloud.Harmless' \
	"$out" "JSON names the cloud finding and its reason"

# the second file (same bytes) is answered by the client cache: the
# verdict cache is off, one thread, so only the cloud cache can answer
before=$(metric 'vigil_cloudd_requests_total{endpoint="lookup",code="200"}' "$u")
expect_exit 1 "two copies, one process" "$VIGIL" scan --json --no-summary -j 1 \
	--cache-entries 0 --cloud "$u" --cloud-key "$scratch/a.key" \
	"$scratch/harmless.sh" "$scratch/same.sh"
[ "$(printf '%s\n' "$out" | grep -c Cloud.Malicious)" -eq 2 ] &&
	ok "both copies MALICIOUS" || fail "both copies: $out"
after=$(metric 'vigil_cloudd_requests_total{endpoint="lookup",code="200"}' "$u")
[ $((after - before)) -eq 1 ] && ok "one request for two scans (server metrics)" ||
	fail "server saw $((after - before)) lookups for two scans"
expect_exit 0 "client stats" "$PROBE" set "url=$u" set "key=$a_user" \
	scan "$scratch/harmless.sh" scan "$scratch/same.sh" stats
expect_grep 'stats lookups=2 cache_hits=1 requests=1 ' "$out" \
	"the second scan is a client cache hit"

# archive members: the known-bad script inside a zip is found; of the
# zip's three layers only the script qualifies (the zip and the text
# member are not in the default types), so one hash is asked about
/usr/bin/python3 - "$scratch" <<'PY'
import sys, zipfile
d = sys.argv[1]
with zipfile.ZipFile(d + "/members.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.write(d + "/harmless.sh", "inner.sh")
    z.writestr("readme.txt", "plain text, not a type the cloud is asked about\n")
PY
# (5 s of cloud time: the zip goes through an unpacking worker, whose
# start-up alone can use the default 0.2 s in a sanitizer build)
expect_exit 1 "a known-bad member" "$VIGIL" scan --no-summary -j 1 \
	--cloud "$u" --cloud-key "$scratch/a.key" --cloud-timeout 5 \
	"$scratch/members.zip"
expect_grep 'members.zip!inner.sh: Cloud.Malicious FOUND' "$out" \
	"the member's layer carries the cloud finding"
expect_exit 0 "member lookups" "$PROBE" set "url=$u" set "key=$a_user" \
	set timeout_ms=5000 scan "$scratch/members.zip" stats
expect_grep 'MALICIOUS .*Cloud.Malicious\[known-bad: Test.Cloud.Harmless' "$out" \
	"the probe sees the member's cloud finding"
expect_grep 'stats lookups=1 cache_hits=0 requests=1 hashes_sent=1 ' "$out" \
	"only the qualifying member is looked up"

# a lone scanner waiting for its answer sends its batch at once: with a
# batch wait (3 s) longer than the cloud time (2 s) it still gets the
# answer, and well before either
printf '#!/bin/sh\necho lone %s\n' "$$" >"$scratch/lone.sh"
lone=$(sha256sum "$scratch/lone.sh" | cut -c1-64)
api PUT "$u/v1/verdicts/$lone" "$global" '{"verdict":"malicious","name":"Test.Cloud.Lone"}'
expect_code 200 "global admin marks another file known-bad"
expect_exit 0 "no batch wait for a lone scanner" "$PROBE" set "url=$u" \
	set "key=$a_user" set batch_wait_ms=3000 set timeout_ms=2000 \
	scan "$scratch/lone.sh"
expect_grep 'MALICIOUS [0-9]+ Cloud.Malicious\[known-bad: Test.Cloud.Lone' "$out" \
	"the lone scanner gets its answer"
t=$(printf '%s\n' "$out" | awk '{ print $3 }')
[ "${t:-9999999}" -lt 1000000 ] && ok "answered in ${t} us, not after the batch wait" ||
	fail "the lone lookup took ${t} us"

# --- tenants ------------------------------------------------------------
x=$(printf 'acme only' | sha256sum | cut -c1-64)
api PUT "$u/v1/verdicts/$x" "$a_admin" '{"verdict":"malicious","name":"Acme.Private"}'
expect_code 200 "acme admin sets a tenant verdict"
api POST "$u/v1/lookup" "$a_user" "{\"hashes\":[\"$x\"],\"machine\":\"m1\"}"
expect_grep '"verdict":"malicious".*Acme.Private' "$body" "acme sees its verdict"
api POST "$u/v1/sightings" "$a_user" "{\"hashes\":[\"$x\"],\"machine\":\"m2\"}"
expect_code 200 "acme reports a sighting"
api GET "$u/v1/lookup/$x" "$a_user"
expect_grep '"prevalence":2' "$body" "acme's prevalence counts two machines"
api POST "$u/v1/lookup" "$b_user" "{\"hashes\":[\"$x\"]}"
expect_grep '"verdict":"unknown","name":"","prevalence":0,"first_seen":null' "$body" \
	"bravo sees neither the verdict nor the sightings (batch)"
api GET "$u/v1/lookup/$x" "$b_user"
expect_grep '"verdict":"unknown".*"prevalence":0' "$body" "nor by single lookup"
api DELETE "$u/v1/verdicts/$x" "$b_admin"
expect_code 404 "bravo's admin cannot delete acme's verdict"
api PUT "$u/v1/verdicts/$x" "$b_admin" '{"verdict":"clean","name":"Bravo.Good"}'
expect_code 200 "bravo's admin writes its own scope"
api GET "$u/v1/lookup/$x" "$a_user"
expect_grep 'Acme.Private' "$body" "acme is not changed by bravo's write"
api GET "$u/v1/lookup/$h" "$b_user"
expect_grep '"verdict":"malicious"' "$body" "bravo sees global intelligence"
api DELETE "$u/v1/verdicts/$x" "$a_admin"
expect_code 200 "acme deletes its verdict"
api GET "$u/v1/lookup/$x" "$a_user"
expect_grep '"verdict":"unknown"' "$body" "gone for acme"

# --- imports --------------------------------------------------------------
i1=$(printf 'import 1' | sha256sum | cut -c1-64)
i2=$(printf 'import 2' | sha256sum | cut -c1-64)
i3=$(printf 'import 3' | sha256sum | cut -c1-64)
i4=$(printf 'import 4' | sha256sum | cut -c1-64)
printf '%s:12:Win.Test.Hdb\n44d88612fea8a8f36de82e1278abb02f:68:Md5.Only\n' "$i1" >"$scratch/f.hsb"
printf '# plain list\n%s\n' "$i2" >"$scratch/f.txt"
printf '################\n# MalwareBazaar\n"first_seen_utc","sha256_hash","md5_hash","sha1_hash","reporter","file_name","file_type_guess","mime_type","signature","clamav"\n"2021-03-04 05:06:07","%s","m","s","r","a.exe","exe","app/x","AgentTesla","n/a"\n' "$i3" >"$scratch/f.csv"
expect_exit 0 "import hsb" "$CLOUDD" import --store "$store" --format hsb "$scratch/f.hsb"
expect_grep '1 imported into global, 1 skipped' "$out" "the MD5 line is skipped"
expect_exit 0 "import sha256 list" "$CLOUDD" import --store "$store" \
	--format sha256 --verdict clean --name Known.Good "$scratch/f.txt"
expect_exit 0 "import bazaar" "$CLOUDD" import --store "$store" --format bazaar "$scratch/f.csv"
api POST "$u/v1/lookup" "$b_user" "{\"hashes\":[\"$i1\",\"$i2\",\"$i3\"]}"
expect_grep "\"$i1\",\"verdict\":\"malicious\",\"name\":\"Win.Test.Hdb\"" "$body" "hsb entry"
expect_grep "\"$i2\",\"verdict\":\"clean\",\"name\":\"Known.Good\"" "$body" "sha256 list entry"
expect_grep "\"$i3\",\"verdict\":\"malicious\",\"name\":\"AgentTesla\".*\"first_seen\":\"2021-03-04T05:06:07Z\"" \
	"$body" "bazaar entry with its first seen"
api POST "$u/v1/import?format=sha256&name=Acme.Feed" "$a_admin" "$i4"
expect_code 200 "import through the API"
api GET "$u/v1/lookup/$i4" "$a_user"
expect_grep 'Acme.Feed' "$body" "acme sees its import"
api GET "$u/v1/lookup/$i4" "$b_user"
expect_grep '"verdict":"unknown"' "$body" "bravo does not"
api POST "$u/v1/import?format=sha256" "$a_user" "$i4"
expect_code 403 "import needs an admin key"

# --- metrics and the access log -------------------------------------------
api GET "$u/metrics" ""
expect_grep 'vigil_cloudd_request_duration_seconds_bucket\{endpoint="lookup",le="0.005"\}' "$body" \
	"latency histogram"
expect_grep 'vigil_cloudd_tenant_requests_total\{tenant="acme"\} [1-9]' "$body" "per-tenant counts"
expect_grep 'vigil_cloudd_store_errors_total 0' "$body" "no store errors"
grep -q "$h=malicious" "$scratch/access.log" && ok "known hashes are logged" ||
	fail "access log lacks the known hash"
miss=$(printf 'never known' | sha256sum | cut -c1-64)
api POST "$u/v1/lookup" "$a_user" "{\"hashes\":[\"$miss\",\"$h\"]}"
api GET "$u/v1/lookup/$miss" "$a_user"
expect_code 200 "a miss"
grep -q "$miss" "$scratch/access.log" && fail "a missed hash is in the access log" ||
	ok "missed hashes are not logged"

# --- limits from a config file -----------------------------------------------
cat >"$scratch/limits.conf" <<CONF
# limits small enough to hit
Store $store
MaxBatch 2
MaxRequestSize 2K
RateLimit 1
RateBurst 1
CONF
start_cloudd lim --config "$scratch/limits.conf"
api POST "$lim_url/v1/lookup" "$a_user" "{\"hashes\":[\"$i1\",\"$i2\",\"$i3\"]}"
expect_code 400 "MaxBatch 2"
api POST "$lim_url/v1/lookup" "$a_user" "$many"
expect_code 413 "MaxRequestSize 2K"
# three requests in one curl run: on a loaded machine a second may pass
# between two runs and refill the bucket (1 a second)
curl -s -D - -o /dev/null -o /dev/null -o /dev/null \
	-H "Authorization: Bearer $a_user" "$lim_url/v1/lookup/$i1" \
	"$lim_url/v1/lookup/$i1" "$lim_url/v1/lookup/$i1" >"$scratch/burst"
grep -q '^HTTP/[0-9.]* 429' "$scratch/burst" && ok "RateBurst 1 used up (429)" ||
	fail "RateBurst 1: no 429 in $(grep '^HTTP' "$scratch/burst" | tr -d '\r')"
grep -qi '^Retry-After: [1-9]' "$scratch/burst" && ok "429 says Retry-After" ||
	fail "no Retry-After"
api GET "$lim_url/v1/lookup/$i1" "$b_user"
expect_code 200 "another key has its own bucket"
printf 'Bogus 1\n' >"$scratch/bad.conf"
expect_exit 2 "unknown directive" "$CLOUDD" --config "$scratch/bad.conf"
expect_grep 'line 1: unknown directive Bogus' "$err" "names the line"
