# doc/local.mk - see Makefile.am
EXTRA_DIST += doc/formats.md doc/design.md doc/hacking.md

# The manual pages, checked against the code by tests/doc_sync.sh.
dist_man_MANS += doc/vigil.1 doc/libvigil.3 doc/vigild.8 doc/vigild.conf.5
# Reference pages the man pages point to, installed in $(docdir).
dist_doc_DATA = doc/vigil-json.md doc/vigil-errors.md doc/clamd-protocol.md
EXTRA_DIST += doc/vigil-cli.md

# vigil update: an example configuration and the systemd timer
dist_doc_DATA += etc/vigil-update.conf doc/bundle.md
systemdunitdir = $(prefix)/lib/systemd/system
systemdunit_DATA = etc/vigil-update.service etc/vigil-update.timer
EXTRA_DIST += etc/vigil-update.service.in etc/vigil-update.timer
CLEANFILES += etc/vigil-update.service
etc/vigil-update.service: $(srcdir)/etc/vigil-update.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && sed -e 's|@bindir[@]|$(bindir)|g' \
		-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		-e 's|@localstatedir[@]|$(localstatedir)|g' \
		$(srcdir)/etc/vigil-update.service.in >$@
