/*
 * record.h - an item's record: where the file came from and what it
 * was, as JSON (format in doc/libvigil.3). The parser reads bytes from
 * the vault, which may have been tampered with: every field is checked
 * for type and range.
 */
#ifndef VIGIL_QUARANTINE_RECORD_H
#define VIGIL_QUARANTINE_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "vigil/quarantine.h"

/* Bounds the parser enforces (and the writer never exceeds). */
#define VG_QRECORD_MAX_BYTES (1u << 20)
#define VG_QRECORD_MAX_XATTRS 1024
#define VG_QRECORD_XATTR_NAME_MAX 255      /* XATTR_NAME_MAX */
#define VG_QRECORD_XATTR_VALUE_MAX 65536   /* XATTR_SIZE_MAX */
#define VG_QRECORD_PATH_MAX 65536

typedef struct vg_qxattr {
	char *name;
	uint8_t *value;
	size_t len;
} vg_qxattr;

typedef struct vg_qrecord {
	char id[VIGIL_QUARANTINE_ID_SIZE];
	char *path;              /* bytes, NUL-terminated, absolute */
	size_t path_len;
	uint64_t size;
	char sha256[65];
	uint32_t uid, gid;
	uint32_t mode;           /* permission bits, 07777 */
	struct timespec atime, mtime;
	uint64_t dev, ino, nlink;
	vg_qxattr *xattrs;
	size_t nxattrs;
	int64_t time_ns;         /* when it was quarantined */
	char *agent;
	char *threat;            /* most severe finding's name */
	vigil_verdict verdict;
} vg_qrecord;

/* Frees what a record owns and zeroes it. */
void vg_qrecord_clear(vg_qrecord *r);

/* The record as JSON text (malloc'd) with the result's findings; NULL
 * when out of memory. */
char *vg_qrecord_to_json(const vg_qrecord *r, const vigil_result *res);

/*
 * Parses JSON text from the vault into *out (cleared first). VIGIL_OK,
 * VIGIL_ENOMEM, or VIGIL_EVAULT with the reason in why.
 */
vigil_error vg_qrecord_parse(const char *text, size_t len, vg_qrecord *out,
                             char *why, size_t whylen);

#endif /* VIGIL_QUARANTINE_RECORD_H */
