/*
 * walk.h - the directory walker of `vigil scan`: hands every regular
 * file under the roots to a callback, without reading any file.
 *
 * It costs one open and (only with --one-file-system or
 * --follow-symlinks) one fstat per directory, and no stat per file where
 * the file system reports entry types. No directory stays open while
 * its subdirectories are walked, so deep trees do not run out of file
 * descriptors.
 */
#ifndef VIGIL_CLI_WALK_H
#define VIGIL_CLI_WALK_H

#include <stdatomic.h>
#include <stddef.h>

#include "cli/exclude.h"

typedef struct vg_walk_ops {
	/*
	 * A regular file, or whatever a symbolic link on the way resolves
	 * to when nofollow is 0. nofollow is 1 for a file found while
	 * walking when symbolic links are not followed: the consumer should
	 * open it with O_NOFOLLOW. Return 0 to go on, nonzero to stop.
	 */
	int (*file)(void *ud, const char *path, size_t len, int nofollow);
	/* Something that is not scanned, with a reason ("not a regular
	 * file"). May be NULL. */
	void (*skipped)(void *ud, const char *path, const char *reason);
	/* A path that cannot be read: errnum as in errno. May be NULL. */
	void (*error)(void *ud, const char *path, int errnum);
	/* A directory about to be read. May be NULL. */
	void (*dir)(void *ud, const char *path);
} vg_walk_ops;

typedef struct vg_walk_opts {
	int follow_symlinks;    /* follow links found while walking */
	int one_file_system;    /* stay on each root's file system */
	const vg_exclude *exclude;  /* may be NULL */
	const atomic_int *stop;     /* may be NULL; nonzero ends the walk */
} vg_walk_opts;

typedef struct vg_walker vg_walker;

/* NULL when out of memory. ops and opts must outlive the walker. */
vg_walker *vg_walker_new(const vg_walk_opts *opts, const vg_walk_ops *ops,
                         void *ud);
void vg_walker_free(vg_walker *w);

/*
 * Walks one root named on the command line: symbolic links in it are
 * followed, and exclude patterns do not apply to it. Returns 0, 1 when
 * the file callback or the stop flag ended the walk, or -1 when out of
 * memory.
 */
int vg_walker_run(vg_walker *w, const char *root);

#endif /* VIGIL_CLI_WALK_H */
