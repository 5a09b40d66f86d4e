/*
 * update_install.h - files of `vigil update` that must survive a crash
 * at any instant: written to a temporary name in the same directory,
 * synced, renamed, and the directory synced.
 */
#ifndef VIGIL_CLI_UPDATE_INSTALL_H
#define VIGIL_CLI_UPDATE_INSTALL_H

#include <stddef.h>

/* Writes a whole file atomically (mode for the new file). 0 or -1. */
int vg_cli_write_atomic(const char *path, const void *data, size_t n,
                        unsigned mode);

/* fsync of the directory holding path. 0 or -1. */
int vg_cli_sync_parent(const char *path);

/*
 * Puts the verified download at part in place of current, keeping the
 * bundle installed until now as prev (a hard link, so current is never
 * missing): at every instant current is the old or the new bundle.
 * 0, or -1 with errno.
 */
int vg_update_install(const char *current, const char *prev,
                      const char *part);

/* Swaps current and prev, atomically for current. 0 or -1 (errno). */
int vg_update_swap(const char *current, const char *prev);

#endif
