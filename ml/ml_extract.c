/*
 * ml_extract.c - prints the ML feature vector of PE files as CSV, for
 * training (ml/train.py) and the pefile differential test. Not
 * installed; `vigil ml score` is the tool for users.
 *
 * usage: ml_extract [-] [FILE...]
 *   Writes a header line "path,<feature names>" then one line per file
 *   that is a PE. With "-", reads further file names from standard
 *   input, one per line. Missing features are written as empty fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "ml/features.h"

static int extract_one(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;
	double f[VG_ML_NFEATURES];

	if (!fp || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		perror(path);
		if (fp)
			fclose(fp);
		return 1;
	}
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		perror(path);
		free(buf);
		fclose(fp);
		return 1;
	}
	fclose(fp);
	if (vg_ml_extract(buf, (size_t)n, f) == 0) {
		fputs(path, stdout);
		for (int i = 0; i < VG_ML_NFEATURES; i++) {
			if (isnan(f[i]))
				fputs(",", stdout);
			else
				printf(",%.17g", (double)f[i]);
		}
		putchar('\n');
	} else {
		fprintf(stderr, "%s: not a PE file\n", path);
	}
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0;
	fputs("path", stdout);
	for (int i = 0; i < VG_ML_NFEATURES; i++)
		printf(",%s", vg_ml_feature_names[i]);
	putchar('\n');
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0) {
			char line[4096];
			while (fgets(line, sizeof line, stdin)) {
				line[strcspn(line, "\r\n")] = '\0';
				if (line[0])
					rc |= extract_one(line);
			}
		} else {
			rc |= extract_one(argv[i]);
		}
	}
	return rc;
}
