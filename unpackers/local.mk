# unpackers/local.mk - the unpacker registry and one file per unpacker.
libvigil_la_SOURCES += unpackers/registry.c
