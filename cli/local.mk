# cli/local.mk - the vigil command. It calls libvigil's public API only,
# linked against the shared library like any other program would be.
bin_PROGRAMS += vigil
vigil_SOURCES = cli/main.c cli/cli.h cli/command.c cli/command.h cli/parse.c \
	cli/walk.c cli/walk.h cli/queue.c cli/queue.h \
	cli/exclude.c cli/exclude.h cli/output.c cli/output.h \
	cli/progress.c cli/progress.h cli/csv.c cli/csv.h
# one line per subcommand of cli/main.c's table (doc/hacking.md)
vigil_SOURCES += cli/scan_cmd.c
vigil_SOURCES += cli/sig_cmd.c
vigil_SOURCES += cli/ml_cmd.c cli/ml_cmd.h
vigil_LDADD = libvigil.la $(PCRE2_LIBS) $(JANSSON_LIBS) -lm
