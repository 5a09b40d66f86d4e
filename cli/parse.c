/*
 * parse.c - option values: sizes with suffixes, counts, seconds.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void vg_cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("vigil: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Digits only: strtoull alone would take "-1", " 5" and "0x10". */
static int parse_digits(const char *s, uint64_t *out, const char **end)
{
	char *e;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno == ERANGE)
		return -1;
	*out = v;
	*end = e;
	return 0;
}

int vg_cli_parse_count(const char *s, uint64_t *out)
{
	const char *end;

	if (parse_digits(s, out, &end) != 0 || *end)
		return -1;
	return 0;
}

int vg_cli_parse_size(const char *s, uint64_t *out)
{
	static const char suffixes[] = "KMGT";
	const char *end, *p;
	uint64_t v;
	unsigned shift = 0;

	if (parse_digits(s, &v, &end) != 0)
		return -1;
	if (*end) {
		if (!(p = strchr(suffixes, toupper((unsigned char)*end))))
			return -1;
		shift = 10 * (unsigned)(p - suffixes + 1);
		end++;
		/* "10M", "10MB" and "10MiB" all mean 10 * 2^20 */
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -1;
		if (v > (UINT64_MAX >> shift))
			return -1;
	}
	*out = v << shift;
	return 0;
}

int vg_cli_parse_seconds_ms(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t whole, ms = 0, scale = 100;

	if (parse_digits(s, &whole, &end) != 0)
		return -1;
	if (*end == '.') {
		/* up to three decimals: the limits count milliseconds */
		for (end++; isdigit((unsigned char)*end); end++) {
			ms += (uint64_t)(*end - '0') * scale;
			scale /= 10;
		}
	}
	if (*end || whole > UINT64_MAX / 1000 - 1)
		return -1;
	*out = whole * 1000 + ms;
	return 0;
}
