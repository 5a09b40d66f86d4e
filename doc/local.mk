# doc/local.mk - see Makefile.am
