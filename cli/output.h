/*
 * output.h - what `vigil scan` prints: one report per file (clamscan's
 * text style, or one NDJSON object), errors on stderr, the running
 * counts, and the summary. Every call takes one lock, so reports from
 * worker threads never interleave; the progress line is drawn under the
 * same lock and wiped before any other output.
 */
#ifndef VIGIL_CLI_OUTPUT_H
#define VIGIL_CLI_OUTPUT_H

#include <stdint.h>

#include "vigil/vigil.h"

typedef struct vg_out_opts {
	int json;           /* NDJSON instead of text */
	int infected_only;  /* print only files with MALICIOUS/SUSPICIOUS findings */
	int summary;        /* print the summary at the end */
	int verbose;        /* text: informational findings, and why */
} vg_out_opts;

/* Running counts; a snapshot is taken under the output lock. */
typedef struct vg_stats {
	uint64_t dirs;          /* directories read */
	uint64_t files;         /* files scanned (a result came back) */
	uint64_t malicious, suspicious, incomplete;  /* files by verdict, with
	                        * files over --max-filesize as incomplete */
	uint64_t skipped;       /* special files, too large files, broken links */
	uint64_t errors;        /* unreadable paths, failed scans */
	uint64_t sig_errors;    /* signature files that did not load */
	uint64_t bytes_read;    /* sizes of the scanned files */
	uint64_t bytes_scanned; /* bytes through the stages, all layers */
	uint64_t cached;        /* results from the verdict cache */
} vg_stats;

typedef struct vg_out vg_out;

/* NULL when out of memory. */
vg_out *vg_out_new(const vg_out_opts *opts);
void vg_out_free(vg_out *o);

/* One scanned file. */
void vg_out_result(vg_out *o, const char *path, const vigil_result *r);
/* A path that could not be read or scanned; message says why. */
void vg_out_error(vg_out *o, const char *path, vigil_error code,
                  const char *message);
/* A signature file that did not load; message names it and says why. */
void vg_out_sig_error(vg_out *o, const char *path, vigil_error code,
                      const char *message);
/* A path that is not scanned, and why (not an error). */
void vg_out_skipped(vg_out *o, const char *path, const char *reason);
/* A file a limit kept from being read (over --max-filesize): counted
 * as INCOMPLETE and as skipped; limit is the finding name. */
void vg_out_limit_skipped(vg_out *o, const char *path, const char *limit,
                          const char *reason);
/* A directory read by the walker. */
void vg_out_dir(vg_out *o);

void vg_out_stats(vg_out *o, vg_stats *snapshot);

/*
 * Draws line as the progress line on stderr (NULL wipes it). Other
 * output wipes it first, so the caller just redraws on its next tick.
 */
void vg_out_progress(vg_out *o, const char *line);

/* The exit code the counts call for (see cli.h and doc/vigil.1). */
int vg_out_exit_code(vg_out *o);

/* The summary block (text) or object (JSON), if asked for; flushes. */
void vg_out_summary(vg_out *o, double seconds, uint64_t signatures);

#endif /* VIGIL_CLI_OUTPUT_H */
