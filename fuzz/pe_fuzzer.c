/* pe_fuzzer.c - the PE parser and ML feature extractor on arbitrary
 * bytes, then the model on the features (which must give a score);
 * the same bytes as a .vgm model file, which must be refused or score
 * in [0, 1] too. The batch walk must give the one-row score. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ml/features.h"
#include "ml/model.h"
#include "ml/pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Seventeen copies of row f (a group of sixteen and one more) scored in
 * one batch: each must equal s exactly. */
static void check_batch(const vg_ml_model *m, const double *f, double s)
{
	static double rows[17][VG_ML_NFEATURES];
	double out[17];

	for (int r = 0; r < 17; r++)
		memcpy(rows[r], f, sizeof rows[r]);
	vg_ml_score_batch(m, &rows[0][0], 17, out);
	for (int r = 0; r < 17; r++)
		if (out[r] != s)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double f[VG_ML_NFEATURES], s;
	uint8_t *copy;
	vg_ml_model *m;
	char why[128];

	if (size > (4u << 20)) /* large inputs only slow the fuzzer */
		return 0;
	/* an exact-size copy, so ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (vg_ml_extract(copy, size, f) == 0) {
		s = vg_ml_score(&vg_ml_builtin_model, f);
		if (!(s >= 0 && s <= 1))
			abort();
		check_batch(&vg_ml_builtin_model, f, s);
		/* the stage's cheaper extraction agrees on what it computes */
		if (vg_ml_extract_some(copy, size, f, 0) != 0)
			abort();
	}
	if (vg_ml_model_parse(copy, size, &m, why, sizeof why) == 0) {
		for (uint32_t i = 0; i < m->nfeatures && i < VG_ML_NFEATURES; i++)
			f[i] = NAN;
		if (m->nfeatures <= VG_ML_NFEATURES) {
			s = vg_ml_score(m, f);
			if (!(s >= 0 && s <= 1))
				abort();
			if (m->nfeatures == VG_ML_NFEATURES)
				check_batch(m, f, s);
		}
		vg_ml_model_free(m);
	}
	free(copy);
	return 0;
}
