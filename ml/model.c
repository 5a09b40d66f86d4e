/*
 * model.c - scoring with tree tables, and the .vgm model file reader.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bytes.h"
#include "ml/model.h"

/* The leaf x reaches in the tree starting at node n. Comparisons are
 * made in float, as xgboost makes them. */
static uint32_t walk(const vg_ml_model *m, uint32_t n, const double *x,
                     double *contrib)
{
	for (;;) {
		uint16_t f = m->feat[n];
		uint32_t child;
		double v;
		if ((f & VG_ML_LEAF) == VG_ML_LEAF)
			return n;
		v = x[f & VG_ML_LEAF];
		child = n + m->left[n];
		if (isnan(v)) {
			if (!(f & VG_ML_DEFAULT_LEFT))
				child++;
		} else if (!((float)v < m->value[n])) {
			child++;
		}
		if (contrib)
			contrib[f & VG_ML_LEAF] +=
				(double)m->mean[child] - (double)m->mean[n];
		n = child;
	}
}

double vg_ml_margin(const vg_ml_model *m, const double *x)
{
	double sum = m->base_margin;
	for (uint32_t t = 0; t < m->ntrees; t++)
		sum += m->value[walk(m, m->root[t], x, NULL)];
	return sum;
}

double vg_ml_score(const vg_ml_model *m, const double *x)
{
	return 1.0 / (1.0 + exp(-vg_ml_margin(m, x)));
}

double vg_ml_contributions(const vg_ml_model *m, const double *x,
                           double *contrib)
{
	double bias = m->base_margin;
	for (uint32_t t = 0; t < m->ntrees; t++) {
		bias += m->mean[m->root[t]];
		(void)walk(m, m->root[t], x, contrib);
	}
	return bias;
}

/* ------------------------------------------------------------------ */
/* .vgm files                                                          */
/* ------------------------------------------------------------------ */

#define VGM_MAGIC "VGMLPE1"
#define VGM_HEADER 88
#define VGM_MAX_NODES (1u << 24)
#define VGM_MAX_TREES (1u << 16)

static int fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

/* Every internal node's children lie after it, inside the tables, and
 * every feature index is in range: walks end and stay in bounds. */
static int check_nodes(const vg_ml_model *m, char *err, size_t errlen)
{
	for (uint32_t t = 0; t < m->ntrees; t++)
		if (m->root[t] >= m->nnodes)
			return fail(err, errlen, "tree root out of range");
	for (uint32_t n = 0; n < m->nnodes; n++) {
		uint16_t f = m->feat[n];
		if ((f & VG_ML_LEAF) == VG_ML_LEAF) {
			if (!isfinite(m->value[n]))
				return fail(err, errlen, "leaf value not finite");
			continue;
		}
		if ((f & VG_ML_LEAF) >= m->nfeatures)
			return fail(err, errlen, "feature index out of range");
		if (m->left[n] == 0 ||
		    (uint64_t)n + m->left[n] + 1 >= m->nnodes)
			return fail(err, errlen, "child index out of range");
	}
	for (uint32_t n = 0; n < m->nnodes; n++)
		if (isnan(m->mean[n]))
			return fail(err, errlen, "node mean not a number");
	return 0;
}

static int in_unit(double v)
{
	return v >= 0 && v <= 1;
}

/* Copies the little-endian arrays root, feat, left, value, mean (in
 * that order, sizes already checked) into buf, aligned, in host order. */
static void decode_arrays(vg_ml_model *m, uint8_t *buf, const uint8_t *src)
{
	uint32_t *root = (uint32_t *)buf;
	uint16_t *feat = (uint16_t *)(root + m->ntrees);
	uint16_t *left = feat + m->nnodes;
	float *value = (float *)(feat + 2 * (size_t)m->nnodes);
	float *mean = value + m->nnodes;
	size_t nn = m->nnodes, off = 0, len = 4 * (size_t)m->ntrees + 12 * nn;

	for (uint32_t t = 0; t < m->ntrees; t++, off += 4)
		(void)vg_u32le(src, len, off, &root[t]);
	for (size_t i = 0; i < nn; i++, off += 2)
		(void)vg_u16le(src, len, off, &feat[i]);
	for (size_t i = 0; i < nn; i++, off += 2)
		(void)vg_u16le(src, len, off, &left[i]);
	for (size_t i = 0; i < 2 * nn; i++, off += 4) {
		uint32_t u = 0;
		(void)vg_u32le(src, len, off, &u);
		memcpy(&value[i], &u, 4); /* value then mean, contiguous */
	}
	m->root = root;
	m->feat = feat;
	m->left = left;
	m->value = value;
	m->mean = mean;
}

int vg_ml_model_parse(const uint8_t *b, size_t n, vg_ml_model **out,
                      char *err, size_t errlen)
{
	uint32_t format, nfeat, ntrees, nnodes;
	uint64_t hash, bits[3];
	size_t need;
	vg_ml_model *m;
	uint8_t *buf;

	*out = NULL;
	if (!vg_match(b, n, 0, VGM_MAGIC, 8))
		return fail(err, errlen, "not a vigil model file (bad magic)");
	if (!vg_u32le(b, n, 8, &format) || format != 1)
		return fail(err, errlen, "unsupported model file format");
	if (!vg_u32le(b, n, 12, &nfeat) || !vg_u64le(b, n, 16, &hash) ||
	    !vg_u32le(b, n, 56, &ntrees) || !vg_u32le(b, n, 60, &nnodes) ||
	    !vg_u64le(b, n, 64, &bits[0]) || !vg_u64le(b, n, 72, &bits[1]) ||
	    !vg_u64le(b, n, 80, &bits[2]))
		return fail(err, errlen, "model file truncated");
	if (ntrees == 0 || ntrees > VGM_MAX_TREES || nnodes == 0 ||
	    nnodes > VGM_MAX_NODES || nfeat == 0 || nfeat > VG_ML_LEAF)
		return fail(err, errlen, "model sizes out of range");
	need = VGM_HEADER + 4 * (size_t)ntrees + 12 * (size_t)nnodes;
	if (n != need)
		return fail(err, errlen, "model file size does not match");

	m = calloc(1, sizeof *m);
	buf = malloc(4 * (size_t)ntrees + 12 * (size_t)nnodes);
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
	m->nnodes = nnodes;
	memcpy(&m->base_margin, &bits[0], 8);
	memcpy(&m->threshold_malicious, &bits[1], 8);
	memcpy(&m->threshold_suspicious, &bits[2], 8);
	m->owned = buf;
	decode_arrays(m, buf, b + VGM_HEADER);
	if (!isfinite(m->base_margin) || !in_unit(m->threshold_malicious) ||
	    !in_unit(m->threshold_suspicious)) {
		vg_ml_model_free(m);
		return fail(err, errlen, "model parameters out of range");
	}
	if (check_nodes(m, err, errlen) != 0) {
		vg_ml_model_free(m);
		return -1;
	}
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
