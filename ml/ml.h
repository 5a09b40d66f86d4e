/*
 * ml.h - the ML stage's small exported API: thresholds, and scoring
 * tools for `vigil ml score` and researchers' own programs.
 *
 * Everything here is exported from libvigil (VIGIL_API). The threshold
 * functions are proposed for include/vigil/vigil.h; until they are
 * declared there, this header declares them.
 */
#ifndef VIGIL_ML_ML_H
#define VIGIL_ML_ML_H

#include <stddef.h>

#include "vigil/vigil.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef VIGIL_THRESHOLD_COUNT
/*
 * Score thresholds of the ML stage. A PE layer whose score is at least
 * ML_MALICIOUS gets the finding ML.PE.Malicious (MALICIOUS); else at
 * least ML_SUSPICIOUS gets ML.PE.Suspicious (SUSPICIOUS). The defaults
 * come with the model (the shipped one: false-positive rates of 0.1 %
 * and 1 % on its validation data; see ml/REPORT.md).
 */
typedef enum vigil_threshold {
	VIGIL_THRESHOLD_ML_MALICIOUS = 0,
	VIGIL_THRESHOLD_ML_SUSPICIOUS = 1
} vigil_threshold;
#define VIGIL_THRESHOLD_COUNT 2

/*
 * Sets a threshold, a score in [0, 1] (1 turns that finding off).
 * VIGIL_EINVAL for an unknown threshold or a value outside [0, 1],
 * VIGIL_EFROZEN after vigil_engine_freeze. A model loaded later with
 * vigil_engine_load does not change a threshold set here.
 */
VIGIL_API vigil_error vigil_engine_set_threshold(vigil_engine *engine,
                                                 vigil_threshold which,
                                                 double value);

/* The threshold in force (set, else the model's); -1 for an unknown one. */
VIGIL_API double vigil_engine_get_threshold(const vigil_engine *engine,
                                            vigil_threshold which);
#endif

/* Number of features vigil computes for a PE file (the model's input). */
VIGIL_API size_t vigil_ml_feature_count(void);

/* Name of feature i ("e_lfanew", "E_file", ...), or NULL past the end.
 * Header fields have pefile's names. Static storage. */
VIGIL_API const char *vigil_ml_feature_name(size_t i);

/*
 * Computes the features of the PE file in data[size] into
 * out[vigil_ml_feature_count()]; a feature the file does not have is NaN.
 * VIGIL_EFORMAT when data is not a PE file.
 */
VIGIL_API vigil_error vigil_ml_features(const void *data, size_t size,
                                        double *out);

/*
 * Maps the columns of a feature CSV to features: map[i] is the feature
 * index of column i, or -1 for a column vigil does not know (labels,
 * names). Column names are the datasets' (pefile names). A header with
 * ClaMP_Integrated's FH_char0 column is read in that layout, where
 * "ImageBase", "SectionAlignment", "FileAlignment", "SizeOfImage",
 * "SizeOfHeaders", "LoaderFlags" and "CreationYear" are 0/1 flags.
 * Returns the number of columns mapped.
 */
VIGIL_API size_t vigil_ml_map_columns(const char *const *columns,
                                      size_t ncolumns, int *map);

/*
 * Scores one feature row (vigil_ml_feature_count() values, NaN where
 * missing; missing flag features are derived from the raw header
 * fields present) with the engine's model, or with the built-in model
 * when engine is NULL. Writes the malware probability to *score and,
 * if explain is not NULL, a one-line explanation naming the features
 * that pushed the score up most:
 *   "model pe-2; up: CheckSum=0 (+1.92), MajorLinkerVersion=2 (+0.84)"
 * VIGIL_EINVAL for NULL arguments.
 */
VIGIL_API vigil_error vigil_ml_score_row(const vigil_engine *engine,
                                         const double *row, double *score,
                                         char *explain, size_t explain_size);

/* Version string of the engine's model (built-in when engine is NULL
 * or has loaded none). Lives as long as the engine. */
VIGIL_API const char *vigil_ml_model_version(const vigil_engine *engine);

#ifdef __cplusplus
}
#endif

#endif
