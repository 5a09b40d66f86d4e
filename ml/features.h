/*
 * features.h - the ML feature vector of a PE file.
 *
 * VG_ML_FEATURES is the one list of features, in model order. Header
 * fields carry pefile's names, as the columns of the training datasets
 * (ClaMP, the Kaggle PE header set); flags and statistics carry the
 * names ClaMP_Integrated and the Kaggle "MalwareData" set use where one
 * exists. ml/train.py reads this list from the extractor's CSV header,
 * and the model records an FNV-1a hash of it (vg_ml_feature_hash) so a
 * model built for another list is refused.
 *
 * A feature may be missing (NaN): a field the file does not have, such
 * as BaseOfData in PE32+. The trees send missing values down a learned
 * default branch, as xgboost does.
 */
#ifndef VIGIL_ML_FEATURES_H
#define VIGIL_ML_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#define VG_ML_FEATURES(X) \
	/* DOS header */ \
	X(e_magic) X(e_cblp) X(e_cp) X(e_crlc) X(e_cparhdr) X(e_minalloc) \
	X(e_maxalloc) X(e_ss) X(e_sp) X(e_csum) X(e_ip) X(e_cs) X(e_lfarlc) \
	X(e_ovno) X(e_oemid) X(e_oeminfo) X(e_lfanew) \
	/* COFF file header; CreationYear as ClaMP_Raw computes it */ \
	X(Machine) X(NumberOfSections) X(TimeDateStamp) X(CreationYear) \
	X(PointerToSymbolTable) X(NumberOfSymbols) X(SizeOfOptionalHeader) \
	X(Characteristics) \
	/* Optional header */ \
	X(Magic) X(MajorLinkerVersion) X(MinorLinkerVersion) X(SizeOfCode) \
	X(SizeOfInitializedData) X(SizeOfUninitializedData) \
	X(AddressOfEntryPoint) X(BaseOfCode) X(BaseOfData) X(ImageBase) \
	X(SectionAlignment) X(FileAlignment) X(MajorOperatingSystemVersion) \
	X(MinorOperatingSystemVersion) X(MajorImageVersion) \
	X(MinorImageVersion) X(MajorSubsystemVersion) \
	X(MinorSubsystemVersion) X(SizeOfImage) X(SizeOfHeaders) X(CheckSum) \
	X(Subsystem) X(DllCharacteristics) X(SizeOfStackReserve) \
	X(SizeOfStackCommit) X(SizeOfHeapReserve) X(SizeOfHeapCommit) \
	X(LoaderFlags) X(NumberOfRvaAndSizes) \
	/* Flags as ClaMP_Integrated defines them (its columns FH_char*, \
	 * OH_DLLchar*; the renamed ones stand for its flag columns that \
	 * reuse a raw field's name, e.g. its "ImageBase") */ \
	X(FH_char0) X(FH_char1) X(FH_char2) X(FH_char3) X(FH_char4) \
	X(FH_char5) X(FH_char6) X(FH_char7) X(FH_char8) X(FH_char9) \
	X(FH_char10) X(FH_char11) X(FH_char12) X(FH_char13) X(FH_char14) \
	X(OH_DLLchar0) X(OH_DLLchar1) X(OH_DLLchar2) X(OH_DLLchar3) \
	X(OH_DLLchar4) X(OH_DLLchar5) X(OH_DLLchar6) X(OH_DLLchar7) \
	X(OH_DLLchar8) X(OH_DLLchar9) X(OH_DLLchar10) \
	X(CreationYear_ok) X(ImageBase_std) X(SectionAlignment_ok) \
	X(FileAlignment_ok) X(SizeOfImage_ok) X(SizeOfHeaders_ok) \
	X(LoaderFlags_zero) \
	/* Ratios of raw header fields (vigil's own; every dataset has their \
	 * inputs): entry point inside the code, and how the image's size \
	 * splits between code and data; packers leave tell-tale values */ \
	X(EntryInCode) X(EntryRatio) X(CodeRatio) X(InitDataRatio) \
	X(UninitDataRatio) X(DeclaredRatio) \
	/* Sections */ \
	X(sus_sections) X(non_sus_sections) X(E_text) X(E_data) \
	X(SectionsNb) X(SectionsMeanEntropy) X(SectionsMinEntropy) \
	X(SectionsMaxEntropy) X(SectionsMeanRawsize) X(SectionsMinRawsize) \
	X(SectionMaxRawsize) X(SectionsMeanVirtualsize) \
	X(SectionsMinVirtualsize) X(SectionMaxVirtualsize) \
	X(SectionsExecutable) X(SectionsWritableExecutable) \
	X(EntryPointSectionEntropy) \
	/* Imports, exports, resources */ \
	X(ImportsNbDLL) X(ImportsNb) X(ImportsNbOrdinal) X(ExportNb) \
	X(ResourcesNb) X(ResourcesMeanEntropy) X(ResourcesMinEntropy) \
	X(ResourcesMaxEntropy) X(ResourcesMeanSize) X(fileinfo) \
	/* Data directories present */ \
	X(HasDebug) X(HasTLS) X(HasRelocations) X(HasSecurity) X(HasCLR) \
	/* The whole file */ \
	X(filesize) X(E_file) X(OverlaySize)

#define VG_ML_FEAT_ENUM(name) VG_MLF_##name,
enum vg_ml_feature { VG_ML_FEATURES(VG_ML_FEAT_ENUM) VG_ML_NFEATURES };
#undef VG_ML_FEAT_ENUM

/* Feature names in order; static storage. */
extern const char *const vg_ml_feature_names[VG_ML_NFEATURES];

/* Index of a feature name, or -1. */
int vg_ml_feature_index(const char *name);

/*
 * Feature i with value v as an explanation names it: flag bits by their
 * documented names ("Characteristics.DLL=0"), the yes/no checks in
 * words ("SizeOfImage aligned: no"), fields like ImageBase in hex.
 */
void vg_ml_describe(int i, double v, char *out, size_t size);

/* FNV-1a 64 of the names, each followed by '\n'. */
uint64_t vg_ml_feature_hash(void);

/*
 * Fills f[VG_ML_NFEATURES] from a file's bytes. Returns 0, or -1 when
 * data is not a PE (f then holds NaN everywhere).
 */
int vg_ml_extract(const uint8_t *data, size_t size, double *f);

/*
 * The features that cost a pass over many ranges of the file: the
 * entropies of every section (SectionsMean/Min/MaxEntropy,
 * EntryPointSectionEntropy) and of the resources (Resources*Entropy).
 * E_text, E_data and E_file are always computed.
 */
#define VG_ML_SECTION_ENTROPIES 1u
#define VG_ML_RESOURCE_ENTROPIES 2u
#define VG_ML_ALL_FEATURES 3u

/* vg_ml_extract computing only the costly groups in want; the features
 * of the other groups are NaN. The stage asks for the groups its model
 * reads (vg_ml_groups_of), so a scan pays only for what scores. */
int vg_ml_extract_some(const uint8_t *data, size_t size, double *f,
                       unsigned want);

/* The costly groups holding any feature i with used[i] != 0. */
unsigned vg_ml_groups_of(const unsigned char used[VG_ML_NFEATURES]);

/*
 * Fills the flag features (FH_char*, OH_DLLchar*, *_ok, ...) that are
 * missing (NaN) from the raw header features they derive from, when
 * those are present. For rows of a feature CSV that hold only raw
 * header columns (ClaMP_Raw, the Kaggle set). Present values are kept.
 */
void vg_ml_derive(double *f);

#endif
