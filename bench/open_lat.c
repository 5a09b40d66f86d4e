/*
 * open_lat.c - bench/onaccess.sh's workload (a): open, read (up to
 * 64 KiB) and close each file named on stdin, one line each; prints
 * the count, p50 and p99 latency of the whole open+read+close in
 * microseconds, and how many failed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	static char buf[65536];
	char line[4096];
	size_t n = 0, cap = 1024, failed = 0;
	double *lat = malloc(cap * sizeof *lat);

	while (lat && fgets(line, sizeof line, stdin)) {
		struct timespec a, b;
		int fd;
		line[strcspn(line, "\n")] = 0;
		clock_gettime(CLOCK_MONOTONIC, &a);
		fd = open(line, O_RDONLY);
		if (fd >= 0) {
			while (read(fd, buf, sizeof buf) > 0)
				;
			close(fd);
		} else {
			failed++;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (n == cap && !(lat = realloc(lat, (cap *= 2) * sizeof *lat)))
			return 1;
		lat[n++] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
	}
	if (!n)
		return 1;
	qsort(lat, n, sizeof *lat, cmp);
	printf("%zu %.1f %.1f %zu\n", n, lat[n / 2], lat[n * 99 / 100], failed);
	free(lat);
	return 0;
}
