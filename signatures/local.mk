# signatures/local.mk - signature stages: hash sets, YARA, built-ins.
libvigil_la_SOURCES += signatures/stage_hash.c signatures/stage_yara.c
# hash sets, allowlists and the built-in test signatures
libvigil_la_SOURCES += signatures/hashdb.c signatures/hashdb.h \
	signatures/hashdb_load.c signatures/builtin.c signatures/builtin.h \
	signatures/hashdb_priv.h signatures/hashdb_image.c
EXTRA_DIST += doc/signatures.md
# YARA: loading and compiling, the externals convention
libvigil_la_SOURCES += signatures/yara_rules.c signatures/yara_rules.h \
	signatures/yara_externals.c signatures/yara_externals.h \
	signatures/yara_gate.c signatures/yara_gate.h \
	signatures/yara_severity.c signatures/yara_severity.h
EXTRA_DIST += doc/yara.md
# ClamAV databases through libclamav (shares unpackers/clamav.c's pass)
libvigil_la_SOURCES += signatures/stage_clamav.c
