/*
 * pe.h - a bounds-checked reader of PE (Portable Executable) headers,
 * sections, imports, exports and resources, for the ML features.
 *
 * It never reads past the buffer (every read goes through engine/bytes.h)
 * and never fails hard on a malformed file: what cannot be read is left
 * at zero and noted in vg_pe.flags. Field names and the rules for odd
 * files follow pefile (python3-pefile), the reference of the datasets
 * the model is trained on; tests/ml_pefile_diff.py checks they agree.
 */
#ifndef VIGIL_ML_PE_H
#define VIGIL_ML_PE_H

#include <stddef.h>
#include <stdint.h>

/* Sections kept for statistics; the Windows loader allows 96. Files
 * that declare more are counted in nsections_declared only. */
#define VG_PE_MAX_SECTIONS 96
/* Caps on work per file, as pefile's (MAX_IMPORT_SYMBOLS ...). */
#define VG_PE_MAX_IMPORT_DLLS 1024
#define VG_PE_MAX_IMPORT_SYMBOLS 0x2000
#define VG_PE_MAX_RESOURCES 0x8000
#define VG_PE_MAX_RESOURCE_DEPTH 32

/* vg_pe.flags: what was found or could not be read. */
enum {
	VG_PE_HAVE_DOS = 1u << 0,      /* MZ header read */
	VG_PE_HAVE_NT = 1u << 1,       /* PE\0\0 at e_lfanew */
	VG_PE_HAVE_OPT = 1u << 2,      /* optional header read (maybe padded) */
	VG_PE_PE32PLUS = 1u << 3,      /* Magic 0x20b */
	VG_PE_OPT_TRUNCATED = 1u << 4, /* optional header padded with zeros */
	VG_PE_SECT_TRUNCATED = 1u << 5,/* section table ran off the file */
	VG_PE_IMPORTS_BAD = 1u << 6,   /* import table unreadable in part */
	VG_PE_RESOURCES_BAD = 1u << 7, /* resource tree unreadable in part */
	VG_PE_HAVE_VERSION = 1u << 8,  /* a version resource with the four
	                                * usual strings (ClaMP's fileinfo) */
};

typedef struct vg_pe_section {
	char name[9];                  /* up to the first NUL */
	uint32_t virtual_size;         /* Misc_VirtualSize */
	uint32_t virtual_address;
	uint32_t size_of_raw_data;
	uint32_t pointer_to_raw_data;
	uint32_t characteristics;
	/* The bytes pefile's get_data() returns: [raw_off, raw_off + raw_len),
	 * already clipped to the file. */
	size_t raw_off, raw_len;
} vg_pe_section;

typedef struct vg_pe_dir {
	uint32_t rva, size;
} vg_pe_dir;

typedef struct vg_pe {
	unsigned flags;
	/* DOS header */
	uint16_t e_magic, e_cblp, e_cp, e_crlc, e_cparhdr, e_minalloc,
		e_maxalloc, e_ss, e_sp, e_csum, e_ip, e_cs, e_lfarlc, e_ovno,
		e_oemid, e_oeminfo;
	uint32_t e_lfanew;
	/* COFF file header */
	uint16_t Machine, NumberOfSections;
	uint32_t TimeDateStamp, PointerToSymbolTable, NumberOfSymbols;
	uint16_t SizeOfOptionalHeader, Characteristics;
	/* Optional header (PE32 and PE32+; BaseOfData is 0 in PE32+) */
	uint16_t Magic;
	uint8_t MajorLinkerVersion, MinorLinkerVersion;
	uint32_t SizeOfCode, SizeOfInitializedData, SizeOfUninitializedData,
		AddressOfEntryPoint, BaseOfCode, BaseOfData;
	uint64_t ImageBase;
	uint32_t SectionAlignment, FileAlignment;
	uint16_t MajorOperatingSystemVersion, MinorOperatingSystemVersion,
		MajorImageVersion, MinorImageVersion, MajorSubsystemVersion,
		MinorSubsystemVersion;
	uint32_t Reserved1, SizeOfImage, SizeOfHeaders, CheckSum;
	uint16_t Subsystem, DllCharacteristics;
	uint64_t SizeOfStackReserve, SizeOfStackCommit, SizeOfHeapReserve,
		SizeOfHeapCommit;
	uint32_t LoaderFlags, NumberOfRvaAndSizes;
	vg_pe_dir dirs[16];            /* entries past NumberOfRvaAndSizes are 0 */
	/* Sections in file order */
	unsigned nsections;
	vg_pe_section sections[VG_PE_MAX_SECTIONS];
	/* Imports, exports, resources */
	uint32_t import_dlls, import_symbols, import_ordinals;
	uint32_t exports;
	uint32_t resources;            /* leaf data entries */
	uint32_t res_hashed;           /* of which entropies were taken */
	double res_entropy_sum, res_entropy_min, res_entropy_max;
	uint64_t res_size_sum;
	/* Bytes after the last section's raw data */
	uint64_t overlay_size;
} vg_pe;

/*
 * Parses data into *pe (fully overwritten). Returns 0 when at least the
 * DOS and NT headers were found, -1 when data is not a PE at all; a
 * malformed PE still returns 0 with the unreadable parts left at zero.
 */
int vg_pe_parse(const uint8_t *data, size_t size, unsigned opts, vg_pe *pe);
/* opts of vg_pe_parse: also take the resources' entropies (else
 * res_hashed stays 0). */
#define VG_PE_RES_ENTROPY 1u

/* Shannon entropy of len bytes. */
double vg_entropy(const uint8_t *p, size_t len);

/*
 * Entropy as the features use it, in bounded time: of all len bytes up
 * to VG_ENTROPY_EXACT_MAX, else estimated from VG_ENTROPY_CHUNKS chunks
 * of VG_ENTROPY_CHUNK bytes spread evenly over them (chunk k at offset
 * k * (len - CHUNK) / (CHUNKS - 1)), with the Miller-Madow correction
 * (+ (distinct byte values - 1) / (2 n ln 2)), capped at 8. Whole-file
 * entropies move by about 0.02 bits (median) against the exact figure
 * (ml/README.md); many small chunks follow a file's changing content
 * much better than a few large ones. tests/ml_pefile_diff.py samples the
 * same way.
 */
#define VG_ENTROPY_CHUNKS 512
#define VG_ENTROPY_CHUNK 32
#define VG_ENTROPY_EXACT_MAX (VG_ENTROPY_CHUNKS * VG_ENTROPY_CHUNK)
double vg_entropy_sampled(const uint8_t *p, size_t len);

/* Bytes counted for resource entropies per file, at most. */
#define VG_PE_RES_ENTROPY_BUDGET (64u * 1024)

#endif
