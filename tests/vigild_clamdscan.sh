#!/bin/sh
# vigild_clamdscan.sh - Debian's clamdscan, pointed at vigild, prints the
# same FOUND lines and exits with the same codes as against clamd itself
# (started here on its own socket with the same two signatures as an
# .hdb), in every mode: CONTSCAN, --multiscan, --stream, --fdpass and
# --multiscan --fdpass (IDSESSION). EICAR and clam.exe sit in archives.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/vigild_lib.sh"
testfiles=/usr/share/clamav-testfiles
for tool in clamdscan clamd; do
	command -v $tool >/dev/null || [ -x /usr/sbin/$tool ] || {
		echo "SKIP: $tool not installed (apt-get install clamdscan clamav-daemon)"; exit 77; }
done
[ -f $testfiles/clam.zip ] || { echo "SKIP: clamav-testfiles not installed"; exit 77; }

tree=$scratch/tree
mkdir -p "$tree/docs/deeper" "$tree/empty"
eicar >"$tree/eicar.com"
(cd "$tree" && zip -q docs/eicar.zip eicar.com && tar czf docs/deeper/eicar.tgz eicar.com)
cp $testfiles/clam.zip $testfiles/clam.7z $testfiles/clam.tar.gz "$tree/docs/deeper/"
cp $testfiles/clam.exe "$tree/clam.exe"
echo "hello" >"$tree/docs/readme.txt"
head -c 100000 /dev/urandom >"$tree/docs/random.bin"
mkdir -p "$scratch/clean"
echo "nothing here" >"$scratch/clean/a.txt"

# clamd with the same two signatures
mkdir "$scratch/cdb"
printf '%s:%s:Eicar-Test-Signature\n' "$(md5sum <"$tree/eicar.com" | cut -d' ' -f1)" \
	"$(stat -c %s "$tree/eicar.com")" >"$scratch/cdb/test.hdb"
printf '%s:544:ClamAV-Test-File\n' "$(md5sum <$testfiles/clam.exe | cut -d' ' -f1)" \
	>>"$scratch/cdb/test.hdb"
cat >"$scratch/clamd.conf" <<CONF
Foreground yes
LocalSocket $scratch/clamd-real.sock
DatabaseDirectory $scratch/cdb
TemporaryDirectory $scratch
LogFile $scratch/clamd.log
PidFile $scratch/clamd.pid
MaxThreads 4
CONF
/usr/sbin/clamd --config-file="$scratch/clamd.conf" >/dev/null 2>&1 &
clamd_pid=$!
trap 'kill $clamd_pid 2>/dev/null; stop_vigild; rm -rf "$scratch"' EXIT

start_vigild ""
printf 'LocalSocket %s\n' "$sock" >"$scratch/cv.conf"
printf 'LocalSocket %s\n' "$scratch/clamd-real.sock" >"$scratch/cc.conf"
for _ in $(seq 300); do
	[ -S "$scratch/clamd-real.sock" ] &&
		clamdscan --config-file="$scratch/cc.conf" --ping 1 >/dev/null 2>&1 && break
	sleep 0.1
done

# the lines that matter: FOUND and ERROR lines (clamd calls .hdb names
# .UNOFFICIAL), sorted: MULTISCAN answers in any order
norm() { grep -E ' (FOUND|ERROR)$|: OK$|^ERROR:' | sed 's/\.UNOFFICIAL FOUND$/ FOUND/' | sort; }

compare() { # DESCRIPTION ARGS...
	what=$1
	shift
	clamdscan --config-file="$scratch/cc.conf" "$@" >"$scratch/c.out" 2>&1
	crc=$?
	clamdscan --config-file="$scratch/cv.conf" "$@" >"$scratch/v.out" 2>&1
	vrc=$?
	norm <"$scratch/c.out" >"$scratch/c.norm"
	norm <"$scratch/v.out" >"$scratch/v.norm"
	if [ "$crc" -eq "$vrc" ] && cmp -s "$scratch/c.norm" "$scratch/v.norm" &&
	   [ -s "$scratch/v.norm" ]; then
		ok "$what: exit $vrc, $(wc -l <"$scratch/v.norm") lines as clamd"
	else
		fail "$what: clamd exit $crc, vigild exit $vrc
--- clamd
$(cat "$scratch/c.out")
--- vigild
$(cat "$scratch/v.out")"
	fi
}

compare "contscan" "$tree"
compare "multiscan" --multiscan "$tree"
compare "stream" --stream "$tree"
compare "fdpass" --fdpass "$tree"
compare "multiscan fdpass (IDSESSION)" --multiscan --fdpass "$tree"
compare "allmatch" --allmatch "$tree/docs"
compare "one file" "$tree/clam.exe"
compare "clean tree" "$scratch/clean"
compare "clean tree, stream" --stream "$scratch/clean"
compare "missing path" "$scratch/nothere"
# seven infected files in the tree, in every mode
clamdscan --config-file="$scratch/cv.conf" --multiscan --fdpass "$tree" >"$scratch/v.out" 2>&1
n=$(grep -c ' FOUND$' "$scratch/v.out")
[ "$n" -eq 7 ] && ok "7 infected files found" || fail "$n FOUND lines: $(cat "$scratch/v.out")"
expect_exit 0 "clamdscan --ping" clamdscan --config-file="$scratch/cv.conf" --ping 1
expect_exit 0 "clamdscan --version" clamdscan --config-file="$scratch/cv.conf" --version
expect_grep '^vigil 0\.' "$out" "VERSION names vigil"

# INCOMPLETE is never OK: a limit hit is a FOUND by default, an ERROR
# with IncompleteAnswer error
(cd "$scratch/clean" && echo one >m1.txt && echo two >m2.txt && zip -q ../two.zip m1.txt m2.txt)
stop_vigild
start_vigild "MaxFiles 1"
expect_exit 1 "limit hit: FOUND" clamdscan --config-file="$scratch/cv.conf" --no-summary "$scratch/two.zip"
expect_grep "two.zip: Heuristics.Limits.Exceeded.MaxMembers FOUND" "$out" "limit named in the FOUND line"
stop_vigild
start_vigild "MaxFiles 1
IncompleteAnswer error"
expect_exit 2 "limit hit: ERROR" clamdscan --config-file="$scratch/cv.conf" --no-summary "$scratch/two.zip"
expect_grep "two.zip: Limits exceeded \\(MaxMembers\\) ERROR" "$out" "limit named in the ERROR line"
finish
