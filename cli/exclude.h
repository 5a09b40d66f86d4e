/*
 * exclude.h - --exclude patterns: shell globs, or PCRE2 regexes written
 * "re:REGEX". Compiled once, then matched by the directory walkers.
 */
#ifndef VIGIL_CLI_EXCLUDE_H
#define VIGIL_CLI_EXCLUDE_H

#include <stddef.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

typedef struct vg_exclude vg_exclude;

/* An empty list; NULL when out of memory. Free with vg_exclude_free. */
vg_exclude *vg_exclude_new(void);
void vg_exclude_free(vg_exclude *x);

/*
 * Adds a pattern. Returns 0, or -1 with a message in errbuf (a regex
 * that does not compile, or no memory).
 */
int vg_exclude_add(vg_exclude *x, const char *pattern, char *errbuf,
                   size_t errlen);

/* 1 when the list holds no pattern. */
int vg_exclude_empty(const vg_exclude *x);

/*
 * 1 when path (len bytes) is excluded: a glob matches the whole path
 * or its base name (the part after base_off); a regex matches anywhere
 * in the whole path. The list is read-only here, so threads may share
 * it; each thread brings its own md from pcre2_match_data_create(1,
 * NULL).
 */
int vg_exclude_match(const vg_exclude *x, pcre2_match_data *md,
                     const char *path, size_t len, size_t base_off);

#endif /* VIGIL_CLI_EXCLUDE_H */
