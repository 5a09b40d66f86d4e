/*
 * bundle.h - signature bundles (.vgb) inside libvigil: the file layout,
 * the bounds-checked reader, the writer, the signature, and loading a
 * bundle into an engine. The format is described in doc/bundle.md; this
 * header and that page change together.
 *
 * A bundle is one file: a 64-byte header, parts each starting on a page
 * boundary (so a hash set can be mapped and used in place), a manifest
 * of 128-byte entries after the last part, and a 128-byte signature
 * block at the end. All integers are little-endian.
 */
#ifndef VIGIL_BUNDLE_H
#define VIGIL_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/vg.h"

#define VG_BUNDLE_MAGIC "VIGILBND"
#define VG_BUNDLE_SIG_MAGIC "VGBSIG\0\1"
#define VG_BUNDLE_FORMAT 1
#define VG_BUNDLE_PAGE 4096
#define VG_BUNDLE_HEADER_SIZE 64
#define VG_BUNDLE_ENTRY_SIZE 128
#define VG_BUNDLE_TRAILER_SIZE 128
#define VG_BUNDLE_NAME_MAX 64      /* with its NUL */
#define VG_BUNDLE_MAX_PARTS 4096
#define VG_BUNDLE_DIGEST_LEN 32    /* BLAKE2b-256 of a part */
/* Trailer algorithms. */
#define VG_BUNDLE_UNSIGNED 0
#define VG_BUNDLE_ED25519 1        /* Ed25519 over BLAKE2b-512 */
/* Domain of the signed message: a signature made for something else
 * never verifies as a bundle's. */
#define VG_BUNDLE_SIG_CONTEXT "vigil bundle signature v1\n"

/* What a part holds; each kind belongs to one stage. */
typedef enum vg_part_kind {
	VG_PART_HASHES = 1,     /* a hash set image (signatures/hashdb.h) */
	VG_PART_ALLOWLIST = 2,  /* the same, for the allowlist */
	VG_PART_YARA = 3,       /* compiled YARA rules (yr_rules_save) */
	VG_PART_CLAMAV = 4,     /* a ClamAV database file, as it was */
	VG_PART_MODEL = 5       /* an ML model (.vgm) */
} vg_part_kind;
#define VG_PART_KINDS 6

/* Part flags. */
#define VG_PART_MZ_ONLY 0x1     /* YARA: every rule needs "MZ" at 0 */
#define VG_PART_NOT_MZ 0x2      /* YARA: scanned only on objects not
                                 * starting "MZ"; its rules are all in
                                 * a VG_PART_MZ_ONLY part too */

typedef struct vg_bundle_part {
	uint32_t kind, flags;
	uint64_t offset, size, count;
	uint8_t digest[VG_BUNDLE_DIGEST_LEN];
	char name[VG_BUNDLE_NAME_MAX];
	const uint8_t *data;    /* the bytes, inside the bundle's image */
} vg_bundle_part;

/* Why a bundle is refused; each has its own message. */
typedef enum vg_bundle_status {
	VG_BUNDLE_OK = 0,
	VG_BUNDLE_NOT_BUNDLE,   /* no magic: some other file */
	VG_BUNDLE_TRUNCATED,    /* shorter than its header says */
	VG_BUNDLE_MALFORMED,    /* header, manifest or part out of bounds */
	VG_BUNDLE_NOT_SIGNED,
	VG_BUNDLE_BAD_SIGNATURE,/* changed after signing */
	VG_BUNDLE_UNTRUSTED,    /* signed by a key not in the trust store */
	VG_BUNDLE_ROLLBACK,     /* older than the version in use */
	VG_BUNDLE_BAD_PART,     /* a part's digest does not match */
	VG_BUNDLE_IO,
	VG_BUNDLE_NOMEM
} vg_bundle_status;

/* A bundle read from a file (mapped) or from memory. */
typedef struct vg_bundle {
	const uint8_t *image;   /* the whole file */
	size_t size;
	int mapped;             /* image is an mmap of the file */
	int fd;                 /* the file, or -1 */
	uint32_t format;
	uint64_t version, created, file_size, manifest_offset;
	uint32_t nparts;
	vg_bundle_part *parts;
	uint32_t sig_alg;
	uint8_t pubkey[32];
	uint8_t signature[64];
} vg_bundle;

/* vigil_error for a status. */
vigil_error vg_bundle_error(vg_bundle_status st);

/* 1 when the bytes start with the bundle magic. */
int vg_bundle_has_magic(const uint8_t *p, size_t n);

/*
 * Parses header, manifest and signature block of an image in memory,
 * checking every offset and size. The parts' data point into image,
 * which must outlive b. On failure why says what is wrong.
 */
vg_bundle_status vg_bundle_parse(vg_bundle *b, const uint8_t *image,
                                 size_t size, char *why, size_t whylen);

/* Opens and maps a file read-only, then parses it. */
vg_bundle_status vg_bundle_open(vg_bundle *b, const char *path, char *why,
                                size_t whylen);

/* Unmaps and frees what vg_bundle_open/parse made; b can be reused. */
void vg_bundle_close(vg_bundle *b);

/* Detaches the mapping from b: the caller now owns image (munmap). */
void vg_bundle_keep_image(vg_bundle *b);

/*
 * Checks the signature block: BLAKE2b-512 of everything before it,
 * Ed25519 by the embedded key, and the key in trust_dir (a directory
 * of *.pub files). Reads through the descriptor when there is one, so
 * hashing does not make every page of the mapping resident.
 */
vg_bundle_status vg_bundle_verify(const vg_bundle *b, const char *trust_dir,
                                  char *why, size_t whylen);

/* 1 when the file ends in a signature block whose signature does not
 * verify with the key it names (id set), whatever the header says:
 * explains a layout error as tampering. */
int vg_bundle_tail_tampered(const vg_bundle *b, char id[17]);

/* Checks every part's digest. */
vg_bundle_status vg_bundle_check_parts(const vg_bundle *b, char *why,
                                       size_t whylen);

/* Name of a part kind ("hashes", ...), or "unknown". */
const char *vg_part_kind_name(uint32_t kind);

/* libsodium, set up once; -1 when it cannot start. */
int vg_sodium_ready(void);

/* "0123abcd..." key id: the first 8 bytes of a public key in hex. */
void vg_key_id(const uint8_t pk[32], char out[17]);

/* Reads a public or secret key file (doc/bundle.md). 0 or -1 + why. */
int vg_key_read_public(const char *path, uint8_t pk[32], char *why,
                       size_t whylen);
int vg_key_read_secret(const char *path, uint8_t sk[64], char *why,
                       size_t whylen);

/* The message a bundle's signature covers: context + BLAKE2b-512 of
 * the first file_size - 128 bytes, read from fd (or from image when fd
 * is -1). 0 or -1 (read error, errno set). */
#define VG_BUNDLE_MSG_LEN (sizeof VG_BUNDLE_SIG_CONTEXT - 1 + 64)
int vg_bundle_message(const vg_bundle *b, uint8_t msg[VG_BUNDLE_MSG_LEN]);

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

typedef struct vg_bundle_writer vg_bundle_writer;

/* Starts a bundle at a temporary name beside path. */
vigil_error vg_bundle_writer_open(const char *path, vg_bundle_writer **out,
                                  char *why, size_t whylen);
/* A part: begin, any number of writes, end with its entry count. */
vigil_error vg_bundle_part_begin(vg_bundle_writer *w, vg_part_kind kind,
                                 uint32_t flags, const char *name);
vigil_error vg_bundle_part_write(vg_bundle_writer *w, const void *data,
                                 size_t n);
vigil_error vg_bundle_part_end(vg_bundle_writer *w, uint64_t count);
/* Writes manifest, header and an empty signature block, syncs, and
 * renames the file into place. Frees w either way. */
vigil_error vg_bundle_writer_finish(vg_bundle_writer *w, uint64_t version,
                                    char *why, size_t whylen);
/* Drops the temporary file. Accepts NULL. */
void vg_bundle_writer_abort(vg_bundle_writer *w);

/* Writes a new copy of a bundle whose signature block holds the
 * signature by sk, and renames it over the original. */
vigil_error vg_bundle_sign_file(const vg_bundle *b, const char *path,
                                const uint8_t sk[64], char *why,
                                size_t whylen);

/* Writes data to path through a temporary file, fsync and rename; the
 * directory is synced too. mode for the new file. 0 or -1 (errno). */
int vg_write_atomic(const char *path, const void *data, size_t n,
                    unsigned mode);

/* ------------------------------------------------------------------ */
/* Engines                                                             */
/* ------------------------------------------------------------------ */

/* A mapped bundle an engine holds until it is freed. */
typedef struct vg_bundle_map {
	const uint8_t *image;
	size_t size;
	struct vg_bundle_map *next;
} vg_bundle_map;

/* Flags of vg_bundle_load. */
#define VG_BUNDLE_LOAD_NO_DIGESTS 0x1 /* fuzzing: take unsigned parts
                                       * without checking their digests */
#define VG_BUNDLE_LOAD_OWN_PARTS 0x2  /* fuzzing: skip the parts whose
                                       * bytes go to libyara and libclamav,
                                       * whose loaders trust their input
                                       * (it is signed, or allowed) */

/*
 * Loads a bundle file into an engine before freeze: checks it (see
 * vigil_engine_load in vigil.h), maps it, and hands each part to the
 * stage of its kind. Fails with a message naming path.
 */
vigil_error vg_bundle_load(vigil_engine *e, const char *path,
                           unsigned flags);

/* Writes a frozen engine's signatures as a bundle (each stage's save). */
vigil_error vg_bundle_save(vigil_engine *e, const char *path,
                           uint64_t version);

/* Frees the engine's bundle mappings. */
void vg_bundle_maps_free(vigil_engine *e);

#endif /* VIGIL_BUNDLE_H */
