# cli/local.mk - the vigil command.
bin_PROGRAMS += vigil
vigil_SOURCES = cli/main.c
vigil_LDADD = libvigil.la
