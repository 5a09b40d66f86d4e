/*
 * vigil/ml.h - the ML stage's scoring tools, for `vigil ml score` and
 * researchers' own programs: the features vigil computes for a PE file
 * and the model's score for a row of them. Part of libvigil's public API;
 * the thresholds are in vigil.h.
 */
#ifndef VIGIL_ML_H
#define VIGIL_ML_H

#include <stddef.h>

#include "vigil/vigil.h"

#ifdef __cplusplus
extern "C" {
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
 *   "model pe-3; up: CheckSum=0 (+1.43), Characteristics.DLL=0 (+1.36)"
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
