/*
 * yara_externals.h - the external variables vigil gives YARA rules, and
 * the values they take for a scanned object (doc/yara.md).
 *
 * The names and values follow LOKI and THOR, the scanners the
 * signature-base rules are written for, so those rules work as written.
 */
#ifndef VIGIL_YARA_EXTERNALS_H
#define VIGIL_YARA_EXTERNALS_H

#include <stddef.h>

#include "engine/filetype.h"

/* The externals, in a fixed order: bit i of a mask means vg_yx_names[i]. */
enum vg_yx {
	VG_YX_FILENAME,  /* base name: "x.exe" */
	VG_YX_FILEPATH,  /* path as given to the scan: "dir/x.exe" */
	VG_YX_EXTENSION, /* lower-case extension with its dot: ".exe" */
	VG_YX_FILETYPE,  /* LOKI/THOR type name: "EXE", "ELF", ... */
	VG_YX_OWNER,     /* owner's user name */
	VG_YX_COUNT
};

/* "filename", "filepath", "extension", "filetype", "owner". */
extern const char *const vg_yx_names[VG_YX_COUNT];

/*
 * The type name LOKI/THOR give an object of vigil type t ("EXE" for PE,
 * "MACH-O" for Mach-O, "UNKNOWN" when vigil does not know it). Static
 * storage.
 */
const char *vg_yx_filetype(vg_filetype t);

/*
 * Writes the lower-case extension of a base name, dot included (".exe"),
 * as Python's os.path.splitext gives it to LOKI: "" for "Makefile" and
 * for ".bashrc". Needs at most strlen(name) + 1 bytes of buf; returns
 * the length written, or (size_t)-1 when cap is too small.
 */
size_t vg_yx_extension(const char *name, char *buf, size_t cap);

#endif
