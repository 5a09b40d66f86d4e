# engine/local.mk - the pipeline core of libvigil.
libvigil_la_SOURCES += \
	engine/vg.h engine/bytes.h engine/allocator.h engine/filetype.h \
	engine/digest.h \
	engine/stage_list.h engine/cache.h engine/attrs.h \
	engine/engine.c engine/scanner.c engine/pipeline.c engine/map.c \
	engine/map.h engine/filetype.c engine/digest.c engine/cache.c \
	engine/result.c engine/error.c engine/version.c engine/stages.c \
	engine/finding_list.h engine/finding_names.c
# signature bundles (doc/bundle.md)
libvigil_la_SOURCES += engine/bundle.h engine/bundle_read.c \
	engine/bundle_sig.c engine/bundle_write.c engine/bundle_load.c \
	engine/bundle_api.c
# the trust store built in (configure --with-trust-dir)
libvigil_la_CPPFLAGS += -DVIGIL_TRUST_DIR='"$(VIGIL_TRUST_DIR)"'
