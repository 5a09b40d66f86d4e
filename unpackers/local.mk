# unpackers/local.mk - the unpacker registry and one file per unpacker,
# with the member sink they all stream through.
libvigil_la_SOURCES += unpackers/registry.c unpackers/member.c \
	unpackers/archive.c unpackers/clamav.c
noinst_HEADERS += unpackers/unpack.h unpackers/clamav.h \
	unpackers/unpacker_list.h
