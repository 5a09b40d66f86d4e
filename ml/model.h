/*
 * model.h - a gradient-boosted tree model as static tables (libvigil
 * internals). The built-in model is generated into ml/model_tables.c by
 * ml/codegen.py; a model file (.vgm) loaded at run time replaces it.
 *
 * Every tree is stored complete, to the model's depth D: 2^D - 1 split
 * nodes in heap order (children of node n are 2n + 1 and 2n + 2) and
 * 2^D leaves. A shallower branch of the trained tree is padded with
 * splits whose two sides carry the same leaf value. So a walk is D
 * steps with no test for "is this a leaf", no branch on the data (the
 * CPU never mispredicts) and it can never leave the tree: the layout
 * needs no validation beyond the feature indices.
 *
 * A step reads no "is it missing" flag either: the row is laid out
 * twice (missing as +inf, then missing as -inf) and each node's slot
 * says which copy to read, so a missing value goes the node's default
 * way by the plain comparison x < split.
 */
#ifndef VIGIL_ML_MODEL_H
#define VIGIL_ML_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "engine/attrs.h"

#define VG_ML_DEFAULT_LEFT 0x8000u /* feat[] bit: a missing value goes left */
#define VG_ML_FEATURE_MASK 0x7fffu
#define VG_ML_VERSION_MAX 32
#define VG_ML_MAX_DEPTH 10

typedef struct vg_ml_model {
	char version[VG_ML_VERSION_MAX];
	uint64_t feature_hash;      /* vg_ml_feature_hash() it was built for */
	uint32_t nfeatures, ntrees, depth;
	double base_margin;         /* log-odds added to the trees' sum */
	double threshold_malicious, threshold_suspicious;
	/* split node n of tree t at [t * (2^D - 1) + n] */
	const uint16_t *feat;       /* feature index | DEFAULT_LEFT */
	const uint16_t *slot;       /* feature index, + nfeatures if DEFAULT_LEFT */
	const float *split;         /* go left when x < split (in float) */
	const float *mean;          /* mean leaf value below (explanations) */
	/* leaf k of tree t at [t * 2^D + k] */
	const float *leaf;
	void *owned;                /* buffer of a loaded model, else NULL */
} vg_ml_model;

extern const vg_ml_model vg_ml_builtin_model;

/* Log-odds for a feature vector x[nfeatures] (NaN = missing). */
double vg_ml_margin(const vg_ml_model *m, const double *x);

/* Probability of malware: the logistic of vg_ml_margin. */
double vg_ml_score(const vg_ml_model *m, const double *x);

/* The same for nrows rows x[r * nfeatures ...] into out[nrows], equal
 * to the one-row results bit for bit; faster per row (each block of
 * trees passes over many rows while its nodes are in L1). */
void vg_ml_score_batch(const vg_ml_model *m, const double *x, size_t nrows,
                       double *out);

/* ml/model_avx512.c: whether this CPU and model can take the AVX-512
 * batch walk (depth at most 4), and the walk: adds to out[0..15] the
 * trees' sums for sixteen rows laid out by the batch walk in model.c, width
 * floats apart. */
int vg_ml_avx512_usable(const vg_ml_model *m);
void vg_ml_batch16_avx512(const vg_ml_model *m, const float *xs, size_t width,
                          double *out);

/*
 * Adds to contrib[f] how much feature f moved the log-odds along the
 * paths x takes (Saabas attribution: for each split, the mean of the
 * child taken minus the mean of the node). contrib has nfeatures slots,
 * zeroed by the caller. Returns the model's mean log-odds (the bias).
 */
double vg_ml_contributions(const vg_ml_model *m, const double *x,
                           double *contrib);

/* Sets used[f] to 1 for every feature f some split of the model reads
 * (padding splits read feature 0); used has nfeatures slots, zeroed by
 * the caller. */
void vg_ml_used_features(const vg_ml_model *m, unsigned char *used);

/*
 * Parses a .vgm model file image (format in ml/README.md). Returns 0
 * and a model to free with vg_ml_model_free, or -1 with a reason in err.
 */
VG_MUST_CHECK
int vg_ml_model_parse(const uint8_t *data, size_t size, vg_ml_model **out,
                      char *err, size_t errlen);

/* Frees a parsed model; accepts NULL and ignores the built-in one. */
void vg_ml_model_free(vg_ml_model *m);

#endif
