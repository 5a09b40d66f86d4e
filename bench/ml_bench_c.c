/*
 * ml_bench_c.c - times the ML stage's C path on PE files already in
 * memory: features + score per file, and score alone per row.
 * usage: ml_bench_c ROUNDS FILE...   (prints microseconds)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ml/features.h"
#include "ml/model.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 10, nfiles = argc - 2;
	uint8_t **data = calloc((size_t)nfiles, sizeof *data);
	size_t *size = calloc((size_t)nfiles, sizeof *size), total = 0;
	double (*x)[VG_ML_NFEATURES] = calloc((size_t)nfiles, sizeof *x);
	double t0, t_feat, t_score, sink = 0;
	int n = 0;

	for (int i = 0; i < nfiles; i++) {
		FILE *fp = fopen(argv[i + 2], "rb");
		long len;
		if (!fp)
			continue;
		fseek(fp, 0, SEEK_END);
		len = ftell(fp);
		fseek(fp, 0, SEEK_SET);
		data[n] = malloc((size_t)len + 1);
		if (fread(data[n], 1, (size_t)len, fp) == (size_t)len) {
			size[n] = (size_t)len;
			total += (size_t)len;
			n++;
		}
		fclose(fp);
	}
	if (n == 0 || rounds <= 0)
		return 2;
	t0 = now_us();
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < n; i++) {
			vg_ml_extract(data[i], size[i], x[i]);
			sink += vg_ml_score(&vg_ml_builtin_model, x[i]);
		}
	t_feat = (now_us() - t0) / ((double)rounds * n);
	t0 = now_us();
	for (int r = 0; r < rounds * 20; r++)
		for (int i = 0; i < n; i++)
			sink += vg_ml_score(&vg_ml_builtin_model, x[i]);
	t_score = (now_us() - t0) / ((double)rounds * 20 * n);
	printf("files %d mean_bytes %.0f features_and_score_us %.3f score_only_us %.4f sink %.3f\n",
	       n, (double)total / n, t_feat, t_score, sink);
	return 0;
}
