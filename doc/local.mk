# doc/local.mk - see Makefile.am
EXTRA_DIST += doc/formats.md

# The manual pages, checked against the code by tests/doc_sync.sh.
dist_man_MANS += doc/vigil.1 doc/libvigil.3 doc/vigild.8 doc/vigild.conf.5
# Reference pages the man pages point to, installed in $(docdir).
dist_doc_DATA = doc/vigil-json.md doc/vigil-errors.md doc/clamd-protocol.md
EXTRA_DIST += doc/vigil-cli.md
