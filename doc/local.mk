# doc/local.mk - see Makefile.am
EXTRA_DIST += doc/formats.md doc/design.md doc/hacking.md

# The manual pages, checked against the code by tests/doc_sync.sh.
dist_man_MANS += doc/vigil.1 doc/libvigil.3
# Reference pages the man pages point to, installed in $(docdir).
dist_doc_DATA = doc/vigil-json.md doc/vigil-errors.md
EXTRA_DIST += doc/vigil-cli.md
