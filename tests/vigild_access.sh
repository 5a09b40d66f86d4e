#!/bin/sh
# vigild_access.sh - path scans run with the client's rights: nobody
# cannot get a verdict on a file only root can read (Access denied),
# root can; a file nobody may read is scanned for nobody; INSTREAM needs
# only the socket; LocalSocketAllowUser refuses other users.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/vigild_lib.sh"
command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) missing"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to switch users"; exit 77; }

mkdir -m 755 "$scratch/files"
eicar >"$scratch/files/secret.com"
chmod 600 "$scratch/files/secret.com"
eicar >"$scratch/files/public.com"
chmod 644 "$scratch/files/public.com"
mkdir -m 700 "$scratch/files/private"
eicar >"$scratch/files/private/inner.com"
printf 'LocalSocket %s\n' "$sock" >"$scratch/cv.conf"
chmod 644 "$scratch/cv.conf"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

start_vigild ""
expect_exit 2 "nobody: root-only file" as_nobody clamdscan --config-file="$scratch/cv.conf" \
	--no-summary "$scratch/files/secret.com"
expect_grep "secret.com: Access denied. ERROR" "$out" "nobody gets Access denied"
case $out in *FOUND*) fail "nobody learned the verdict: $out" ;; *) ok "no verdict leaked" ;; esac
expect_exit 1 "root: the same file" clamdscan --config-file="$scratch/cv.conf" \
	--no-summary "$scratch/files/secret.com"
expect_grep "secret.com: Eicar-Test-Signature FOUND" "$out" "root gets the verdict"
expect_exit 1 "nobody: a file nobody may read" as_nobody clamdscan \
	--config-file="$scratch/cv.conf" --no-summary "$scratch/files/public.com"
expect_grep "public.com: Eicar-Test-Signature FOUND" "$out" "nobody gets that verdict"
as_nobody clamdscan --config-file="$scratch/cv.conf" --no-summary --multiscan \
	"$scratch/files" >"$scratch/out" 2>&1
grep -q 'inner.com' "$scratch/out" && fail "nobody saw inside a 0700 folder: $(cat "$scratch/out")" ||
	ok "a folder nobody cannot enter stays closed"
grep -q 'private: Access denied. ERROR' "$scratch/out" && ok "the folder is reported as denied" ||
	fail "multiscan as nobody: $(cat "$scratch/out")"
# INSTREAM needs only the socket: nobody may send its own bytes
expect_exit 1 "nobody: --stream of its own data" sh -c \
	"eicar() { printf '%s%s' 'X5O!P%@AP[4\\PZX54(P^)7CC)7}\$EICAR-STANDARD-' 'ANTIVIRUS-TEST-FILE!\$H+H*'; }; \
	 eicar | setpriv --reuid=nobody --regid=nogroup --clear-groups clamdscan \
	 --config-file='$scratch/cv.conf' --no-summary -"
expect_grep "Eicar-Test-Signature FOUND" "$out" "stream verdict for nobody"
stop_vigild

# an allow list: only root and daemon may talk to vigild at all
start_vigild "LocalSocketAllowUser daemon"
expect_exit 2 "nobody refused by LocalSocketAllowUser" as_nobody clamdscan \
	--config-file="$scratch/cv.conf" --no-summary "$scratch/files/public.com"
grep -q "uid 65534 refused" "$scratch/vigild.log" && ok "refusal logged" ||
	fail "log: $(cat "$scratch/vigild.log")"
expect_exit 1 "root allowed" clamdscan --config-file="$scratch/cv.conf" --no-summary \
	"$scratch/files/public.com"
finish
