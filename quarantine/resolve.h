/*
 * resolve.h - finding the directory that holds a file we act on,
 * without following a symbolic link out of the scanned tree.
 */
#ifndef VIGIL_QUARANTINE_RESOLVE_H
#define VIGIL_QUARANTINE_RESOLVE_H

#include <stddef.h>

#include "vigil/vigil.h"

/*
 * Opens the directory holding path, which must be root itself (a file
 * scanned on its own) or lie below root. root is opened as given (the
 * user named it); below it no symbolic link is followed and no "." or
 * ".." component is accepted. *name points into path at the last
 * component. Errors, with why: VIGIL_EUNSAFE (outside root, "..", a
 * symbolic link on the way), VIGIL_ECHANGED (a directory on the way is
 * gone), or an errno-mapped code.
 */
vigil_error vg_resolve_parent(const char *root, const char *path, int *dirfd,
                              const char **name, char *why, size_t whylen);

/* Opens the directory part of path as given (symbolic links followed);
 * *name points at the last component. */
vigil_error vg_open_parent(const char *path, int *dirfd, const char **name,
                           char *why, size_t whylen);

/* The absolute path of an open directory (malloc'd), from the kernel's
 * name for it; NULL if unknown. */
char *vg_dir_path(int dirfd);

#endif /* VIGIL_QUARANTINE_RESOLVE_H */
