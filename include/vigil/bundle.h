/*
 * bundle.h - signature bundle files of libvigil: inspect, verify and
 * sign a .vgb file, and make signing keys. Engines load bundles with
 * vigil_engine_load and write them with vigil_engine_save_bundle
 * (vigil.h). The format is in doc/bundle.md.
 *
 *   vigil_bundle_new -> vigil_bundle_open -> vigil_bundle_verify /
 *   vigil_bundle_check_parts / accessors / vigil_bundle_sign ->
 *   vigil_bundle_free
 *
 * A vigil_bundle is used by one thread at a time. Strings it returns
 * live until the next call on it.
 */
#ifndef VIGIL_BUNDLE_H_PUBLIC
#define VIGIL_BUNDLE_H_PUBLIC

#include "vigil/vigil.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vigil_bundle vigil_bundle;

/* An empty handle; VIGIL_ENOMEM or VIGIL_OK. Free with vigil_bundle_free. */
VIGIL_API vigil_error vigil_bundle_new(vigil_bundle **out);
/* Accepts NULL. */
VIGIL_API void vigil_bundle_free(vigil_bundle *b);

/*
 * Opens a bundle file read-only and checks its structure: magic, size
 * (a truncated file is VIGIL_EDATABASE "truncated bundle"), manifest,
 * part bounds, signature block. Does not check the signature. Opening
 * again closes the file opened before. VIGIL_EFORMAT when the file is
 * not a bundle.
 */
VIGIL_API vigil_error vigil_bundle_open(vigil_bundle *b, const char *path);

/*
 * VIGIL_OK when the bundle is signed and its signature verifies with a
 * key of trust_dir (NULL: vigil_default_trust_dir()); else
 * VIGIL_ESIGNATURE, and vigil_bundle_last_error says whether it is not
 * signed, badly signed (changed after signing) or signed by a key not in
 * the trust store.
 */
VIGIL_API vigil_error vigil_bundle_verify(vigil_bundle *b,
                                          const char *trust_dir);

/* Checks each part against its digest in the manifest (what an unsigned
 * bundle offers); VIGIL_EDATABASE naming the first bad part. */
VIGIL_API vigil_error vigil_bundle_check_parts(vigil_bundle *b);

/*
 * Signs the open bundle with the secret key in secret_key_path: writes
 * a copy with the signature block filled in and renames it over the
 * file (the bundle stays open on the old bytes; open it again to read
 * the signed one).
 */
VIGIL_API vigil_error vigil_bundle_sign(vigil_bundle *b,
                                        const char *secret_key_path);

/* The version (monotonic) and creation time (Unix seconds) of the open
 * bundle; 0 when none is open. */
VIGIL_API uint64_t vigil_bundle_version(const vigil_bundle *b);
VIGIL_API uint64_t vigil_bundle_created(const vigil_bundle *b);

/* The key id (16 hex digits) in the signature block, or "" when the
 * bundle is unsigned. Says who signed it, not that the signature is
 * good: see vigil_bundle_verify. */
VIGIL_API const char *vigil_bundle_signer(vigil_bundle *b);

/* One part of a bundle, as its manifest describes it. */
typedef struct vigil_bundle_part_info {
	const char *kind;     /* "hashes", "allowlist", "yara", "clamav", "model" */
	const char *name;     /* e.g. "daily.cvd", "rules" */
	uint64_t offset;      /* in the file; a multiple of 4096 */
	uint64_t size;        /* bytes */
	uint64_t count;       /* signatures, rules or entries it holds */
	const char *digest;   /* BLAKE2b-256, 64 hex digits */
} vigil_bundle_part_info;

VIGIL_API size_t vigil_bundle_part_count(const vigil_bundle *b);
/* Fills *out for part i; VIGIL_EINVAL past the end. The strings live
 * until the next call on b. */
VIGIL_API vigil_error vigil_bundle_part(vigil_bundle *b, size_t i,
                                        vigil_bundle_part_info *out);

/* The message of the last failed call on b, or "". */
VIGIL_API const char *vigil_bundle_last_error(const vigil_bundle *b);

/*
 * Makes an Ed25519 key pair: the secret key (mode 0600) and the public
 * key, which goes into the trust stores of the machines that should
 * accept bundles it signs. Never replaces an existing file: on
 * VIGIL_EIO, VIGIL_EACCES or VIGIL_ENOENT, errno says why (EEXIST when
 * a file is already there).
 */
VIGIL_API vigil_error vigil_key_generate(const char *secret_key_path,
                                         const char *public_key_path);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_BUNDLE_H_PUBLIC */
