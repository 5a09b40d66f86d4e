/*
 * model.c - scoring with complete-tree tables (layout in model.h), and
 * the .vgm model file reader.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bytes.h"
#include "ml/model.h"

/* Largest feature vector a model may read (the stage also checks that
 * a loaded model reads exactly vigil's features). */
#define VG_ML_MAX_FEATURES 1024

/* Trees walked side by side: eight independent walks keep the CPU's
 * load and compare units busy while each walk waits for its loads. */
#define LANES 8

/* Rows prepared at once by margin_batch (vg_ml_batch16_avx512
 * takes sixteen): their slots stay in L1 while the trees pass. */
#define BATCH_ROWS 16

/*
 * The row twice, in float as xgboost compares: slot f holds x[f] with a
 * missing value as +inf (x < split is false: the walk goes right), slot
 * nfeatures + f with a missing value as -inf (goes left, as splits are
 * finite). A node reads the copy its default direction picks (m->slot),
 * so a step needs no test for "missing".
 */
static void to_slots(const vg_ml_model *m, const double *x, float *xs)
{
	const uint32_t nf = m->nfeatures;
	for (uint32_t i = 0; i < nf; i++) {
		float v = (float)x[i];
		int missing = isnan(v);
		xs[i] = missing ? INFINITY : v;
		xs[nf + i] = missing ? -INFINITY : v;
	}
}

/* One level down from split node n: to 2n + 1 (left, x < split) or
 * 2n + 2. No branch on the data. */
static inline size_t step(const uint16_t *slot, const float *split,
                          const float *xs, size_t n)
{
	return 2 * n + 1 + !(xs[slot[n]] < split[n]);
}

/* The leaf tree (slot, split) reaches: depth steps. */
static inline size_t walk(const uint16_t *slot, const float *split,
                          const float *xs, uint32_t depth)
{
	size_t n = 0;
	for (uint32_t d = 0; d < depth; d++)
		n = step(slot, split, xs, n);
	return n;
}

#if defined(__GNUC__)
#define VG_ML_INLINE inline __attribute__((always_inline))
#else
#define VG_ML_INLINE inline
#endif

/* The sum of the leaves trees t .. t + LANES - 1 give the row xs. Each
 * walk has a variable of its own (an array would live in memory and add
 * a store and a load per step). Inlined with a constant depth, every
 * lane's tables sit at a constant offset from one base: a step is a
 * load of the slot, a compare of the row's value with the split in
 * memory, and setting n = 2n + 1 + (x >= split). */
static VG_ML_INLINE double block_at(const vg_ml_model *m, uint32_t t,
                                    const float *xs, const uint32_t depth)
{
	const uint32_t inner = (1u << depth) - 1;
	const uint16_t *f = m->slot + (size_t)t * inner;
	const float *s = m->split + (size_t)t * inner;
	const float *leaf = m->leaf + ((size_t)t << depth) - inner;
	size_t n0 = 0, n1 = 0, n2 = 0, n3 = 0, n4 = 0, n5 = 0, n6 = 0, n7 = 0;

	for (uint32_t d = 0; d < depth; d++) {
		n0 = step(f, s, xs, n0);
		n1 = step(f + inner, s + inner, xs, n1);
		n2 = step(f + 2 * inner, s + 2 * inner, xs, n2);
		n3 = step(f + 3 * inner, s + 3 * inner, xs, n3);
		n4 = step(f + 4 * inner, s + 4 * inner, xs, n4);
		n5 = step(f + 5 * inner, s + 5 * inner, xs, n5);
		n6 = step(f + 6 * inner, s + 6 * inner, xs, n6);
		n7 = step(f + 7 * inner, s + 7 * inner, xs, n7);
	}
	/* leaf k of the block's tree j is at (j << depth) + n - inner */
	return (double)leaf[n0] + leaf[(1u << depth) + n1] +
	       leaf[(2u << depth) + n2] + leaf[(3u << depth) + n3] +
	       leaf[(4u << depth) + n4] + leaf[(5u << depth) + n5] +
	       leaf[(6u << depth) + n6] + leaf[(7u << depth) + n7];
}

/* block_at for the model's depth, compiled for each likely one. */
static double block(const vg_ml_model *m, uint32_t t, const float *xs)
{
	switch (m->depth) {
	case 3:
		return block_at(m, t, xs, 3);
	case 4:
		return block_at(m, t, xs, 4);
	case 5:
		return block_at(m, t, xs, 5);
	case 6:
		return block_at(m, t, xs, 6);
	default:
		return block_at(m, t, xs, m->depth);
	}
}

/* The leaf tree t gives the row xs. */
static inline double one_tree(const vg_ml_model *m, uint32_t t,
                              const float *xs)
{
	const uint32_t depth = m->depth, inner = (1u << depth) - 1;
	size_t n = walk(m->slot + (size_t)t * inner,
	                  m->split + (size_t)t * inner, xs, depth);
	return m->leaf[((size_t)t << depth) + n - inner];
}

double vg_ml_margin(const vg_ml_model *m, const double *x)
{
	float xs[2 * VG_ML_MAX_FEATURES];
	double sum = m->base_margin;
	uint32_t t = 0;

	to_slots(m, x, xs);
	for (; t + LANES <= m->ntrees; t += LANES)
		sum += block(m, t, xs);
	for (; t < m->ntrees; t++)
		sum += one_tree(m, t, xs);
	return sum;
}

static void margin_batch(const vg_ml_model *m, const double *x, size_t nrows,
                         double *out)
{
	const size_t width = 2 * (size_t)m->nfeatures;
	const int simd = vg_ml_avx512_usable(m);
	float *xs = nrows > 1 ? malloc(BATCH_ROWS * width * sizeof *xs) : NULL;

	if (!xs) { /* one row, or no memory: the one-row walk */
		for (size_t r = 0; r < nrows; r++)
			out[r] = vg_ml_margin(m, x + r * m->nfeatures);
		return;
	}
	for (size_t r0 = 0; r0 < nrows; r0 += BATCH_ROWS) {
		size_t rows = nrows - r0 < BATCH_ROWS ? nrows - r0 : BATCH_ROWS;
		uint32_t t = 0;
		for (size_t r = 0; r < rows; r++) {
			to_slots(m, x + (r0 + r) * m->nfeatures, xs + r * width);
			out[r0 + r] = m->base_margin;
		}
		if (simd && rows == 16) {
			vg_ml_batch16_avx512(m, xs, width, out + r0);
			continue;
		}
		/* trees outside, rows inside: a block's nodes stay in L1; the
		 * sums are added in the order vg_ml_margin adds them */
		for (; t + LANES <= m->ntrees; t += LANES)
			for (size_t r = 0; r < rows; r++)
				out[r0 + r] += block(m, t, xs + r * width);
		for (; t < m->ntrees; t++)
			for (size_t r = 0; r < rows; r++)
				out[r0 + r] += one_tree(m, t, xs + r * width);
	}
	free(xs);
}

double vg_ml_score(const vg_ml_model *m, const double *x)
{
	return 1.0 / (1.0 + exp(-vg_ml_margin(m, x)));
}

void vg_ml_score_batch(const vg_ml_model *m, const double *x, size_t nrows,
                       double *out)
{
	margin_batch(m, x, nrows, out);
	for (size_t r = 0; r < nrows; r++)
		out[r] = 1.0 / (1.0 + exp(-out[r]));
}

double vg_ml_contributions(const vg_ml_model *m, const double *x,
                           double *contrib)
{
	float xs[2 * VG_ML_MAX_FEATURES];
	const uint32_t depth = m->depth, inner = (1u << depth) - 1;
	double bias = m->base_margin;

	to_slots(m, x, xs);
	for (uint32_t t = 0; t < m->ntrees; t++) {
		const uint16_t *feat = m->feat + (size_t)t * inner;
		const uint16_t *slot = m->slot + (size_t)t * inner;
		const float *split = m->split + (size_t)t * inner;
		const float *mean = m->mean + (size_t)t * inner;
		const float *leaf = m->leaf + (size_t)t * (inner + 1);
		size_t n = 0;
		bias += mean[0];
		for (uint32_t d = 0; d < depth; d++) {
			size_t c = step(slot, split, xs, n);
			double below = c < inner ? mean[c] : leaf[c - inner];
			/* padding splits add exactly 0 */
			contrib[feat[n] & VG_ML_FEATURE_MASK] +=
				below - (double)mean[n];
			n = c;
		}
	}
	return bias;
}

void vg_ml_used_features(const vg_ml_model *m, unsigned char *used)
{
	size_t inner = (size_t)m->ntrees * ((1u << m->depth) - 1);
	for (size_t i = 0; i < inner; i++)
		used[m->feat[i] & VG_ML_FEATURE_MASK] = 1;
}

/* ------------------------------------------------------------------ */
/* .vgm files                                                          */
/* ------------------------------------------------------------------ */

#define VGM_MAGIC "VGMLPE1"
#define VGM_FORMAT 2
#define VGM_HEADER 88
#define VGM_MAX_TREES (1u << 16)

static int fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

/* Feature indices in range, numbers where numbers are needed; splits
 * finite (a missing value read as -inf must go left, see to_slots). */
static int check_tables(const vg_ml_model *m, char *err, size_t errlen)
{
	size_t inner = (size_t)m->ntrees * ((1u << m->depth) - 1);
	size_t leaves = (size_t)m->ntrees << m->depth;

	for (size_t i = 0; i < inner; i++) {
		if ((m->feat[i] & VG_ML_FEATURE_MASK) >= m->nfeatures)
			return fail(err, errlen, "feature index out of range");
		if (!isfinite(m->split[i]) || !isfinite(m->mean[i]))
			return fail(err, errlen, "split or mean not finite");
	}
	for (size_t i = 0; i < leaves; i++)
		if (!isfinite(m->leaf[i]))
			return fail(err, errlen, "leaf value not finite");
	return 0;
}

/* Which copy of the row each node reads (to_slots): its feature index,
 * plus nfeatures when missing values go left. */
static void set_slots(vg_ml_model *m, uint16_t *slot)
{
	size_t inner = (size_t)m->ntrees * ((1u << m->depth) - 1);
	for (size_t i = 0; i < inner; i++)
		slot[i] = (uint16_t)((m->feat[i] & VG_ML_FEATURE_MASK) +
		                     (m->feat[i] & VG_ML_DEFAULT_LEFT ? m->nfeatures : 0));
}

static int in_unit(double v)
{
	return v >= 0 && v <= 1;
}

/* Copies the little-endian arrays feat, split, mean, leaf (sizes
 * already checked) into buf, aligned, in host order. */
static void decode_arrays(vg_ml_model *m, uint8_t *buf, const uint8_t *src,
                          size_t len)
{
	size_t inner = (size_t)m->ntrees * ((1u << m->depth) - 1);
	size_t leaves = (size_t)m->ntrees << m->depth, off = 0;
	float *split = (float *)buf;
	float *mean = split + inner;
	float *leaf = mean + inner;
	uint16_t *feat = (uint16_t *)(leaf + leaves);

	for (size_t i = 0; i < inner; i++, off += 2)
		(void)vg_u16le(src, len, off, &feat[i]);
	/* split, mean and leaf are contiguous in the file and in buf */
	for (size_t i = 0; i < 2 * inner + leaves; i++, off += 4) {
		uint32_t u = 0;
		(void)vg_u32le(src, len, off, &u);
		memcpy(&split[i], &u, 4);
	}
	m->feat = feat;
	m->split = split;
	m->mean = mean;
	m->leaf = leaf;
}

int vg_ml_model_parse(const uint8_t *b, size_t n, vg_ml_model **out,
                      char *err, size_t errlen)
{
	uint32_t format, nfeat, ntrees, depth;
	uint64_t hash, bits[3];
	size_t inner, leaves, body;
	vg_ml_model *m;
	uint8_t *buf;
	uint16_t *slot;

	*out = NULL;
	if (!vg_match(b, n, 0, VGM_MAGIC, 8))
		return fail(err, errlen, "not a vigil model file (bad magic)");
	if (!vg_u32le(b, n, 8, &format) || format != VGM_FORMAT)
		return fail(err, errlen, "unsupported model file format");
	if (!vg_u32le(b, n, 12, &nfeat) || !vg_u64le(b, n, 16, &hash) ||
	    !vg_u32le(b, n, 56, &ntrees) || !vg_u32le(b, n, 60, &depth) ||
	    !vg_u64le(b, n, 64, &bits[0]) || !vg_u64le(b, n, 72, &bits[1]) ||
	    !vg_u64le(b, n, 80, &bits[2]))
		return fail(err, errlen, "model file truncated");
	if (ntrees == 0 || ntrees > VGM_MAX_TREES || depth == 0 ||
	    depth > VG_ML_MAX_DEPTH || nfeat == 0 || nfeat > VG_ML_MAX_FEATURES)
		return fail(err, errlen, "model sizes out of range");
	inner = (size_t)ntrees * ((1u << depth) - 1);
	leaves = (size_t)ntrees << depth;
	body = 10 * inner + 4 * leaves;
	if (n != VGM_HEADER + body)
		return fail(err, errlen, "model file size does not match");

	m = calloc(1, sizeof *m);
	/* the tables in host order, then the nodes' slots */
	buf = malloc(body + 2 * inner);
	if (!m || !buf) {
		free(m);
		free(buf);
		return fail(err, errlen, "out of memory");
	}
	memcpy(m->version, b + 24, VG_ML_VERSION_MAX - 1);
	m->version[VG_ML_VERSION_MAX - 1] = '\0';
	m->feature_hash = hash;
	m->nfeatures = nfeat;
	m->ntrees = ntrees;
	m->depth = depth;
	memcpy(&m->base_margin, &bits[0], 8);
	memcpy(&m->threshold_malicious, &bits[1], 8);
	memcpy(&m->threshold_suspicious, &bits[2], 8);
	m->owned = buf;
	decode_arrays(m, buf, b + VGM_HEADER, body);
	if (!isfinite(m->base_margin) || !in_unit(m->threshold_malicious) ||
	    !in_unit(m->threshold_suspicious)) {
		vg_ml_model_free(m);
		return fail(err, errlen, "model parameters out of range");
	}
	if (check_tables(m, err, errlen) != 0) {
		vg_ml_model_free(m);
		return -1;
	}
	slot = (uint16_t *)(buf + body); /* body is even */
	set_slots(m, slot);
	m->slot = slot;
	*out = m;
	return 0;
}

void vg_ml_model_free(vg_ml_model *m)
{
	if (!m || m == &vg_ml_builtin_model)
		return;
	free(m->owned);
	free(m);
}
