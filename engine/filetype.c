/*
 * filetype.c - object type from magic bytes.
 *
 * Only the first bytes are read (tar's header at 257 and ISO 9660's at
 * 32769 are the farthest), so identification costs the same for any
 * size. Binary formats are tried first; text kinds are told apart by a
 * look at the first KiB.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "engine/bytes.h"
#include "engine/filetype.h"

/* How much of the start text kinds are judged on. */
#define HEAD 1024

#define VG_FT_NAME(id, name) name,
static const char *const names[VG_FT_COUNT] = { VG_FILETYPES(VG_FT_NAME) };
#undef VG_FT_NAME

const char *vg_filetype_name(vg_filetype t)
{
	return (unsigned)t < VG_FT_COUNT ? names[t] : "BINARY";
}

typedef struct magic {
	size_t off;
	const char *bytes;
	size_t len;
	vg_filetype type;
} magic;

#define M(off, lit, type) { off, lit, sizeof(lit) - 1, VG_FT_##type }
static const magic magics[] = {
	M(0, "\x7f" "ELF", ELF),
	M(0, "\xfe\xed\xfa\xce", MACHO), M(0, "\xfe\xed\xfa\xcf", MACHO),
	M(0, "\xce\xfa\xed\xfe", MACHO), M(0, "\xcf\xfa\xed\xfe", MACHO),
	M(0, "PK\x03\x04", ZIP), M(0, "PK\x05\x06", ZIP), M(0, "PK\x07\x08", ZIP),
	M(0, "\x1f\x8b", GZIP),
	M(0, "BZh", BZIP2),
	M(0, "\xfd" "7zXZ\x00", XZ),
	M(0, "\x28\xb5\x2f\xfd", ZSTD),
	M(0, "\x04\x22\x4d\x18", LZ4),
	M(0, "7z\xbc\xaf\x27\x1c", SEVENZIP),
	M(0, "Rar!\x1a\x07", RAR),
	M(257, "ustar", TAR),
	M(0, "070707", CPIO), M(0, "070701", CPIO), M(0, "070702", CPIO),
	M(0, "\xc7\x71", CPIO), M(0, "\x71\xc7", CPIO),
	M(0, "MSCF\0\0\0\0", CAB),
	M(32769, "CD001", ISO9660),
	M(0, "xar!", XAR),
	M(2, "-lh", LHA),
	M(0, "!<arch>\n", AR),
	M(0, "\x60\xea", ARJ),
	M(0, "%PDF-", PDF),
	M(0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE2),
	M(0, "{\\rt", RTF),
	M(0, "\x5d\x00\x00", LZMA),
};
#undef M

/* A PE is an MZ header whose e_lfanew points at "PE\0\0". */
static int is_pe(const uint8_t *d, size_t n)
{
	uint32_t lfanew;

	return vg_match(d, n, 0, "MZ", 2) && vg_u32le(d, n, 0x3c, &lfanew) &&
	       vg_match(d, n, lfanew, "PE\0\0", 4);
}

/* needle (lower case) in the lower-cased head of the object. */
static int has(const char *lower, size_t n, const char *needle)
{
	return memmem(lower, n, needle, strlen(needle)) != NULL;
}

static int is_text(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = d[i];
		if (c == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r' &&
		               c != '\f' && c != 0x1b))
			return 0;
	}
	return 1;
}

/* An mbox separator: "From " (capital F), a sender and a date, so
 * "from x import y" and "From the manual:" stay text. */
static int is_mbox_line(const uint8_t *d, size_t n)
{
	int digit = 0, at = 0;

	if (!vg_match(d, n, 0, "From ", 5))
		return 0;
	for (size_t i = 5; i < n && d[i] != '\n'; i++) {
		digit |= d[i] >= '0' && d[i] <= '9';
		at |= d[i] == '@';
	}
	return digit && (at || vg_match(d, n, 5, "MAILER-DAEMON", 13));
}

/* Mail: an mbox separator, or a known header line at the start and
 * another header after it. */
static int is_mail(const uint8_t *raw, const char *lower, size_t n)
{
	static const char *const heads[] = {
		"received:", "return-path:", "message-id:", "mime-version:",
		"delivered-to:", "x-", "date:", "subject:", "from:", "to:",
	};
	int start = 0;

	if (is_mbox_line(raw, n))
		return 1;
	for (size_t i = 0; i < sizeof heads / sizeof *heads; i++)
		if (n >= strlen(heads[i]) &&
		    memcmp(lower, heads[i], strlen(heads[i])) == 0)
			start = 1;
	return start && (has(lower, n, "\ncontent-type:") ||
	                 has(lower, n, "\nfrom:") || has(lower, n, "\nto:") ||
	                 has(lower, n, "\nsubject:"));
}

static vg_filetype text_kind(const uint8_t *d, size_t n)
{
	char lower[HEAD];
	size_t i = 0;

	/* skip a UTF-8 byte order mark and leading blanks */
	if (vg_match(d, n, 0, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < n && isspace(d[i]))
		i++;
	if (vg_match(d, n, i, "#!", 2))
		return VG_FT_SCRIPT;
	for (size_t j = i; j < n; j++)
		lower[j - i] = (char)tolower(d[j]);
	n -= i;
	if (has(lower, n, "<!doctype html") || has(lower, n, "<html") ||
	    has(lower, n, "<script") || has(lower, n, "<body") ||
	    has(lower, n, "<iframe"))
		return VG_FT_HTML;
	if (is_mail(d + i, lower, n))
		return VG_FT_MAIL;
	return is_text(d, n + i) ? VG_FT_TEXT : VG_FT_UNKNOWN;
}

vg_filetype vg_filetype_detect(const uint8_t *d, size_t n)
{
	size_t head = n < HEAD ? n : HEAD;

	if (n == 0)
		return VG_FT_EMPTY;
	if (is_pe(d, n))
		return VG_FT_PE;
	for (size_t i = 0; i < sizeof magics / sizeof *magics; i++)
		if (vg_match(d, n, magics[i].off, magics[i].bytes, magics[i].len)) {
			/* raw LZMA's three bytes are weak: want a sane
			 * dictionary size too (a power of two from 4 KiB) */
			if (magics[i].type == VG_FT_LZMA) {
				uint32_t dict;
				if (!vg_u32le(d, n, 1, &dict) || dict < 4096 ||
				    (dict & (dict - 1)))
					continue;
			}
			return magics[i].type;
		}
	return text_kind(d, head);
}
