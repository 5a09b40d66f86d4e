/*
 * check_ml.c - unit tests of the ML stage: PE parser and features,
 * model tables against xgboost (exactness), model files, thresholds,
 * and the stage in the pipeline.
 *
 * Environment: top_srcdir (set by make check) locates
 * ml/model_testvectors.csv.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/vg.h"
#include "ml/features.h"
#include "vigil/ml.h"
#include "ml/model.h"
#include "ml/pe.h"

/* ------------------------------------------------------------------ */
/* A small PE32 built in memory                                        */
/* ------------------------------------------------------------------ */

static void put16(uint8_t *b, size_t off, uint16_t v)
{
	b[off] = (uint8_t)v;
	b[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	put16(b, off, (uint16_t)v);
	put16(b, off + 2, (uint16_t)(v >> 16));
}

#define PE_SIZE 0x1000
#define LFANEW 0x80

/* DOS header, PE32 headers, two sections (.text with varied bytes at
 * 0x400, .data zeros at 0x800), an import of one DLL with 2 symbols
 * (one by ordinal). */
static uint8_t *make_pe(size_t *size)
{
	uint8_t *b = calloc(1, PE_SIZE);
	size_t o = LFANEW + 24, s;
	memcpy(b, "MZ", 2);
	put16(b, 2, 0x90);       /* e_cblp */
	put16(b, 4, 3);          /* e_cp */
	put16(b, 8, 4);          /* e_cparhdr */
	put16(b, 12, 0xffff);    /* e_maxalloc */
	put16(b, 16, 0xb8);      /* e_sp */
	put16(b, 24, 0x40);      /* e_lfarlc */
	put32(b, 0x3c, LFANEW);
	memcpy(b + LFANEW, "PE\0\0", 4);
	put16(b, LFANEW + 4, 0x14c);       /* Machine */
	put16(b, LFANEW + 6, 2);           /* NumberOfSections */
	put32(b, LFANEW + 8, 1262304000);  /* TimeDateStamp: 2010 */
	put16(b, LFANEW + 20, 224);        /* SizeOfOptionalHeader */
	put16(b, LFANEW + 22, 0x102);      /* EXECUTABLE | 32BIT */
	put16(b, o, 0x10b);                /* Magic */
	b[o + 2] = 9;                      /* MajorLinkerVersion */
	put32(b, o + 4, 0x400);            /* SizeOfCode */
	put32(b, o + 16, 0x1000);          /* AddressOfEntryPoint */
	put32(b, o + 20, 0x1000);          /* BaseOfCode */
	put32(b, o + 24, 0x2000);          /* BaseOfData */
	put32(b, o + 28, 0x400000);        /* ImageBase */
	put32(b, o + 32, 0x1000);          /* SectionAlignment */
	put32(b, o + 36, 0x200);           /* FileAlignment */
	put16(b, o + 40, 5);               /* MajorOperatingSystemVersion */
	put16(b, o + 48, 5);               /* MajorSubsystemVersion */
	put32(b, o + 56, 0x3000);          /* SizeOfImage */
	put32(b, o + 60, 0x400);           /* SizeOfHeaders */
	put16(b, o + 68, 3);               /* Subsystem: console */
	put16(b, o + 70, 0x8140);          /* DllCharacteristics */
	put32(b, o + 72, 0x100000);        /* SizeOfStackReserve */
	put32(b, o + 76, 0x1000);
	put32(b, o + 80, 0x100000);
	put32(b, o + 84, 0x1000);
	put32(b, o + 92, 16);              /* NumberOfRvaAndSizes */
	put32(b, o + 96 + 8, 0x2100);      /* import directory RVA */
	put32(b, o + 96 + 12, 40);
	s = o + 224;
	memcpy(b + s, ".text", 5);
	put32(b, s + 8, 0x400);
	put32(b, s + 12, 0x1000);
	put32(b, s + 16, 0x400);
	put32(b, s + 20, 0x400);
	put32(b, s + 36, 0x60000020);
	memcpy(b + s + 40, ".data", 5);
	put32(b, s + 48, 0x800);
	put32(b, s + 52, 0x2000);
	put32(b, s + 56, 0x800);
	put32(b, s + 60, 0x800);
	put32(b, s + 76, 0xc0000040);
	for (int i = 0; i < 0x400; i++)
		b[0x400 + i] = (uint8_t)(i * 7);
	/* import descriptor at RVA 0x2100 = offset 0x900 */
	put32(b, 0x900, 0x2200);           /* OriginalFirstThunk */
	put32(b, 0x90c, 0x2300);           /* Name */
	put32(b, 0x910, 0x2200);           /* FirstThunk */
	put32(b, 0xa00, 0x2280);           /* by name */
	put32(b, 0xa04, 0x80000010);       /* by ordinal */
	memcpy(b + 0xb00, "kernel32.dll", 12);
	*size = PE_SIZE;
	return b;
}

static double feat(const double *f, const char *name)
{
	int i = vg_ml_feature_index(name);
	ck_assert_msg(i >= 0, "no feature %s", name);
	return f[i];
}

START_TEST(test_features_of_built_pe)
{
	size_t n;
	uint8_t *b = make_pe(&n);
	double f[VG_ML_NFEATURES];

	ck_assert_int_eq(vigil_ml_features(b, n, f), VIGIL_OK);
	ck_assert_double_eq(feat(f, "e_magic"), 0x5a4d);
	ck_assert_double_eq(feat(f, "e_lfanew"), LFANEW);
	ck_assert_double_eq(feat(f, "Machine"), 0x14c);
	ck_assert_double_eq(feat(f, "CreationYear"), 2010);
	ck_assert_double_eq(feat(f, "CreationYear_ok"), 1);
	ck_assert_double_eq(feat(f, "ImageBase"), 0x400000);
	ck_assert_double_eq(feat(f, "ImageBase_std"), 1);
	ck_assert_double_eq(feat(f, "BaseOfData"), 0x2000);
	ck_assert_double_eq(feat(f, "FH_char1"), 1);   /* executable */
	ck_assert_double_eq(feat(f, "FH_char7"), 1);   /* 32-bit */
	ck_assert_double_eq(feat(f, "FH_char12"), 0);  /* not a DLL */
	ck_assert_double_eq(feat(f, "OH_DLLchar0"), 1); /* dynamic base */
	ck_assert_double_eq(feat(f, "OH_DLLchar2"), 1); /* NX */
	ck_assert_double_eq(feat(f, "OH_DLLchar7"), 1); /* TS aware */
	ck_assert_double_eq(feat(f, "non_sus_sections"), 2);
	ck_assert_double_eq(feat(f, "sus_sections"), 0);
	ck_assert_double_eq(feat(f, "SectionsNb"), 2);
	ck_assert(feat(f, "E_data") > 0 && feat(f, "E_data") < 1); /* imports */
	ck_assert(feat(f, "E_text") > 7.9 && feat(f, "E_text") <= 8.0);
	ck_assert_double_eq(feat(f, "ImportsNbDLL"), 1);
	ck_assert_double_eq(feat(f, "ImportsNb"), 2);
	ck_assert_double_eq(feat(f, "ImportsNbOrdinal"), 1);
	ck_assert_double_eq(feat(f, "SectionsExecutable"), 1);
	ck_assert_double_eq(feat(f, "filesize"), PE_SIZE);
	ck_assert_double_eq(feat(f, "OverlaySize"), PE_SIZE - 0x1000);
	free(b);
}
END_TEST

START_TEST(test_not_pe)
{
	double f[VG_ML_NFEATURES];
	uint8_t zeros[256] = { 0 };
	ck_assert_int_eq(vigil_ml_features(zeros, sizeof zeros, f), VIGIL_EFORMAT);
	ck_assert(isnan(f[0]));
	ck_assert_int_eq(vigil_ml_features("MZ", 2, f), VIGIL_EFORMAT);
	ck_assert_int_eq(vigil_ml_features(NULL, 0, f), VIGIL_EFORMAT);
}
END_TEST

/* Every truncation of a valid PE parses without reading past the end
 * (ASan would catch it) and gives the header fields that fit. */
START_TEST(test_truncated)
{
	size_t n;
	uint8_t *b = make_pe(&n);
	double f[VG_ML_NFEATURES];
	for (size_t len = 0; len <= n; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		int rc;
		memcpy(copy, b, len);
		rc = vg_ml_extract(copy, len, f);
		if (len < LFANEW + 24)
			ck_assert_int_eq(rc, -1);
		else
			ck_assert_int_eq(rc, 0);
		if (rc == 0) {
			ck_assert_double_eq(feat(f, "Machine"), 0x14c);
			ck_assert_double_eq(feat(f, "filesize"), (double)len);
		}
		free(copy);
	}
	free(b);
}
END_TEST

/* Corrupt fields that make naive parsers loop or read far. */
START_TEST(test_malformed)
{
	size_t n;
	uint8_t *b = make_pe(&n);
	double f[VG_ML_NFEATURES];
	size_t o = LFANEW + 24;

	put16(b, LFANEW + 6, 0xffff);           /* NumberOfSections */
	put32(b, o + 92, 0xffffffff);           /* NumberOfRvaAndSizes */
	put32(b, o + 96 + 8, 0xfffffff0);       /* import RVA off the file */
	put32(b, o + 96 + 16, 0x2000);          /* resources: into .data */
	ck_assert_int_eq(vg_ml_extract(b, n, f), 0);
	ck_assert_double_eq(feat(f, "NumberOfSections"), 0xffff);
	ck_assert(feat(f, "SectionsNb") <= VG_PE_MAX_SECTIONS);
	ck_assert_double_eq(feat(f, "ImportsNbDLL"), 0);
	/* a self-referencing resource directory (loops without a cap) */
	put16(b, 0x800 + 14, 1);
	put32(b, 0x800 + 16, 3);
	put32(b, 0x800 + 20, 0x80000000u);
	ck_assert_int_eq(vg_ml_extract(b, n, f), 0);
	ck_assert_double_eq(feat(f, "ResourcesNb"), 0);
	/* e_lfanew past the end */
	put32(b, 0x3c, 0xfffffff0u);
	ck_assert_int_eq(vg_ml_extract(b, n, f), -1);
	free(b);
}
END_TEST

/* Entropies: exact up to VG_ENTROPY_EXACT_MAX, then a bounded sample
 * that still tells packed from plain data. */
START_TEST(test_entropy_sampled)
{
	size_t big = 1u << 20;
	uint8_t *b = malloc(big);
	uint32_t r = 12345;
	double h;

	for (size_t i = 0; i < big; i++) {
		r = r * 1103515245u + 12345u;
		b[i] = (uint8_t)(r >> 24);
	}
	/* small ranges: the exact figure */
	ck_assert_double_eq(vg_entropy_sampled(b, VG_ENTROPY_EXACT_MAX),
	                    vg_entropy(b, VG_ENTROPY_EXACT_MAX));
	ck_assert_double_eq(vg_entropy_sampled(b, 0), 0);
	/* random bytes: close to 8, never above */
	h = vg_entropy_sampled(b, big);
	ck_assert_msg(h > 7.97 && h <= 8.0, "random: %f", h);
	ck_assert_double_eq_tol(h, vg_entropy(b, big), 0.02);
	/* two byte values, evenly: 1 bit, sample and exact agree */
	for (size_t i = 0; i < big; i++)
		b[i] = (uint8_t)(i & 1);
	ck_assert_double_eq_tol(vg_entropy_sampled(b, big), 1.0, 1e-3);
	/* constant: 0 */
	memset(b, 'A', big);
	ck_assert_double_eq(vg_entropy_sampled(b, big), 0);
	free(b);
}
END_TEST

/* Explanations name flag bits and checks readably. */
START_TEST(test_describe)
{
	char buf[96];
	vg_ml_describe(VG_MLF_FH_char12, 0, buf, sizeof buf);
	ck_assert_str_eq(buf, "Characteristics.DLL=0");
	vg_ml_describe(VG_MLF_OH_DLLchar2, 1, buf, sizeof buf);
	ck_assert_str_eq(buf, "DllCharacteristics.NX_COMPAT=1");
	vg_ml_describe(VG_MLF_SizeOfImage_ok, 0, buf, sizeof buf);
	ck_assert_str_eq(buf, "SizeOfImage aligned: no");
	vg_ml_describe(VG_MLF_ImageBase, 0x400000, buf, sizeof buf);
	ck_assert_str_eq(buf, "ImageBase=0x400000");
	vg_ml_describe(VG_MLF_E_file, 7.25, buf, sizeof buf);
	ck_assert_str_eq(buf, "E_file=7.25");
	vg_ml_describe(VG_MLF_BaseOfData, NAN, buf, sizeof buf);
	ck_assert_str_eq(buf, "BaseOfData missing");
}
END_TEST

START_TEST(test_feature_hash_stable)
{
	/* The hash train.py records (mldata.feature_hash) equals C's. */
	ck_assert_uint_eq(vg_ml_builtin_model.feature_hash, vg_ml_feature_hash());
	ck_assert_uint_eq(vg_ml_builtin_model.nfeatures, VG_ML_NFEATURES);
	ck_assert_uint_eq(vigil_ml_feature_count(), VG_ML_NFEATURES);
	ck_assert_str_eq(vigil_ml_feature_name(0), "e_magic");
	ck_assert_ptr_null(vigil_ml_feature_name(VG_ML_NFEATURES));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Exactness: the C score equals xgboost's on every test row           */
/* ------------------------------------------------------------------ */

static char *path_in_srcdir(const char *rel)
{
	const char *top = getenv("top_srcdir");
	static char buf[4096];
	snprintf(buf, sizeof buf, "%s/%s", top ? top : ".", rel);
	return buf;
}

/* Splits a CSV line (no quoting in these files) in place. */
static size_t split_csv(char *line, char **cols, size_t max)
{
	size_t n = 0;
	char *p = line;
	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		cols[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

/* The batch walk (AVX-512 where the CPU has it, else the scalar one)
 * gives the one-row scores bit for bit, for every count of rows: a
 * whole group of sixteen, a partial one, both, and one row. */
static void check_batch(const double *x, const double *single, size_t rows)
{
	size_t counts[] = { rows, 1, 15, 16, 17, 33 };
	double *out = malloc(rows * sizeof *out);

	ck_assert_ptr_nonnull(out);
	for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
		size_t n = counts[c] < rows ? counts[c] : rows;
		size_t first = rows - n; /* the last n rows */
		vg_ml_score_batch(&vg_ml_builtin_model, x + first * VG_ML_NFEATURES,
		                  n, out);
		for (size_t r = 0; r < n; r++)
			ck_assert_msg(out[r] == single[first + r],
			              "batch of %zu, row %zu: %.17g, one row %.17g",
			              n, first + r, out[r], single[first + r]);
	}
	free(out);
}

START_TEST(test_exact_vs_xgboost)
{
	FILE *fp = fopen(path_in_srcdir("ml/model_testvectors.csv"), "r");
	static char line[1 << 16];
	char *cols[512];
	int map[512];
	size_t ncols, rows = 0, cap = 0;
	double worst = 0, *all = NULL, *single = NULL;

	ck_assert_msg(fp != NULL, "cannot open ml/model_testvectors.csv");
	ck_assert(fgets(line, sizeof line, fp));
	ncols = split_csv(line, cols, 512);
	ck_assert_str_eq(cols[0], "xgboost_score");
	ck_assert_uint_eq(vigil_ml_map_columns((const char *const *)cols + 1,
	                                       ncols - 1, map + 1), ncols - 1);
	while (fgets(line, sizeof line, fp)) {
		double *x, want, got;
		size_t n = split_csv(line, cols, 512);
		ck_assert_uint_eq(n, ncols);
		if (rows == cap) {
			cap = cap ? 2 * cap : 1024;
			all = realloc(all, cap * VG_ML_NFEATURES * sizeof *all);
			single = realloc(single, cap * sizeof *single);
			ck_assert(all && single);
		}
		x = all + rows * VG_ML_NFEATURES;
		for (int i = 0; i < VG_ML_NFEATURES; i++)
			x[i] = NAN;
		want = strtod(cols[0], NULL);
		for (size_t i = 1; i < n; i++)
			if (cols[i][0])
				x[map[i]] = strtod(cols[i], NULL);
		ck_assert_int_eq(vigil_ml_score_row(NULL, x, &got, NULL, 0), VIGIL_OK);
		if (fabs(got - want) > worst)
			worst = fabs(got - want);
		ck_assert_msg(fabs(got - want) <= 1e-5,
		              "row %zu: C %.9f, xgboost %.9f", rows + 1, got, want);
		/* the row as the stage completes it (flags derived) */
		vg_ml_derive(x);
		single[rows] = vg_ml_score(&vg_ml_builtin_model, x);
		ck_assert_double_eq(single[rows], got);
		rows++;
	}
	fclose(fp);
	ck_assert_msg(rows >= 1000, "only %zu test rows", rows);
	check_batch(all, single, rows);
	fprintf(stderr, "check_ml: %zu rows, largest difference %.3g%s\n", rows,
	        worst, vg_ml_avx512_usable(&vg_ml_builtin_model) ?
	                ", batch walk AVX-512" : ", batch walk scalar");
	free(all);
	free(single);
}
END_TEST

/* Contributions plus bias add up to the margin (the explanation is
 * faithful to the score). */
START_TEST(test_contributions_sum)
{
	size_t n;
	uint8_t *b = make_pe(&n);
	double x[VG_ML_NFEATURES], c[VG_ML_NFEATURES] = { 0 }, bias, sum;
	ck_assert_int_eq(vg_ml_extract(b, n, x), 0);
	bias = vg_ml_contributions(&vg_ml_builtin_model, x, c);
	sum = bias;
	for (int i = 0; i < VG_ML_NFEATURES; i++)
		sum += c[i];
	ck_assert_double_eq_tol(sum, vg_ml_margin(&vg_ml_builtin_model, x), 1e-3);
	free(b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Model files                                                         */
/* ------------------------------------------------------------------ */

static void app(uint8_t **p, const void *src, size_t len)
{
	memcpy(*p, src, len);
	*p += len;
}

/* Bytes of a model's tables in a .vgm file. */
static size_t vgm_body(const vg_ml_model *m)
{
	size_t inner = (size_t)m->ntrees * ((1u << m->depth) - 1);
	return 10 * inner + 4 * ((size_t)m->ntrees << m->depth);
}

/* The built-in model as a .vgm image (the layout codegen.py writes;
 * this test runs on little-endian hosts). */
static uint8_t *builtin_vgm(size_t *size, uint64_t hash)
{
	const vg_ml_model *m = &vg_ml_builtin_model;
	size_t inner = (size_t)m->ntrees * ((1u << m->depth) - 1);
	size_t leaves = (size_t)m->ntrees << m->depth;
	size_t n = 88 + vgm_body(m);
	uint8_t *b = calloc(1, n), *p = b;
	uint32_t u32;
	app(&p, "VGMLPE1", 8);
	u32 = 2;
	app(&p, &u32, 4);
	u32 = m->nfeatures;
	app(&p, &u32, 4);
	app(&p, &hash, 8);
	strcpy((char *)p, "test-model");
	p += 32;
	app(&p, &m->ntrees, 4);
	app(&p, &m->depth, 4);
	app(&p, &m->base_margin, 8);
	app(&p, &m->threshold_malicious, 8);
	app(&p, &m->threshold_suspicious, 8);
	app(&p, m->feat, 2 * inner);
	app(&p, m->split, 4 * inner);
	app(&p, m->mean, 4 * inner);
	app(&p, m->leaf, 4 * leaves);
	ck_assert_uint_eq((size_t)(p - b), n);
	*size = n;
	return b;
}

/* parse of b with the 2 bytes at off replaced by v: -1 expected */
static int parse_patched(uint8_t *b, size_t n, size_t off, uint16_t v)
{
	vg_ml_model *m = NULL;
	char err[128];
	uint8_t save[2] = { b[off], b[off + 1] };
	int rc;
	put16(b, off, v);
	rc = vg_ml_model_parse(b, n, &m, err, sizeof err);
	vg_ml_model_free(m);
	b[off] = save[0];
	b[off + 1] = save[1];
	return rc;
}

START_TEST(test_model_file_roundtrip)
{
	const vg_ml_model *bm = &vg_ml_builtin_model;
	size_t n, pn, inner = (size_t)bm->ntrees * ((1u << bm->depth) - 1);
	uint8_t *b = builtin_vgm(&n, vg_ml_feature_hash()), *pe = make_pe(&pn);
	vg_ml_model *m;
	char err[128];
	double x[VG_ML_NFEATURES];

	ck_assert_int_eq(vg_ml_model_parse(b, n, &m, err, sizeof err), 0);
	ck_assert_str_eq(m->version, "test-model");
	ck_assert_int_eq(vg_ml_extract(pe, pn, x), 0);
	ck_assert_double_eq(vg_ml_score(m, x), vg_ml_score(bm, x));
	vg_ml_model_free(m);
	/* every truncation is refused, and so is one byte more */
	for (size_t len = 0; len < n; len += 1 + len / 7)
		ck_assert_int_eq(vg_ml_model_parse(b, len, &m, err, sizeof err), -1);
	{
		uint8_t *big = calloc(1, n + 1);
		memcpy(big, b, n);
		ck_assert_int_eq(vg_ml_model_parse(big, n + 1, &m, err, sizeof err), -1);
		free(big);
	}
	/* a feature index past the feature list: refused */
	ck_assert_int_eq(parse_patched(b, n, 88 + 2 * (inner - 1),
	                               (uint16_t)bm->nfeatures), -1);
	/* an infinite split: refused (a missing value is walked as -inf
	 * or +inf, which must fall on the node's default side) */
	{
		size_t off = 88 + 2 * inner;
		float inf = -INFINITY;
		uint8_t save[4];
		memcpy(save, b + off, 4);
		memcpy(b + off, &inf, 4);
		ck_assert_int_eq(vg_ml_model_parse(b, n, &m, err, sizeof err), -1);
		ck_assert_str_eq(err, "split or mean not finite");
		memcpy(b + off, save, 4);
	}
	/* a NaN leaf (high half of the last float): refused */
	ck_assert_int_eq(parse_patched(b, n, n - 2, 0x7fc0), -1);
	/* depth 0 and past the maximum: refused */
	ck_assert_int_eq(parse_patched(b, n, 60, 0), -1);
	ck_assert_int_eq(parse_patched(b, n, 60, VG_ML_MAX_DEPTH + 1), -1);
	/* format 1 (the sparse layout of earlier versions): refused */
	ck_assert_int_eq(parse_patched(b, n, 8, 1), -1);
	free(b);
	free(pe);
}
END_TEST

static char *write_temp(const uint8_t *b, size_t n)
{
	static char path[] = "/tmp/check_ml_XXXXXX.vgm";
	int fd;
	strcpy(path, "/tmp/check_ml_XXXXXX.vgm");
	fd = mkstemps(path, 4);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
	close(fd);
	return path;
}

START_TEST(test_engine_load_model)
{
	size_t n;
	uint8_t *good = builtin_vgm(&n, vg_ml_feature_hash());
	uint8_t *bad = builtin_vgm(&n, vg_ml_feature_hash() ^ 1);
	vigil_engine *e;
	char *path;

	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_str_eq(vigil_ml_model_version(e), vg_ml_builtin_model.version);
	path = write_temp(bad, n);
	ck_assert_int_eq(vigil_engine_load(e, path), VIGIL_EMODEL);
	ck_assert_ptr_nonnull(strstr(vigil_engine_last_error(e), "feature list"));
	unlink(path);
	path = write_temp(good, n);
	ck_assert_int_eq(vigil_engine_load(e, path), VIGIL_OK);
	unlink(path);
	ck_assert_str_eq(vigil_ml_model_version(e), "test-model");
	vigil_engine_free(e);
	free(good);
	free(bad);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Thresholds and the stage                                            */
/* ------------------------------------------------------------------ */

START_TEST(test_thresholds)
{
	vigil_engine *e;
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_double_eq(vigil_engine_get_threshold(e, VIGIL_THRESHOLD_ML_MALICIOUS),
	                    vg_ml_builtin_model.threshold_malicious);
	ck_assert(vg_ml_builtin_model.threshold_malicious >=
	          vg_ml_builtin_model.threshold_suspicious);
	ck_assert_int_eq(vigil_engine_set_threshold(e, VIGIL_THRESHOLD_ML_SUSPICIOUS, 0.5), VIGIL_OK);
	ck_assert_double_eq(vigil_engine_get_threshold(e, VIGIL_THRESHOLD_ML_SUSPICIOUS), 0.5);
	ck_assert_int_eq(vigil_engine_set_threshold(e, VIGIL_THRESHOLD_ML_SUSPICIOUS, 1.5), VIGIL_EINVAL);
	ck_assert_int_eq(vigil_engine_set_threshold(e, VIGIL_THRESHOLD_ML_SUSPICIOUS, NAN), VIGIL_EINVAL);
	ck_assert_int_eq(vigil_engine_set_threshold(e, (vigil_threshold)7, 0.5), VIGIL_EINVAL);
	ck_assert_double_eq(vigil_engine_get_threshold(e, (vigil_threshold)7), -1);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_threshold(e, VIGIL_THRESHOLD_ML_MALICIOUS, 0.5), VIGIL_EFROZEN);
	vigil_engine_free(e);
}
END_TEST

/* Scans the built PE with thresholds around its own score and returns
 * the ML finding's name ("" if none); detail copied out. */
static const char *scan_with(double tmal, double tsus, int no_ml,
                             char *detail, size_t dlen, double *score)
{
	static char name[64];
	vigil_engine *e;
	vigil_scanner *s;
	vigil_result *r;
	size_t n;
	uint8_t *b = make_pe(&n);

	name[0] = '\0';
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_option(e, VIGIL_OPT_NO_ML, no_ml), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_threshold(e, VIGIL_THRESHOLD_ML_MALICIOUS, tmal), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_threshold(e, VIGIL_THRESHOLD_ML_SUSPICIOUS, tsus), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	ck_assert_int_eq(vigil_scan_mem(s, b, n, "built.exe", &r), VIGIL_OK);
	for (size_t i = 0; i < vigil_result_finding_count(r); i++) {
		const vigil_finding *f = vigil_result_finding(r, i);
		if (strcmp(vigil_finding_stage(f), "ml") != 0)
			continue;
		snprintf(name, sizeof name, "%s", vigil_finding_name(f));
		snprintf(detail, dlen, "%s", vigil_finding_detail(f));
		*score = vigil_finding_score(f);
	}
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);
	free(b);
	return name;
}

START_TEST(test_stage_findings)
{
	size_t n;
	uint8_t *b = make_pe(&n);
	double x[VG_ML_NFEATURES], want, got = -1;
	char detail[512] = "";

	ck_assert_int_eq(vigil_ml_features(b, n, x), VIGIL_OK);
	ck_assert_int_eq(vigil_ml_score_row(NULL, x, &want, NULL, 0), VIGIL_OK);
	free(b);
	/* at or above MALICIOUS */
	ck_assert_str_eq(scan_with(want, want, 0, detail, sizeof detail, &got),
	                 "ML.PE.Malicious");
	ck_assert_double_eq_tol(got, want, 1e-12);
	ck_assert_ptr_nonnull(strstr(detail, "score "));
	ck_assert_ptr_nonnull(strstr(detail, "up:"));
	/* flag features read as names, not as FH_char12 */
	ck_assert_ptr_null(strstr(detail, "FH_char"));
	ck_assert_ptr_null(strstr(detail, "OH_DLLchar"));
	/* between the two */
	ck_assert_str_eq(scan_with(1.0, want > 0 ? want / 2 : 0, 0, detail,
	                           sizeof detail, &got), "ML.PE.Suspicious");
	/* below both, when the score is below 1 */
	if (want < 1.0)
		ck_assert_str_eq(scan_with(1.0, 1.0, 0, detail, sizeof detail, &got), "");
	/* VIGIL_OPT_NO_ML */
	ck_assert_str_eq(scan_with(0, 0, 1, detail, sizeof detail, &got), "");
}
END_TEST

static Suite *ml_suite(void)
{
	Suite *s = suite_create("ml");
	TCase *pe = tcase_create("pe");
	TCase *model = tcase_create("model");
	TCase *stage = tcase_create("stage");

	tcase_add_test(pe, test_features_of_built_pe);
	tcase_add_test(pe, test_not_pe);
	tcase_add_test(pe, test_truncated);
	tcase_add_test(pe, test_malformed);
	tcase_add_test(pe, test_entropy_sampled);
	tcase_add_test(model, test_describe);
	tcase_add_test(model, test_feature_hash_stable);
	tcase_add_test(model, test_exact_vs_xgboost);
	tcase_add_test(model, test_contributions_sum);
	tcase_add_test(model, test_model_file_roundtrip);
	tcase_set_timeout(model, 60);
	tcase_add_test(stage, test_engine_load_model);
	tcase_add_test(stage, test_thresholds);
	tcase_add_test(stage, test_stage_findings);
	/* each case freezes engines: seconds under ASan on a loaded machine */
	tcase_set_timeout(stage, 60);
	suite_add_tcase(s, pe);
	suite_add_tcase(s, model);
	suite_add_tcase(s, stage);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ml_suite());
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
