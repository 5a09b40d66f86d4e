/*
 * csv_fuzzer.c - the CSV reader of `vigil ml score --csv` (cli/csv.c):
 * every record of the input is read, with small limits so the limit
 * paths are reached too, and each field must lie inside its record.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Records are read a byte at a time; a few KiB reach every state. */
#define MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first byte picks the limits: tiny ones hit the refusals */
	size_t max_bytes = size && (data[0] & 1) ? 64 : 1 << 20;
	size_t max_fields = size && (data[0] & 2) ? 4 : 1024;
	char **fields;
	size_t n, records = 0;
	vg_csv *c;
	FILE *f;
	int r;

	if (size > MAX_INPUT || size == 0)
		return 0;
	if (!(f = fmemopen((void *)data, size, "r")))
		return 0;
	if (!(c = vg_csv_new(f, max_bytes, max_fields))) {
		fclose(f);
		return 0;
	}
	while ((r = vg_csv_next(c, &fields, &n)) == 1) {
		if (n == 0 || n > max_fields)
			abort();
		for (size_t i = 0; i < n; i++)
			if (strlen(fields[i]) > max_bytes)
				abort();
		if (vg_csv_line(c) == 0 || ++records > size + 1)
			abort();
	}
	if (r < 0 && !*vg_csv_error(c))
		abort(); /* every refusal says why */
	vg_csv_free(c);
	fclose(f);
	return 0;
}
