/*
 * pe.c - bounds-checked PE parser for the ML features (see pe.h).
 *
 * Every read of the file goes through engine/bytes.h. Loops over
 * counts taken from the file are capped (pe.h) so a crafted header
 * cannot make the parser slow.
 */
#include <math.h>
#include <string.h>

#include "engine/bytes.h"
#include "ml/pe.h"

#define PE32_MAGIC 0x10b
#define PE32PLUS_MAGIC 0x20b
#define DIR_EXPORT 0
#define DIR_IMPORT 1
#define DIR_RESOURCE 2
#define RT_VERSION 16

/* A cursor that reads little-endian fields one after the other and
 * yields zeros past the end: pefile pads short optional headers so. */
typedef struct cursor {
	const uint8_t *b;
	size_t n, off;
} cursor;

static uint8_t get8(cursor *c)
{
	uint8_t v = 0;
	(void)vg_u8(c->b, c->n, c->off, &v);
	c->off += 1;
	return v;
}

static uint16_t get16(cursor *c)
{
	uint16_t v = 0;
	(void)vg_u16le(c->b, c->n, c->off, &v);
	c->off += 2;
	return v;
}

static uint32_t get32(cursor *c)
{
	uint32_t v = 0;
	(void)vg_u32le(c->b, c->n, c->off, &v);
	c->off += 4;
	return v;
}

static uint64_t get64(cursor *c)
{
	uint64_t v = 0;
	(void)vg_u64le(c->b, c->n, c->off, &v);
	c->off += 8;
	return v;
}

/* Shannon entropy (bits per byte, 0..8) of a byte histogram of n bytes. */
static double entropy_hist(const uint64_t hist[256], uint64_t n)
{
	double h = 0.0;
	if (n == 0)
		return 0.0;
	for (int i = 0; i < 256; i++) {
		if (hist[i]) {
			double p = (double)hist[i] / (double)n;
			h -= p * log2(p);
		}
	}
	return h;
}

/* Adds len bytes to four interleaved tables, so that the CPU counts in
 * parallel; 32-bit counts hold any buffer under 16 GiB. */
static void count_bytes(uint32_t t[4][256], const uint8_t *p, size_t len)
{
	size_t i = 0;
	for (; i + 4 <= len; i += 4) {
		t[0][p[i]]++;
		t[1][p[i + 1]]++;
		t[2][p[i + 2]]++;
		t[3][p[i + 3]]++;
	}
	for (; i < len; i++)
		t[0][p[i]]++;
}

static double entropy_tables(uint32_t t[4][256], uint64_t n)
{
	uint64_t hist[256];
	for (int k = 0; k < 256; k++)
		hist[k] = (uint64_t)t[0][k] + t[1][k] + t[2][k] + t[3][k];
	return entropy_hist(hist, n);
}

double vg_entropy(const uint8_t *p, size_t len)
{
	uint32_t t[4][256];
	if (len == 0)
		return 0.0;
	memset(t, 0, sizeof t);
	count_bytes(t, p, len);
	return entropy_tables(t, len);
}

double vg_entropy_sampled(const uint8_t *p, size_t len)
{
	uint32_t t[4][256];
	uint64_t span, hist[256];
	unsigned used = 0;
	double h;

	if (len <= VG_ENTROPY_EXACT_MAX)
		return vg_entropy(p, len);
	/* Chunk k starts at k * (len - chunk) / (chunks - 1): the first at
	 * 0, the last ending at len. */
	memset(t, 0, sizeof t);
	span = (uint64_t)len - VG_ENTROPY_CHUNK;
	for (uint64_t k = 0; k < VG_ENTROPY_CHUNKS; k++)
		count_bytes(t, p + span * k / (VG_ENTROPY_CHUNKS - 1),
		            VG_ENTROPY_CHUNK);
	for (int k = 0; k < 256; k++) {
		hist[k] = (uint64_t)t[0][k] + t[1][k] + t[2][k] + t[3][k];
		used += hist[k] != 0;
	}
	/* Miller-Madow: a sample's plug-in entropy falls short of the whole
	 * range's by about (values seen - 1) / (2 n ln 2) bits. */
	h = entropy_hist(hist, VG_ENTROPY_EXACT_MAX) +
	    (used - 1) / (2.0 * VG_ENTROPY_EXACT_MAX * 0.69314718055994531);
	return h < 8.0 ? h : 8.0;
}

static int parse_dos(const uint8_t *b, size_t n, vg_pe *pe)
{
	cursor c = { b, n, 0 };
	if (!vg_fits(n, 0, 64) || !vg_match(b, n, 0, "MZ", 2))
		return -1;
	pe->e_magic = get16(&c);
	pe->e_cblp = get16(&c);
	pe->e_cp = get16(&c);
	pe->e_crlc = get16(&c);
	pe->e_cparhdr = get16(&c);
	pe->e_minalloc = get16(&c);
	pe->e_maxalloc = get16(&c);
	pe->e_ss = get16(&c);
	pe->e_sp = get16(&c);
	pe->e_csum = get16(&c);
	pe->e_ip = get16(&c);
	pe->e_cs = get16(&c);
	pe->e_lfarlc = get16(&c);
	pe->e_ovno = get16(&c);
	c.off += 8; /* e_res[4] */
	pe->e_oemid = get16(&c);
	pe->e_oeminfo = get16(&c);
	c.off += 20; /* e_res2[10] */
	pe->e_lfanew = get32(&c);
	pe->flags |= VG_PE_HAVE_DOS;
	return 0;
}

static int parse_file_header(const uint8_t *b, size_t n, vg_pe *pe)
{
	cursor c = { b, n, (size_t)pe->e_lfanew + 4 };
	if (!vg_match(b, n, pe->e_lfanew, "PE\0\0", 4) ||
	    !vg_fits(n, c.off, 20))
		return -1;
	pe->Machine = get16(&c);
	pe->NumberOfSections = get16(&c);
	pe->TimeDateStamp = get32(&c);
	pe->PointerToSymbolTable = get32(&c);
	pe->NumberOfSymbols = get32(&c);
	pe->SizeOfOptionalHeader = get16(&c);
	pe->Characteristics = get16(&c);
	pe->flags |= VG_PE_HAVE_NT;
	return 0;
}

/* The optional header, zero-padded like pefile when the file ends
 * inside it; absent (as for pefile) when fewer than 69 bytes remain. */
static void parse_optional_header(const uint8_t *b, size_t n, vg_pe *pe)
{
	size_t start = (size_t)pe->e_lfanew + 24;
	cursor c = { b, n, start };
	int plus;
	unsigned ndirs;

	if (!vg_fits(n, start, 69))
		return;
	pe->flags |= VG_PE_HAVE_OPT;
	pe->Magic = get16(&c);
	plus = pe->Magic == PE32PLUS_MAGIC;
	if (plus)
		pe->flags |= VG_PE_PE32PLUS;
	if (!vg_fits(n, start, plus ? 112 : 96))
		pe->flags |= VG_PE_OPT_TRUNCATED;
	pe->MajorLinkerVersion = get8(&c);
	pe->MinorLinkerVersion = get8(&c);
	pe->SizeOfCode = get32(&c);
	pe->SizeOfInitializedData = get32(&c);
	pe->SizeOfUninitializedData = get32(&c);
	pe->AddressOfEntryPoint = get32(&c);
	pe->BaseOfCode = get32(&c);
	if (plus) {
		pe->ImageBase = get64(&c);
	} else {
		pe->BaseOfData = get32(&c);
		pe->ImageBase = get32(&c);
	}
	pe->SectionAlignment = get32(&c);
	pe->FileAlignment = get32(&c);
	pe->MajorOperatingSystemVersion = get16(&c);
	pe->MinorOperatingSystemVersion = get16(&c);
	pe->MajorImageVersion = get16(&c);
	pe->MinorImageVersion = get16(&c);
	pe->MajorSubsystemVersion = get16(&c);
	pe->MinorSubsystemVersion = get16(&c);
	pe->Reserved1 = get32(&c);
	pe->SizeOfImage = get32(&c);
	pe->SizeOfHeaders = get32(&c);
	pe->CheckSum = get32(&c);
	pe->Subsystem = get16(&c);
	pe->DllCharacteristics = get16(&c);
	pe->SizeOfStackReserve = plus ? get64(&c) : get32(&c);
	pe->SizeOfStackCommit = plus ? get64(&c) : get32(&c);
	pe->SizeOfHeapReserve = plus ? get64(&c) : get32(&c);
	pe->SizeOfHeapCommit = plus ? get64(&c) : get32(&c);
	pe->LoaderFlags = get32(&c);
	pe->NumberOfRvaAndSizes = get32(&c);

	/* Directories follow the fixed part; pefile reads at most 16 here
	 * (it names only 16) and stops at the end of the file. */
	ndirs = pe->NumberOfRvaAndSizes & 0x7fffffffu;
	if (ndirs > 16)
		ndirs = 16;
	for (unsigned i = 0; i < ndirs && c.off < n; i++) {
		pe->dirs[i].rva = get32(&c);
		pe->dirs[i].size = get32(&c);
	}
}

/* pefile's adjust_FileAlignment */
static uint32_t adj_file(const vg_pe *pe, uint32_t v)
{
	if (pe->FileAlignment < 0x200)
		return v;
	return v & ~(uint32_t)0x1ff;
}

/* pefile's adjust_SectionAlignment */
static uint32_t adj_section(const vg_pe *pe, uint32_t v)
{
	uint32_t a = pe->SectionAlignment;
	if (a < 0x1000)
		a = pe->FileAlignment;
	if (a && v % a)
		return a * (v / a);
	return v;
}

static int all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/* The byte range pefile's section.get_data() returns, clipped to the
 * file. */
static void section_range(const vg_pe *pe, size_t n, vg_pe_section *s)
{
	uint64_t off = adj_file(pe, s->pointer_to_raw_data);
	uint64_t end = off + s->size_of_raw_data;
	uint64_t lim = (uint64_t)s->pointer_to_raw_data + s->size_of_raw_data;
	if (end > lim)
		end = lim;
	if (end > n)
		end = n;
	if (off >= end) {
		s->raw_off = off < n ? (size_t)off : n;
		s->raw_len = 0;
		return;
	}
	s->raw_off = (size_t)off;
	s->raw_len = (size_t)(end - off);
}

static void parse_sections(const uint8_t *b, size_t n, vg_pe *pe)
{
	size_t off = (size_t)pe->e_lfanew + 24 + pe->SizeOfOptionalHeader;
	unsigned count = pe->NumberOfSections;
	uint64_t raw_end = 0;

	if (count > VG_PE_MAX_SECTIONS)
		count = VG_PE_MAX_SECTIONS;
	for (unsigned i = 0; i < count; i++, off += 40) {
		const uint8_t *h = vg_at(b, n, off, 40);
		vg_pe_section *s = &pe->sections[pe->nsections];
		cursor c = { b, n, off + 8 };
		if (!h) {
			pe->flags |= VG_PE_SECT_TRUNCATED;
			break;
		}
		if (all_zero(h, 40))
			break;
		memcpy(s->name, h, 8);
		s->name[8] = '\0';
		s->virtual_size = get32(&c);
		s->virtual_address = get32(&c);
		s->size_of_raw_data = get32(&c);
		s->pointer_to_raw_data = get32(&c);
		c.off += 12; /* relocations, line numbers and their counts */
		s->characteristics = get32(&c);
		section_range(pe, n, s);
		if (s->raw_len &&
		    (uint64_t)s->pointer_to_raw_data + s->size_of_raw_data > raw_end)
			raw_end = (uint64_t)s->pointer_to_raw_data +
			          s->size_of_raw_data;
		pe->nsections++;
	}
	if (raw_end && raw_end < n)
		pe->overlay_size = n - raw_end;
}

/* Maps an RVA to a file offset as pefile's get_offset_from_rva does;
 * returns 0 and sets *off, or -1 when the RVA is not in the file. */
static int rva_to_off(const vg_pe *pe, size_t size, uint32_t rva,
                      size_t *off)
{
	for (unsigned i = 0; i < pe->nsections; i++) {
		const vg_pe_section *s = &pe->sections[i];
		uint32_t va = adj_section(pe, s->virtual_address);
		uint32_t span = s->virtual_size > s->size_of_raw_data
		                        ? s->virtual_size
		                        : s->size_of_raw_data;
		if (rva >= va && rva - va < span) {
			uint64_t o = (uint64_t)(rva - va) +
			             adj_file(pe, s->pointer_to_raw_data);
			if (o >= size)
				return -1;
			*off = (size_t)o;
			return 0;
		}
	}
	/* Not in a section: pefile reads headers-area RVAs as offsets. */
	if (rva < size) {
		*off = rva;
		return 0;
	}
	return -1;
}

/* Counts the symbols of one import thunk array (names and ordinals). */
static void count_thunks(const uint8_t *b, size_t n, vg_pe *pe,
                         uint32_t rva)
{
	size_t off;
	int plus = (pe->flags & VG_PE_PE32PLUS) != 0;
	size_t width = plus ? 8 : 4;

	if (rva_to_off(pe, n, rva, &off) != 0) {
		pe->flags |= VG_PE_IMPORTS_BAD;
		return;
	}
	for (;; off += width) {
		uint64_t v;
		uint32_t v32;
		int ordinal;
		if (pe->import_symbols >= VG_PE_MAX_IMPORT_SYMBOLS)
			return;
		if (plus) {
			if (!vg_u64le(b, n, off, &v))
				break;
			ordinal = (v >> 63) != 0;
		} else {
			if (!vg_u32le(b, n, off, &v32))
				break;
			v = v32;
			ordinal = (v32 >> 31) != 0;
		}
		if (v == 0)
			return;
		pe->import_symbols++;
		pe->import_ordinals += ordinal;
	}
	pe->flags |= VG_PE_IMPORTS_BAD;
}

static void parse_imports(const uint8_t *b, size_t n, vg_pe *pe)
{
	size_t off;
	const vg_pe_dir *d = &pe->dirs[DIR_IMPORT];

	if (d->rva == 0 || rva_to_off(pe, n, d->rva, &off) != 0)
		return;
	for (unsigned i = 0; i < VG_PE_MAX_IMPORT_DLLS; i++, off += 20) {
		const uint8_t *desc = vg_at(b, n, off, 20);
		uint32_t oft = 0, ft = 0;
		if (!desc) {
			pe->flags |= VG_PE_IMPORTS_BAD;
			return;
		}
		if (all_zero(desc, 20))
			return;
		(void)vg_u32le(b, n, off, &oft);
		(void)vg_u32le(b, n, off + 16, &ft);
		pe->import_dlls++;
		count_thunks(b, n, pe, oft ? oft : ft);
	}
}

static void parse_exports(const uint8_t *b, size_t n, vg_pe *pe)
{
	size_t off;
	uint32_t nfunc;
	const vg_pe_dir *d = &pe->dirs[DIR_EXPORT];

	if (d->rva == 0 || rva_to_off(pe, n, d->rva, &off) != 0)
		return;
	if (!vg_u32le(b, n, off + 20, &nfunc))
		return;
	pe->exports = nfunc;
}

/* UTF-16LE search for an ASCII key inside a version resource. */
static int has_utf16(const uint8_t *p, size_t len, const char *key)
{
	size_t k = strlen(key);
	if (len < 2 * k)
		return 0;
	for (size_t i = 0; i + 2 * k <= len; i++) {
		size_t j = 0;
		while (j < k && p[i + 2 * j] == (uint8_t)key[j] &&
		       p[i + 2 * j + 1] == 0)
			j++;
		if (j == k)
			return 1;
	}
	return 0;
}

static void version_info(const uint8_t *p, size_t len, vg_pe *pe)
{
	static const char *const keys[] = { "VS_VERSION_INFO", "FileVersion",
		"ProductVersion", "ProductName", "CompanyName" };
	if (len > 64 * 1024)
		len = 64 * 1024;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!has_utf16(p, len, keys[i]))
			return;
	pe->flags |= VG_PE_HAVE_VERSION;
}

typedef struct res_walk {
	const uint8_t *b;
	size_t n, base;      /* file offset of the resource directory */
	unsigned entries;    /* directory entries visited, for the cap */
	uint64_t budget;     /* bytes left to hash for resource entropies */
	int version_seen;    /* a version resource was examined */
} res_walk;

static void res_leaf(res_walk *w, vg_pe *pe, uint32_t entry_off,
                     uint32_t type)
{
	uint32_t rva, size;
	size_t off;
	const uint8_t *p;
	double h;
	uint64_t cost;

	if (!vg_u32le(w->b, w->n, w->base + entry_off, &rva) ||
	    !vg_u32le(w->b, w->n, w->base + entry_off + 4, &size)) {
		pe->flags |= VG_PE_RESOURCES_BAD;
		return;
	}
	if (rva_to_off(pe, w->n, rva, &off) != 0)
		return;
	if (size > w->n - off)
		size = (uint32_t)(w->n - off);
	p = w->b + off;
	pe->res_size_sum += size;
	pe->resources++;
	/* At most VG_PE_RES_ENTROPY_BUDGET bytes are counted for resource
	 * entropies (each one sampled as vg_entropy_sampled does): the
	 * first resources in walk order get one, later ones only counted,
	 * so the time per file stays bounded. */
	cost = size < VG_ENTROPY_EXACT_MAX ? size : VG_ENTROPY_EXACT_MAX;
	if (cost <= w->budget) {
		w->budget -= cost;
		h = vg_entropy_sampled(p, size);
		if (pe->res_hashed == 0 || h < pe->res_entropy_min)
			pe->res_entropy_min = h;
		if (pe->res_hashed == 0 || h > pe->res_entropy_max)
			pe->res_entropy_max = h;
		pe->res_entropy_sum += h;
		pe->res_hashed++;
	}
	if (type == RT_VERSION && !w->version_seen) {
		w->version_seen = 1;
		version_info(p, size, pe);
	}
}

static void res_dir(res_walk *w, vg_pe *pe, uint32_t dir_off,
                    unsigned depth, uint32_t type)
{
	uint16_t named, ids;
	size_t off = w->base + dir_off;

	if (depth > 3 || depth > VG_PE_MAX_RESOURCE_DEPTH ||
	    !vg_u16le(w->b, w->n, off + 12, &named) ||
	    !vg_u16le(w->b, w->n, off + 14, &ids)) {
		pe->flags |= VG_PE_RESOURCES_BAD;
		return;
	}
	for (unsigned i = 0; i < (unsigned)named + ids; i++) {
		uint32_t name, target;
		size_t e = off + 16 + (size_t)i * 8;
		if (++w->entries > VG_PE_MAX_RESOURCES ||
		    pe->resources >= VG_PE_MAX_RESOURCES)
			return;
		if (!vg_u32le(w->b, w->n, e, &name) ||
		    !vg_u32le(w->b, w->n, e + 4, &target)) {
			pe->flags |= VG_PE_RESOURCES_BAD;
			return;
		}
		if (depth == 0)
			type = (name & 0x80000000u) ? 0 : name;
		if (target & 0x80000000u) {
			/* A subdirectory: the depth limit bounds loops, the
			 * entry cap bounds the work. */
			res_dir(w, pe, target & 0x7fffffffu, depth + 1, type);
		} else {
			res_leaf(w, pe, target, type);
		}
	}
}

static void parse_resources(const uint8_t *b, size_t n, vg_pe *pe,
                            unsigned opts)
{
	res_walk w = { b, n, 0, 0,
		(opts & VG_PE_RES_ENTROPY) ? VG_PE_RES_ENTROPY_BUDGET : 0, 0 };
	const vg_pe_dir *d = &pe->dirs[DIR_RESOURCE];
	if (d->rva == 0 || rva_to_off(pe, n, d->rva, &w.base) != 0)
		return;
	res_dir(&w, pe, 0, 0, 0);
}

int vg_pe_parse(const uint8_t *data, size_t size, unsigned opts, vg_pe *pe)
{
	memset(pe, 0, sizeof *pe);
	if (!data || parse_dos(data, size, pe) != 0 ||
	    parse_file_header(data, size, pe) != 0)
		return -1;
	parse_optional_header(data, size, pe);
	if (!(pe->flags & VG_PE_HAVE_OPT))
		return 0;
	parse_sections(data, size, pe);
	parse_imports(data, size, pe);
	parse_exports(data, size, pe);
	parse_resources(data, size, pe, opts);
	return 0;
}
