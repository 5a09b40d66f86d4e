#!/bin/sh
# unpack_yara.sh - a signature-base YARA rule fires on a member inside
# zip, tar.gz and 7z, where yara on the outer file finds nothing: the
# rule wants the EICAR string at offset 0 of a file under 70 bytes, which
# only the extracted member is.
. "$top_srcdir/tests/lib.sh"

rules="$VIGIL_SHARED/rules/yara/signature-base/yara/gen_suspicious_strings.yar"
rule=SUSP_Just_EICAR
[ -f "$rules" ] || { echo "SKIP: no $rules"; exit 77; }
for tool in yara 7z; do
	command -v $tool >/dev/null || { fail "$tool is not installed"; finish; }
done

mkdir "$scratch/in"
eicar >"$scratch/in/eicar.com"
(cd "$scratch/in" && /usr/bin/python3 -c '
import zipfile
with zipfile.ZipFile("../m.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.write("eicar.com", "dir/eicar.com")' &&
	tar czf ../m.tar.gz eicar.com &&
	7z a -bd -bso0 ../m.7z eicar.com) || fail "cannot build the archives"

expect_grep "$rule" "$(yara "$rules" "$scratch/in/eicar.com")" \
	"yara finds the rule on the member itself"
for a in m.zip m.tar.gz m.7z; do
	outer=$(yara "$rules" "$scratch/$a" 2>&1)
	if [ -z "$outer" ]; then ok "yara finds nothing on $a"; else
		fail "yara on $a: $outer"; fi
	# the rule's score is 40, informational by default: a threshold
	# of 40 makes it flag
	expect_exit 1 "vigil scan $a" "$VIGIL" scan --no-progress --no-summary \
		--no-default-signatures --yara-suspicious-score 40 -d "$rules" \
		"$scratch/$a"
	case $a in m.zip) member=dir/eicar.com ;; *) member=eicar.com ;; esac
	expect_grep "^$scratch/$a!$member: gen_suspicious_strings:$rule FOUND" \
		"$out" "vigil names the rule on $a's member"
done
finish
