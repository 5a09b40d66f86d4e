/*
 * features.c - the ML feature vector of a PE file (see features.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ml/features.h"
#include "ml/pe.h"

#define VG_ML_FEAT_NAME(name) #name,
const char *const vg_ml_feature_names[VG_ML_NFEATURES] = {
	VG_ML_FEATURES(VG_ML_FEAT_NAME)
};
#undef VG_ML_FEAT_NAME

/* COFF Characteristics bits behind FH_char0..14, DllCharacteristics
 * bits behind OH_DLLchar0..10, in ClaMP_Integrated's order. */
static const uint16_t fh_bits[15] = { 0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x80,
	0x100, 0x200, 0x400, 0x800, 0x1000, 0x2000, 0x4000, 0x8000 };
static const uint16_t dll_bits[11] = { 0x40, 0x80, 0x100, 0x200, 0x400,
	0x800, 0x2000, 0x8000, 0x20, 0x1000, 0x4000 };

/* Their names in Microsoft's PE documentation (IMAGE_FILE_*,
 * IMAGE_DLLCHARACTERISTICS_*), for explanations. */
static const char *const fh_names[15] = { "RELOCS_STRIPPED",
	"EXECUTABLE_IMAGE", "LINE_NUMS_STRIPPED", "LOCAL_SYMS_STRIPPED",
	"AGGRESSIVE_WS_TRIM", "LARGE_ADDRESS_AWARE", "BYTES_REVERSED_LO",
	"32BIT_MACHINE", "DEBUG_STRIPPED", "REMOVABLE_RUN_FROM_SWAP",
	"NET_RUN_FROM_SWAP", "SYSTEM", "DLL", "UP_SYSTEM_ONLY",
	"BYTES_REVERSED_HI" };
static const char *const dll_names[11] = { "DYNAMIC_BASE",
	"FORCE_INTEGRITY", "NX_COMPAT", "NO_ISOLATION", "NO_SEH", "NO_BIND",
	"WDM_DRIVER", "TERMINAL_SERVER_AWARE", "HIGH_ENTROPY_VA",
	"APPCONTAINER", "GUARD_CF" };

/* Section names ClaMP counts as "not suspicious". */
static const char *const usual_sections[] = { ".text", ".data", ".rdata",
	".idata", ".edata", ".rsrc", ".bss", ".crt", ".tls" };
#define NUSUAL (sizeof usual_sections / sizeof usual_sections[0])

#define SCN_MEM_EXECUTE 0x20000000u
#define SCN_MEM_WRITE 0x80000000u

int vg_ml_feature_index(const char *name)
{
	for (int i = 0; i < VG_ML_NFEATURES; i++)
		if (strcmp(vg_ml_feature_names[i], name) == 0)
			return i;
	return -1;
}

uint64_t vg_ml_feature_hash(void)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < VG_ML_NFEATURES; i++) {
		for (const char *p = vg_ml_feature_names[i]; *p; p++) {
			h ^= (uint8_t)*p;
			h *= 0x100000001b3ull;
		}
		h ^= '\n';
		h *= 0x100000001b3ull;
	}
	return h;
}

/* What the other yes/no features test, for explanations. */
static const struct {
	int feature;
	const char *label;
} checks[] = {
	{ VG_MLF_CreationYear_ok, "TimeDateStamp in 1980-2015" },
	{ VG_MLF_ImageBase_std, "ImageBase a usual one" },
	{ VG_MLF_SectionAlignment_ok, "SectionAlignment >= FileAlignment" },
	{ VG_MLF_FileAlignment_ok, "FileAlignment valid" },
	{ VG_MLF_SizeOfImage_ok, "SizeOfImage aligned" },
	{ VG_MLF_SizeOfHeaders_ok, "SizeOfHeaders aligned" },
	{ VG_MLF_LoaderFlags_zero, "LoaderFlags zero" },
	{ VG_MLF_EntryInCode, "entry point in code" },
	{ VG_MLF_fileinfo, "version info present" },
};

void vg_ml_describe(int i, double v, char *out, size_t size)
{
	if (i >= VG_MLF_FH_char0 && i <= VG_MLF_FH_char14) {
		snprintf(out, size, "Characteristics.%s=%.0f",
		         fh_names[i - VG_MLF_FH_char0], v);
		return;
	}
	if (i >= VG_MLF_OH_DLLchar0 && i <= VG_MLF_OH_DLLchar10) {
		snprintf(out, size, "DllCharacteristics.%s=%.0f",
		         dll_names[i - VG_MLF_OH_DLLchar0], v);
		return;
	}
	for (size_t k = 0; k < sizeof checks / sizeof checks[0]; k++)
		if (checks[k].feature == i) {
			snprintf(out, size, "%s: %s", checks[k].label,
			         isnan(v) ? "unknown" : v != 0 ? "yes" : "no");
			return;
		}
	if (isnan(v))
		snprintf(out, size, "%s missing", vg_ml_feature_names[i]);
	else if ((i == VG_MLF_Machine || i == VG_MLF_Characteristics ||
	          i == VG_MLF_Magic || i == VG_MLF_ImageBase ||
	          i == VG_MLF_DllCharacteristics) && v >= 0 && v < 0x1p64)
		snprintf(out, size, "%s=0x%llx", vg_ml_feature_names[i],
		         (unsigned long long)v);
	else
		snprintf(out, size, "%s=%.4g", vg_ml_feature_names[i], v);
}

#define F(name) f[VG_MLF_##name]
#define HAS(name) (!isnan(F(name)))

/* A ratio of two header fields, NaN when either is missing or the
 * denominator is not positive. */
static double ratio(double num, double den)
{
	return isnan(num) || !(den > 0) ? NAN : num / den;
}

/* The ratio features (mldata.derive computes the same in numpy). */
static void derive_ratios(double *f)
{
	double code = F(SizeOfCode), image = F(SizeOfImage);
	if (isnan(F(EntryInCode)) && HAS(AddressOfEntryPoint) &&
	    HAS(BaseOfCode) && HAS(SizeOfCode))
		F(EntryInCode) = F(AddressOfEntryPoint) >= F(BaseOfCode) &&
		                 F(AddressOfEntryPoint) < F(BaseOfCode) + code;
	if (isnan(F(EntryRatio)))
		F(EntryRatio) = ratio(F(AddressOfEntryPoint), image);
	if (isnan(F(CodeRatio)))
		F(CodeRatio) = ratio(code, image);
	if (isnan(F(InitDataRatio)))
		F(InitDataRatio) = ratio(F(SizeOfInitializedData), image);
	if (isnan(F(UninitDataRatio)))
		F(UninitDataRatio) = ratio(F(SizeOfUninitializedData), image);
	if (isnan(F(DeclaredRatio)))
		F(DeclaredRatio) = ratio(code + F(SizeOfInitializedData) +
		                         F(SizeOfUninitializedData), image);
}

/* The flag features from raw header values; each only where it is
 * missing and its inputs are present. */
void vg_ml_derive(double *f)
{
	if (HAS(Characteristics)) {
		uint32_t c = (uint32_t)F(Characteristics);
		for (int i = 0; i < 15; i++)
			if (isnan(f[VG_MLF_FH_char0 + i]))
				f[VG_MLF_FH_char0 + i] = (c & fh_bits[i]) != 0;
	}
	if (HAS(DllCharacteristics)) {
		uint32_t c = (uint32_t)F(DllCharacteristics);
		for (int i = 0; i < 11; i++)
			if (isnan(f[VG_MLF_OH_DLLchar0 + i]))
				f[VG_MLF_OH_DLLchar0 + i] = (c & dll_bits[i]) != 0;
	}
	if (isnan(F(CreationYear_ok)) && HAS(CreationYear))
		F(CreationYear_ok) = F(CreationYear) >= 1980 &&
		                     F(CreationYear) <= 2015;
	if (isnan(F(ImageBase_std)) && HAS(ImageBase))
		F(ImageBase_std) = F(ImageBase) == 0x10000000 ||
		                   F(ImageBase) == 0x10000 ||
		                   F(ImageBase) == 0x400000;
	if (HAS(SectionAlignment) && HAS(FileAlignment)) {
		double sa = F(SectionAlignment), fa = F(FileAlignment);
		if (isnan(F(SectionAlignment_ok)))
			F(SectionAlignment_ok) = sa >= fa;
		if (isnan(F(FileAlignment_ok)))
			F(FileAlignment_ok) =
				(sa >= 512 && fmod(fa, 2) == 0 && fa >= 512 &&
				 fa <= 65536) ||
				(sa < 512 && fa == sa);
		if (isnan(F(SizeOfImage_ok)) && HAS(SizeOfImage))
			F(SizeOfImage_ok) =
				sa > 0 && fmod(F(SizeOfImage), sa) == 0;
		if (isnan(F(SizeOfHeaders_ok)) && HAS(SizeOfHeaders))
			F(SizeOfHeaders_ok) =
				fa > 0 && fmod(F(SizeOfHeaders), fa) == 0;
	}
	if (isnan(F(LoaderFlags_zero)) && HAS(LoaderFlags))
		F(LoaderFlags_zero) = F(LoaderFlags) == 0;
	derive_ratios(f);
}

static void header_features(const vg_pe *pe, double *f)
{
#define H(name) F(name) = (double)pe->name;
	H(e_magic) H(e_cblp) H(e_cp) H(e_crlc) H(e_cparhdr) H(e_minalloc)
	H(e_maxalloc) H(e_ss) H(e_sp) H(e_csum) H(e_ip) H(e_cs) H(e_lfarlc)
	H(e_ovno) H(e_oemid) H(e_oeminfo) H(e_lfanew)
	H(Machine) H(NumberOfSections) H(TimeDateStamp)
	H(PointerToSymbolTable) H(NumberOfSymbols) H(SizeOfOptionalHeader)
	H(Characteristics)
	F(CreationYear) = (double)(1970 + pe->TimeDateStamp / 86400u / 365u);
	if (!(pe->flags & VG_PE_HAVE_OPT))
		return;
	H(Magic) H(MajorLinkerVersion) H(MinorLinkerVersion) H(SizeOfCode)
	H(SizeOfInitializedData) H(SizeOfUninitializedData)
	H(AddressOfEntryPoint) H(BaseOfCode) H(ImageBase)
	H(SectionAlignment) H(FileAlignment) H(MajorOperatingSystemVersion)
	H(MinorOperatingSystemVersion) H(MajorImageVersion)
	H(MinorImageVersion) H(MajorSubsystemVersion)
	H(MinorSubsystemVersion) H(SizeOfImage) H(SizeOfHeaders) H(CheckSum)
	H(Subsystem) H(DllCharacteristics) H(SizeOfStackReserve)
	H(SizeOfStackCommit) H(SizeOfHeapReserve) H(SizeOfHeapCommit)
	H(LoaderFlags) H(NumberOfRvaAndSizes)
#undef H
	if (!(pe->flags & VG_PE_PE32PLUS))
		F(BaseOfData) = (double)pe->BaseOfData;
}

static int is_usual(const char *name)
{
	for (size_t i = 0; i < NUSUAL; i++)
		if (strcmp(name, usual_sections[i]) == 0)
			return (int)i;
	return -1;
}

static void section_features(const vg_pe *pe, const uint8_t *data,
                             unsigned want, double *f)
{
	const int all = (want & VG_ML_SECTION_ENTROPIES) != 0;
	unsigned seen = 0; /* bit i: usual_sections[i] seen */
	int have_text = 0, have_data = 0;
	double hsum = 0, hmin = 0, hmax = 0, rsum = 0, vsum = 0;
	uint32_t rmin = 0, rmax = 0, vmin = 0, vmax = 0;
	unsigned nexec = 0, nwx = 0;

	F(E_text) = F(E_data) = 0;
	F(EntryPointSectionEntropy) = -1;
	for (unsigned i = 0; i < pe->nsections; i++) {
		const vg_pe_section *s = &pe->sections[i];
		int u = is_usual(s->name);
		int text = !have_text && strcmp(s->name, ".text") == 0;
		int dat = !have_data && strcmp(s->name, ".data") == 0;
		double h = all || text || dat
			? vg_entropy_sampled(data + s->raw_off, s->raw_len) : NAN;
		if (u >= 0)
			seen |= 1u << u;
		if (text) {
			F(E_text) = (double)h;
			have_text = 1;
		}
		if (dat) {
			F(E_data) = (double)h;
			have_data = 1;
		}
		if (i == 0 || h < hmin)
			hmin = h;
		if (i == 0 || h > hmax)
			hmax = h;
		if (i == 0 || s->size_of_raw_data < rmin)
			rmin = s->size_of_raw_data;
		if (i == 0 || s->size_of_raw_data > rmax)
			rmax = s->size_of_raw_data;
		if (i == 0 || s->virtual_size < vmin)
			vmin = s->virtual_size;
		if (i == 0 || s->virtual_size > vmax)
			vmax = s->virtual_size;
		hsum += h;
		rsum += s->size_of_raw_data;
		vsum += s->virtual_size;
		nexec += (s->characteristics & SCN_MEM_EXECUTE) != 0;
		nwx += (s->characteristics & (SCN_MEM_EXECUTE | SCN_MEM_WRITE)) ==
		       (SCN_MEM_EXECUTE | SCN_MEM_WRITE);
		if (F(EntryPointSectionEntropy) < 0 &&
		    pe->AddressOfEntryPoint >= s->virtual_address &&
		    pe->AddressOfEntryPoint - s->virtual_address <
		            (s->virtual_size > s->size_of_raw_data
		                     ? s->virtual_size
		                     : s->size_of_raw_data))
			F(EntryPointSectionEntropy) = (double)h;
	}
	F(non_sus_sections) = (double)__builtin_popcount(seen);
	F(sus_sections) = (double)pe->NumberOfSections - F(non_sus_sections);
	F(SectionsNb) = (double)pe->nsections;
	if (pe->nsections) {
		double n = pe->nsections;
		F(SectionsMeanEntropy) = (double)(hsum / n);
		F(SectionsMeanRawsize) = (double)(rsum / n);
		F(SectionsMeanVirtualsize) = (double)(vsum / n);
	} else {
		F(SectionsMeanEntropy) = F(SectionsMeanRawsize) =
			F(SectionsMeanVirtualsize) = 0;
	}
	F(SectionsMinEntropy) = (double)hmin;
	F(SectionsMaxEntropy) = (double)hmax;
	if (!all)
		F(SectionsMeanEntropy) = F(SectionsMinEntropy) =
			F(SectionsMaxEntropy) = F(EntryPointSectionEntropy) = NAN;
	F(SectionsMinRawsize) = (double)rmin;
	F(SectionMaxRawsize) = (double)rmax;
	F(SectionsMinVirtualsize) = (double)vmin;
	F(SectionMaxVirtualsize) = (double)vmax;
	F(SectionsExecutable) = (double)nexec;
	F(SectionsWritableExecutable) = (double)nwx;
}

static void table_features(const vg_pe *pe, unsigned want, double *f)
{
	F(ImportsNbDLL) = (double)pe->import_dlls;
	F(ImportsNb) = (double)pe->import_symbols;
	F(ImportsNbOrdinal) = (double)pe->import_ordinals;
	F(ExportNb) = (double)pe->exports;
	F(ResourcesNb) = (double)pe->resources;
	if (pe->res_hashed) {
		F(ResourcesMeanEntropy) =
			(double)(pe->res_entropy_sum / pe->res_hashed);
		F(ResourcesMinEntropy) = (double)pe->res_entropy_min;
		F(ResourcesMaxEntropy) = (double)pe->res_entropy_max;
	} else {
		F(ResourcesMeanEntropy) = F(ResourcesMinEntropy) =
			F(ResourcesMaxEntropy) = 0;
	}
	if (!(want & VG_ML_RESOURCE_ENTROPIES))
		F(ResourcesMeanEntropy) = F(ResourcesMinEntropy) =
			F(ResourcesMaxEntropy) = NAN;
	F(ResourcesMeanSize) = pe->resources
		? (double)pe->res_size_sum / pe->resources : 0;
	F(fileinfo) = (pe->flags & VG_PE_HAVE_VERSION) != 0;
	F(HasDebug) = pe->dirs[6].rva != 0 && pe->dirs[6].size != 0;
	F(HasTLS) = pe->dirs[9].rva != 0 && pe->dirs[9].size != 0;
	F(HasRelocations) = pe->dirs[5].rva != 0 && pe->dirs[5].size != 0;
	F(HasSecurity) = pe->dirs[4].rva != 0 && pe->dirs[4].size != 0;
	F(HasCLR) = pe->dirs[14].rva != 0 && pe->dirs[14].size != 0;
}

int vg_ml_extract_some(const uint8_t *data, size_t size, double *f,
                       unsigned want)
{
	vg_pe pe;

	for (int i = 0; i < VG_ML_NFEATURES; i++)
		f[i] = NAN;
	if (vg_pe_parse(data, size, (want & VG_ML_RESOURCE_ENTROPIES)
	                ? VG_PE_RES_ENTROPY : 0, &pe) != 0)
		return -1;
	header_features(&pe, f);
	F(filesize) = (double)size;
	F(E_file) = (double)vg_entropy_sampled(data, size);
	if (pe.flags & VG_PE_HAVE_OPT) {
		section_features(&pe, data, want, f);
		table_features(&pe, want, f);
		F(OverlaySize) = (double)pe.overlay_size;
	}
	vg_ml_derive(f);
	return 0;
}

int vg_ml_extract(const uint8_t *data, size_t size, double *f)
{
	return vg_ml_extract_some(data, size, f, VG_ML_ALL_FEATURES);
}

unsigned vg_ml_groups_of(const unsigned char used[VG_ML_NFEATURES])
{
	unsigned g = 0;
	if (used[VG_MLF_SectionsMeanEntropy] || used[VG_MLF_SectionsMinEntropy] ||
	    used[VG_MLF_SectionsMaxEntropy] || used[VG_MLF_EntryPointSectionEntropy])
		g |= VG_ML_SECTION_ENTROPIES;
	if (used[VG_MLF_ResourcesMeanEntropy] || used[VG_MLF_ResourcesMinEntropy] ||
	    used[VG_MLF_ResourcesMaxEntropy])
		g |= VG_ML_RESOURCE_ENTROPIES;
	return g;
}
