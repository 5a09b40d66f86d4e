/*
 * exclude.c - --exclude patterns (see exclude.h).
 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/exclude.h"

struct vg_exclude {
	char **globs;
	size_t nglobs;
	pcre2_code **regexes;
	size_t nregexes;
};

vg_exclude *vg_exclude_new(void)
{
	return calloc(1, sizeof(vg_exclude));
}

void vg_exclude_free(vg_exclude *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nglobs; i++)
		free(x->globs[i]);
	for (size_t i = 0; i < x->nregexes; i++)
		pcre2_code_free(x->regexes[i]);
	free(x->globs);
	free(x->regexes);
	free(x);
}

static int add_regex(vg_exclude *x, const char *re, char *errbuf,
                     size_t errlen)
{
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *code, **grown;

	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0,
	                     &errcode, &erroff, NULL);
	if (!code) {
		char msg[256];
		pcre2_get_error_message(errcode, (PCRE2_UCHAR *)msg, sizeof msg);
		snprintf(errbuf, errlen, "bad regular expression '%s' at offset %zu: %s",
		         re, (size_t)erroff, msg);
		return -1;
	}
	/* JIT is only a speed-up: go on without it where unsupported */
	pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	grown = realloc(x->regexes, (x->nregexes + 1) * sizeof *grown);
	if (!grown) {
		pcre2_code_free(code);
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	x->regexes = grown;
	x->regexes[x->nregexes++] = code;
	return 0;
}

int vg_exclude_add(vg_exclude *x, const char *pattern, char *errbuf,
                   size_t errlen)
{
	char **grown, *copy;

	if (strncmp(pattern, "re:", 3) == 0)
		return add_regex(x, pattern + 3, errbuf, errlen);
	grown = realloc(x->globs, (x->nglobs + 1) * sizeof *grown);
	if (!grown || !(copy = strdup(pattern))) {
		if (grown)
			x->globs = grown;
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	x->globs = grown;
	x->globs[x->nglobs++] = copy;
	return 0;
}

int vg_exclude_empty(const vg_exclude *x)
{
	return x->nglobs == 0 && x->nregexes == 0;
}

int vg_exclude_match(const vg_exclude *x, pcre2_match_data *md,
                     const char *path, size_t len, size_t base_off)
{
	for (size_t i = 0; i < x->nglobs; i++)
		if (fnmatch(x->globs[i], path + base_off, 0) == 0 ||
		    fnmatch(x->globs[i], path, 0) == 0)
			return 1;
	for (size_t i = 0; i < x->nregexes; i++)
		if (pcre2_match(x->regexes[i], (PCRE2_SPTR)path, len, 0, 0, md,
		                NULL) >= 0)
			return 1;
	return 0;
}
