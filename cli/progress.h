/*
 * progress.h - the progress line of `vigil scan` on a terminal: files,
 * megabytes, rate, and an ETA once a second walk (names only, no file
 * is read or stat'ed where the file system reports entry types) has
 * counted the files. Redrawn five times a second at most.
 */
#ifndef VIGIL_CLI_PROGRESS_H
#define VIGIL_CLI_PROGRESS_H

#include "cli/output.h"
#include "cli/walk.h"

typedef struct vg_progress vg_progress;

/*
 * Starts drawing, and counting the files under roots with the scan's
 * walk options (its stop flag is not used). Returns NULL when threads
 * or memory run out: the scan then goes on without a progress line.
 */
vg_progress *vg_progress_start(vg_out *out, char *const *roots, int nroots,
                               const vg_walk_opts *walk);

/* Stops both threads, wipes the line and frees p. Accepts NULL. */
void vg_progress_stop(vg_progress *p);

#endif /* VIGIL_CLI_PROGRESS_H */
