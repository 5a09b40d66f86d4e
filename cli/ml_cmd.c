/*
 * ml_cmd.c - `vigil ml score`: the shipped PE model as a tool for
 * researchers. Scores PE files (printing score, explanation and every
 * feature) or the rows of a feature CSV whose columns carry the
 * datasets' names (ClaMP, the Kaggle PE header set, vigil's own
 * ml_extract output); with a label column it also prints AUC and the
 * detection and false-positive rates at the thresholds in force.
 * Uses the public API and vigil/ml.h only.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/csv.h"
#include "cli/ml_cmd.h"
#include "vigil/ml.h"

#define ML_MAX_COLUMNS 1024
#define ML_RECORD_MAX (1 << 20)

static const char usage[] =
	"usage: vigil ml score [OPTIONS] FILE...\n"
	"       vigil ml score [OPTIONS] --csv FEATURES.csv\n"
	"Scores PE files with vigil's ML model and prints the score, the\n"
	"verdict, the features that pushed the score up and every feature.\n"
	"With --csv, scores each row of a feature CSV (columns named as in\n"
	"ClaMP / the Kaggle PE header set / pefile; missing ones are treated\n"
	"as missing values) and writes row,score,verdict[,label] as CSV; a\n"
	"label column (class, Malware or label) adds AUC, TPR and FPR.\n"
	"  --model FILE.vgm        use this model instead of the built-in one\n"
	"  --malicious SCORE       MALICIOUS threshold (default: the model's)\n"
	"  --suspicious SCORE      SUSPICIOUS threshold (default: the model's)\n"
	"  --no-features           with files: score and explanation only\n"
	"  --label COLUMN          the label column of the CSV (1 = malware)\n";

typedef struct ml_opts {
	vigil_engine *engine;
	double tmal, tsus;
	int features;
	const char *label;
} ml_opts;

static const char *verdict_of(const ml_opts *o, double s)
{
	return s >= o->tmal ? "MALICIOUS" : s >= o->tsus ? "SUSPICIOUS" : "CLEAN";
}

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n = -1;

	if (fp && fseek(fp, 0, SEEK_END) == 0)
		n = ftell(fp);
	if (n < 0 || fseek(fp, 0, SEEK_SET) != 0 ||
	    !(buf = malloc(n ? (size_t)n : 1)) ||
	    fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (fp)
		fclose(fp);
	*size = (size_t)(n < 0 ? 0 : n);
	return buf;
}

static int score_file(const ml_opts *o, const char *path)
{
	size_t n, nf = vigil_ml_feature_count();
	uint8_t *buf = read_file(path, &n);
	double *x = calloc(nf, sizeof *x), s;
	char why[512];
	int rc = VG_EXIT_CLEAN;

	if (!buf || !x) {
		vg_cli_warn("%s: cannot read", path);
		rc = VG_EXIT_ERROR;
	} else if (vigil_ml_features(buf, n, x) != VIGIL_OK) {
		vg_cli_warn("%s: not a PE file", path);
		rc = VG_EXIT_ERROR;
	} else {
		vigil_ml_score_row(o->engine, x, &s, why, sizeof why);
		printf("%s: score %.6f %s\n  %s\n", path, s, verdict_of(o, s), why);
		if (o->features)
			for (size_t i = 0; i < nf; i++)
				printf("  %-28s %.10g\n", vigil_ml_feature_name(i), x[i]);
		if (s >= o->tsus)
			rc = VG_EXIT_FOUND;
	}
	free(buf);
	free(x);
	return rc;
}

/* A field of the output CSV, quoted when it must be. */
static void put_field(const char *f)
{
	if (!f[strcspn(f, ",\"\r\n")]) {
		fputs(f, stdout);
		return;
	}
	putchar('"');
	for (; *f; f++) {
		if (*f == '"')
			putchar('"');
		putchar(*f);
	}
	putchar('"');
}

static int cmp_score(const void *a, const void *b)
{
	const double *x = a, *y = b;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

/* AUC (Mann-Whitney, ties counted half) and rates at the thresholds. */
static void summary(const ml_opts *o, double *sl, size_t n)
{
	double pos = 0, neg = 0, rank_sum = 0;
	size_t tpm = 0, tps = 0, fpm = 0, fps = 0;

	if (n > 1)
		qsort(sl, n, 2 * sizeof(double), cmp_score);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && sl[2 * j] == sl[2 * i])
			j++;
		for (size_t k = i; k < j; k++)
			if (sl[2 * k + 1] > 0.5)
				rank_sum += (i + j + 1) / 2.0; /* mean 1-based rank */
		i = j;
	}
	for (size_t i = 0; i < n; i++) {
		int mal = sl[2 * i + 1] > 0.5;
		double s = sl[2 * i];
		pos += mal;
		neg += !mal;
		tpm += mal && s >= o->tmal;
		tps += mal && s >= o->tsus;
		fpm += !mal && s >= o->tmal;
		fps += !mal && s >= o->tsus;
	}
	fprintf(stderr, "rows %zu: malware %.0f, benign %.0f\n", n, pos, neg);
	if (pos > 0 && neg > 0)
		fprintf(stderr, "AUC %.4f\n",
		        (rank_sum - pos * (pos + 1) / 2) / (pos * neg));
	if (pos > 0)
		fprintf(stderr, "TPR: %.4f at MALICIOUS (%.6f), %.4f flagged at all (%.6f)\n",
		        tpm / pos, o->tmal, tps / pos, o->tsus);
	if (neg > 0)
		fprintf(stderr, "FPR: %.4f at MALICIOUS, %.4f flagged at all\n",
		        fpm / neg, fps / neg);
}

static int score_csv(const ml_opts *o, const char *path)
{
	FILE *fp = fopen(path, "r");
	vg_csv *csv = fp ? vg_csv_new(fp, ML_RECORD_MAX, ML_MAX_COLUMNS) : NULL;
	char **cols;
	int *map = calloc(ML_MAX_COLUMNS, sizeof *map);
	size_t nf = vigil_ml_feature_count(), ncols, n, row = 0, nl = 0, cap = 0;
	double *x = calloc(nf, sizeof *x), *sl = NULL;
	long label = -1;
	int rc = VG_EXIT_CLEAN, r;

	if (!csv || !map || !x || vg_csv_next(csv, &cols, &ncols) != 1) {
		if (csv && *vg_csv_error(csv))
			vg_cli_warn("%s:%zu: %s", path, vg_csv_line(csv),
			            vg_csv_error(csv));
		else
			vg_cli_warn("%s: cannot read a CSV header", path);
		rc = VG_EXIT_ERROR;
		goto out;
	}
	if (vigil_ml_map_columns((const char *const *)cols, ncols, map) == 0) {
		vg_cli_warn("%s: no column names a feature", path);
		rc = VG_EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < ncols; i++)
		if (o->label ? strcmp(cols[i], o->label) == 0
		             : (!strcmp(cols[i], "class") || !strcmp(cols[i], "Malware") ||
		                !strcmp(cols[i], "label")))
			label = (long)i;
	printf("row,score,verdict%s\n", label >= 0 ? ",label" : "");
	while ((r = vg_csv_next(csv, &cols, &n)) == 1) {
		double s;
		char *end;
		if (n == 1 && cols[0][0] == '\0')
			continue; /* blank line */
		row++;
		for (size_t i = 0; i < nf; i++)
			x[i] = NAN;
		for (size_t i = 0; i < n && i < ncols; i++) {
			double v;
			if (map[i] < 0 || !cols[i][0])
				continue;
			v = strtod(cols[i], &end);
			if (*end == '\0')
				x[map[i]] = v;
		}
		vigil_ml_score_row(o->engine, x, &s, NULL, 0);
		printf("%zu,%.6f,%s", row, s, verdict_of(o, s));
		if (label >= 0 && (size_t)label < n) {
			double l = strtod(cols[label], NULL);
			putchar(',');
			put_field(cols[label]);
			if (nl == cap) {
				double *nsl;
				cap = cap ? 2 * cap : 4096;
				if (!(nsl = realloc(sl, cap * 2 * sizeof *sl))) {
					vg_cli_warn("out of memory");
					rc = VG_EXIT_ERROR;
					goto out;
				}
				sl = nsl;
			}
			sl[2 * nl] = s;
			sl[2 * nl + 1] = l;
			nl++;
		}
		putchar('\n');
		if (s >= o->tsus && rc == VG_EXIT_CLEAN)
			rc = VG_EXIT_FOUND;
	}
	if (r < 0) {
		/* rows after this one would be guesses: refuse them */
		fflush(stdout);
		vg_cli_warn("%s:%zu: %s; stopped after %zu rows", path,
		            vg_csv_line(csv), vg_csv_error(csv), row);
		rc = VG_EXIT_ERROR;
		goto out;
	}
	if (label >= 0 && sl)
		summary(o, sl, nl);
out:
	vg_csv_free(csv);
	if (fp)
		fclose(fp);
	free(map);
	free(x);
	free(sl);
	return rc;
}

static int parse_score(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= 0 && v <= 1))
		return -1;
	*out = v;
	return 0;
}

int vg_cli_ml(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "csv", required_argument, NULL, 'c' },
		{ "model", required_argument, NULL, 'm' },
		{ "malicious", required_argument, NULL, 'M' },
		{ "suspicious", required_argument, NULL, 'S' },
		{ "no-features", no_argument, NULL, 'n' },
		{ "label", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	ml_opts o = { NULL, -1, -1, 1, NULL };
	const char *csv = NULL, *model = NULL;
	int c, rc = VG_EXIT_CLEAN;

	if (argc < 2 || strcmp(argv[1], "score") != 0) {
		fputs(usage, argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc >= 2 && !strcmp(argv[1], "--help") ? VG_EXIT_CLEAN : VG_EXIT_ERROR;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': csv = optarg; break;
		case 'm': model = optarg; break;
		case 'M':
		case 'S':
			if (parse_score(optarg, c == 'M' ? &o.tmal : &o.tsus) != 0) {
				vg_cli_warn("--%s: a score in [0, 1] expected",
				            c == 'M' ? "malicious" : "suspicious");
				return VG_EXIT_ERROR;
			}
			break;
		case 'n': o.features = 0; break;
		case 'l': o.label = optarg; break;
		case 'h': fputs(usage, stdout); return VG_EXIT_CLEAN;
		default: fputs(usage, stderr); return VG_EXIT_ERROR;
		}
	}
	if (!csv && optind >= argc) {
		fputs(usage, stderr);
		return VG_EXIT_ERROR;
	}
	if (vigil_engine_new(&o.engine) != VIGIL_OK)
		return VG_EXIT_ERROR;
	if (model && vigil_engine_load(o.engine, model) != VIGIL_OK) {
		vg_cli_warn("%s", vigil_engine_last_error(o.engine));
		vigil_engine_free(o.engine);
		return VG_EXIT_ERROR;
	}
	if (o.tmal < 0)
		o.tmal = vigil_engine_get_threshold(o.engine, VIGIL_THRESHOLD_ML_MALICIOUS);
	if (o.tsus < 0)
		o.tsus = vigil_engine_get_threshold(o.engine, VIGIL_THRESHOLD_ML_SUSPICIOUS);
	if (csv)
		rc = score_csv(&o, csv);
	for (int i = optind; i < argc; i++) {
		int r = score_file(&o, argv[i]);
		if (r == VG_EXIT_ERROR || (r == VG_EXIT_FOUND && rc == VG_EXIT_CLEAN))
			rc = r;
	}
	vigil_engine_free(o.engine);
	return rc;
}
