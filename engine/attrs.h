/*
 * attrs.h - compiler attributes the internals share.
 */
#ifndef VIGIL_ATTRS_H
#define VIGIL_ATTRS_H

/* On internal functions whose error must not be dropped: an ignored
 * error is how out of memory once became CLEAN. GCC warns even through
 * a (void) cast, so every caller handles the value. */
#define VG_MUST_CHECK __attribute__((warn_unused_result))

#endif /* VIGIL_ATTRS_H */
