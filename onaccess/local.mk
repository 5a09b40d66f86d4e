# onaccess/local.mk - vigild, the vigil daemon: scan workers, the clamd
# protocol, on-access scanning, the control socket. It calls libvigil's
# public API only (engine/bytes.h is header-only checked reads).
sbin_PROGRAMS += vigild
VG_VIGILD_CORE = onaccess/conf.c onaccess/conf.h \
	onaccess/wire.c onaccess/wire.h
vigild_SOURCES = onaccess/vigild.c onaccess/daemon.h \
	$(VG_VIGILD_CORE) \
	onaccess/engine_build.c onaccess/engine_build.h \
	onaccess/engine_proc.c onaccess/pool.c onaccess/pool.h \
	onaccess/log.c onaccess/log.h onaccess/peer.c onaccess/peer.h \
	onaccess/sockutil.c onaccess/sockutil.h onaccess/control.c \
	onaccess/clamd.c onaccess/clamd_proto.c onaccess/clamd_proto.h \
	onaccess/fan.c onaccess/fan.h onaccess/fan_act.c onaccess/fan_marks.c \
	onaccess/fan_policy.c \
	onaccess/fan_stats.c cli/exclude.c cli/exclude.h
vigild_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(PCRE2_CFLAGS)
vigild_LDADD = libvigil.la $(JANSSON_LIBS) $(SYSTEMD_LIBS) $(PCRE2_LIBS)

EXTRA_DIST += onaccess/vigild.conf onaccess/vigild.service
