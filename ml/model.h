/*
 * model.h - a gradient-boosted tree model as static tables (libvigil
 * internals). The built-in model is generated into ml/model_tables.c by
 * ml/codegen.py; a model file (.vgm) loaded at run time replaces it.
 * Layout of the arrays: see ml/codegen.py and ml/README.md.
 */
#ifndef VIGIL_ML_MODEL_H
#define VIGIL_ML_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define VG_ML_LEAF 0x7fffu
#define VG_ML_DEFAULT_LEFT 0x8000u
#define VG_ML_VERSION_MAX 32

typedef struct vg_ml_model {
	char version[VG_ML_VERSION_MAX];
	uint64_t feature_hash;      /* vg_ml_feature_hash() it was built for */
	uint32_t nfeatures, ntrees, nnodes;
	double base_margin;         /* log-odds added to the trees' sum */
	double threshold_malicious, threshold_suspicious;
	const uint32_t *root;       /* [ntrees] */
	const uint16_t *feat;       /* [nnodes] feature | DEFAULT_LEFT, or LEAF */
	const uint16_t *left;       /* [nnodes] left child = n + left[n] */
	const float *value;         /* [nnodes] threshold, or leaf value */
	const float *mean;          /* [nnodes] mean leaf value below */
	void *owned;                /* buffer of a loaded model, else NULL */
} vg_ml_model;

extern const vg_ml_model vg_ml_builtin_model;

/* Log-odds for a feature vector x[nfeatures] (NaN = missing). */
double vg_ml_margin(const vg_ml_model *m, const double *x);

/* Probability of malware: the logistic of vg_ml_margin. */
double vg_ml_score(const vg_ml_model *m, const double *x);

/*
 * Adds to contrib[f] how much feature f moved the log-odds along the
 * paths x takes (Saabas attribution: for each split, the mean of the
 * child taken minus the mean of the node). contrib has nfeatures slots,
 * zeroed by the caller. Returns the model's mean log-odds (the bias).
 */
double vg_ml_contributions(const vg_ml_model *m, const double *x,
                           double *contrib);

/*
 * Parses a .vgm model file image. The checks make every tree walk stay
 * inside the tables and end (children always come after their parent).
 * Returns 0 and a model to free with vg_ml_model_free, or -1 with a
 * reason in err.
 */
int vg_ml_model_parse(const uint8_t *data, size_t size, vg_ml_model **out,
                      char *err, size_t errlen);

/* Frees a parsed model; accepts NULL and ignores the built-in one. */
void vg_ml_model_free(vg_ml_model *m);

#endif
