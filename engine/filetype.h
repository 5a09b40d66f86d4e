/*
 * filetype.h - object type from magic bytes (first bytes only).
 */
#ifndef VIGIL_FILETYPE_H
#define VIGIL_FILETYPE_H

#include <stddef.h>
#include <stdint.h>

/* X-macro: id, display name. Order is only for the enum. */
#define VG_FILETYPES(X) \
	X(UNKNOWN, "BINARY") \
	X(EMPTY, "EMPTY") \
	X(PE, "PE") \
	X(ELF, "ELF") \
	X(MACHO, "MACHO") \
	X(ZIP, "ZIP") \
	X(GZIP, "GZIP") \
	X(BZIP2, "BZIP2") \
	X(XZ, "XZ") \
	X(LZMA, "LZMA") \
	X(ZSTD, "ZSTD") \
	X(LZ4, "LZ4") \
	X(SEVENZIP, "7Z") \
	X(RAR, "RAR") \
	X(TAR, "TAR") \
	X(CPIO, "CPIO") \
	X(CAB, "CAB") \
	X(ISO9660, "ISO9660") \
	X(XAR, "XAR") \
	X(LHA, "LHA") \
	X(AR, "AR") \
	X(ARJ, "ARJ") \
	X(PDF, "PDF") \
	X(OLE2, "OLE2") \
	X(RTF, "RTF") \
	X(HTML, "HTML") \
	X(MAIL, "MAIL") \
	X(SCRIPT, "SCRIPT") \
	X(TEXT, "TEXT")

#define VG_FT_ENUM(id, name) VG_FT_##id,
typedef enum vg_filetype { VG_FILETYPES(VG_FT_ENUM) VG_FT_COUNT } vg_filetype;
#undef VG_FT_ENUM

/* Identifies data of size bytes; reads at most the first few KiB. */
vg_filetype vg_filetype_detect(const uint8_t *data, size_t size);

/* "PE", "ZIP", ...; static storage. */
const char *vg_filetype_name(vg_filetype t);

#endif
