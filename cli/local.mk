# cli/local.mk - the vigil command. It calls libvigil's public API only,
# linked against the shared library like any other program would be.
bin_PROGRAMS += vigil
vigil_SOURCES = cli/main.c cli/cli.h cli/command.c cli/command.h cli/parse.c \
	cli/walk.c cli/walk.h cli/queue.c cli/queue.h \
	cli/exclude.c cli/exclude.h cli/output.c cli/output.h \
	cli/progress.c cli/progress.h
# one line per subcommand of cli/main.c's table (doc/hacking.md)
vigil_SOURCES += cli/scan_cmd.c
vigil_SOURCES += cli/sig_cmd.c
vigil_SOURCES += cli/ml_cmd.c cli/ml_cmd.h cli/csv.c cli/csv.h
vigil_SOURCES += cli/update_cmd.c cli/update_cmd.h cli/update_conf.c \
	cli/update_conf.h cli/update_fetch.c cli/update_fetch.h \
	cli/update_install.c cli/update_install.h cli/update_notify.c \
	cli/update_notify.h
vigil_SOURCES += cli/daemon_cmd.c
vigil_SOURCES += cli/quarantine_cmd.c cli/quarantine_cmd.h
# the sig subcommands build, info, keygen, sign and verify (sig_cmd.c's table)
vigil_SOURCES += cli/bundle_cmd.c cli/bundle_cmd.h
vigil_CPPFLAGS = $(AM_CPPFLAGS) -DVIGIL_SYSCONFDIR='"$(sysconfdir)"'
vigil_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
vigil_LDADD = libvigil.la $(PCRE2_LIBS) $(JANSSON_LIBS) $(CURL_LIBS) -lm
