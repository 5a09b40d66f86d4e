/*
 * yara_externals.c - values of the YARA external variables, following
 * LOKI and THOR (see doc/yara.md for the table).
 */
#include "config.h"

#include <string.h>

#include "signatures/yara_externals.h"

const char *const vg_yx_names[VG_YX_COUNT] = {
	[VG_YX_FILENAME] = "filename",
	[VG_YX_FILEPATH] = "filepath",
	[VG_YX_EXTENSION] = "extension",
	[VG_YX_FILETYPE] = "filetype",
	[VG_YX_OWNER] = "owner",
};

const char *vg_yx_filetype(vg_filetype t)
{
	/* Names from LOKI's file-type-signatures.txt and the values
	 * signature-base rules compare with (generic_anomalies.yar). */
	switch (t) {
	case VG_FT_PE: return "EXE";
	case VG_FT_ELF: return "ELF";
	case VG_FT_MACHO: return "MACH-O";
	case VG_FT_ZIP: return "ZIP";
	case VG_FT_GZIP: return "GZIP";
	case VG_FT_BZIP2: return "BZip2";
	case VG_FT_SEVENZIP: return "7Zip";
	case VG_FT_RAR: return "RAR";
	case VG_FT_TAR: return "TAR";
	case VG_FT_CAB: return "CAB";
	case VG_FT_ARJ: return "ARJ";
	case VG_FT_PDF: return "PDF";
	case VG_FT_OLE2: return "OLE";
	case VG_FT_RTF: return "RTF";
	case VG_FT_SCRIPT: return "UNIX SCRIPT";
	case VG_FT_UNKNOWN: case VG_FT_EMPTY: case VG_FT_TEXT:
	case VG_FT_COUNT:
		return "UNKNOWN";
	default:
		/* types LOKI does not name keep vigil's name: "XZ", "HTML" */
		return vg_filetype_name(t);
	}
}

size_t vg_yx_extension(const char *name, char *buf, size_t cap)
{
	const char *start = name, *dot;
	size_t n;

	/* Leading dots start a hidden name, not an extension. */
	while (*start == '.')
		start++;
	dot = strrchr(start, '.');
	n = dot ? strlen(dot) : 0;
	if (n + 1 > cap)
		return (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		char c = dot[i];
		buf[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	buf[n] = '\0';
	return n;
}
