/*
 * builtin.h - the test signatures compiled into libvigil: the EICAR
 * test file and ClamAV's 544-byte clam.exe test program. The hash stage
 * checks them unless VIGIL_OPT_NO_DEFAULT_SIGNATURES is set.
 */
#ifndef VIGIL_BUILTIN_H
#define VIGIL_BUILTIN_H

#include <stddef.h>
#include <stdint.h>

#include "engine/digest.h"

#define VG_BUILTIN_EICAR_NAME "Eicar-Test-Signature"
#define VG_BUILTIN_CLAM_NAME "ClamAV-Test-File"

/*
 * 1 when the bytes are the EICAR test file in a form its specification
 * allows: the 68-byte string, followed only by whitespace (space, tab,
 * CR, LF, ^Z) up to 128 bytes in all.
 */
int vg_builtin_is_eicar(const uint8_t *data, size_t size);

/*
 * The name of the built-in hash signature an object of this size and
 * these digests matches (on SHA-256, and on MD5 too when d has one), or
 * NULL. Static storage.
 */
const char *vg_builtin_hash_match(const vg_digest *d, uint64_t size);

/* The digests the built-in hashes need for an object of this size. */
unsigned vg_builtin_digests(uint64_t size);

/* Built-in signatures, for vigil_engine_signature_count. */
size_t vg_builtin_count(void);

#endif
