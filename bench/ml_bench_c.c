/*
 * ml_bench_c.c - times the ML stage's C path on PE files already in
 * memory: features + score of each file (its distribution over the
 * files), and the score alone per row: one row at a time
 * (vg_ml_score) and all rows in one batch (vg_ml_score_batch). Features are extracted as the
 * stage extracts them: only the costly groups the model reads.
 * usage: ml_bench_c ROUNDS FILE...
 * Prints "key value" pairs; times in microseconds.
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1)) &&
	    fread(buf, 1, (size_t)len, fp) == (size_t)len) {
		*size = (size_t)len;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	return buf;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 10, nfiles = argc - 2;
	uint8_t **data = calloc((size_t)(nfiles > 0 ? nfiles : 1), sizeof *data);
	size_t *size = calloc((size_t)(nfiles > 0 ? nfiles : 1), sizeof *size);
	double *per = calloc((size_t)(nfiles > 0 ? nfiles : 1), sizeof *per);
	double *feat = calloc((size_t)(nfiles > 0 ? nfiles : 1), sizeof *feat);
	double (*x)[VG_ML_NFEATURES];
	double t0, sum = 0, t_score, t_batch, sink = 0, total = 0, *out;
	int n = 0;
	unsigned char used[VG_ML_NFEATURES] = { 0 };
	unsigned want;

	for (int i = 0; i < nfiles; i++)
		if ((data[n] = read_file(argv[i + 2], &size[n]))) {
			total += (double)size[n];
			n++;
		}
	if (n == 0 || rounds <= 0)
		return 2;
	x = calloc((size_t)n, sizeof *x);
	vg_ml_used_features(&vg_ml_builtin_model, used);
	want = vg_ml_groups_of(used);
	/* Each file on its own, rounds times in a row (best of warm runs:
	 * what scanning a file already in memory costs). */
	for (int i = 0; i < n; i++) {
		double best = 1e30;
		for (int r = 0; r < rounds; r++) {
			t0 = now_us();
			vg_ml_extract_some(data[i], size[i], x[i], want);
			sink += vg_ml_score(&vg_ml_builtin_model, x[i]);
			t0 = now_us() - t0;
			if (t0 < best)
				best = t0;
		}
		per[i] = best;
		sum += best;
		best = 1e30;
		for (int r = 0; r < rounds; r++) {
			t0 = now_us();
			vg_ml_extract_some(data[i], size[i], x[i], want);
			t0 = now_us() - t0;
			if (t0 < best)
				best = t0;
		}
		feat[i] = best;
	}
	qsort(feat, (size_t)n, sizeof *feat, cmp_double);
	qsort(per, (size_t)n, sizeof *per, cmp_double);
	/* score alone: best pass over all rows of rounds * 20 (the best is
	 * the figure least disturbed by other work on the machine) */
	out = calloc((size_t)n, sizeof *out);
	t_score = t_batch = 1e30;
	for (int r = 0; r < rounds * 20; r++) {
		t0 = now_us();
		for (int i = 0; i < n; i++)
			sink += vg_ml_score(&vg_ml_builtin_model, x[i]);
		t0 = now_us() - t0;
		if (t0 < t_score)
			t_score = t0;
		t0 = now_us();
		vg_ml_score_batch(&vg_ml_builtin_model, &x[0][0], (size_t)n, out);
		t0 = now_us() - t0;
		sink += out[r % n];
		if (t0 < t_batch)
			t_batch = t0;
	}
	t_score /= n;
	t_batch /= n;
	for (int i = 0; i < n; i++) /* the batch gives the one-row scores */
		if (out[i] != vg_ml_score(&vg_ml_builtin_model, x[i]))
			return 3;
	printf("files %d\nmean_bytes %.0f\n", n, total / n);
	printf("features_and_score_mean_us %.3f\n", sum / n);
	printf("features_and_score_median_us %.3f\n", per[n / 2]);
	printf("features_and_score_p90_us %.3f\n", per[(int)(0.9 * (n - 1))]);
	printf("features_and_score_p99_us %.3f\n", per[(int)(0.99 * (n - 1))]);
	printf("features_and_score_max_us %.3f\n", per[n - 1]);
	printf("features_only_median_us %.3f\n", feat[n / 2]);
	printf("features_only_p90_us %.3f\n", feat[(int)(0.9 * (n - 1))]);
	printf("score_only_us %.4f\n", t_score);
	printf("score_batch_us %.4f\n", t_batch);
	printf("batch_avx512 %d\n", vg_ml_avx512_usable(&vg_ml_builtin_model));
	printf("groups %u\n", want);
	printf("trees %u\ndepth %u\nsink %.3f\n", vg_ml_builtin_model.ntrees,
	       vg_ml_builtin_model.depth, sink);
	return 0;
}
