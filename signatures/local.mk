# signatures/local.mk - signature stages: hash sets, YARA, built-ins.
libvigil_la_SOURCES += signatures/stage_hash.c signatures/stage_yara.c
