/*
 * meta.h - a file's metadata for the vault: what is saved with an item
 * and put back on restore (owner, mode, times, extended attributes,
 * which include POSIX ACLs as system.posix_acl_*).
 */
#ifndef VIGIL_QUARANTINE_META_H
#define VIGIL_QUARANTINE_META_H

#include <sys/stat.h>

#include "quarantine/record.h"

/* Fills the record's owner, mode, times, identity and extended
 * attributes from an open file. 0, or -1 with errno (E2BIG: more
 * attributes than a record holds). */
int vg_meta_read(int fd, const struct stat *st, vg_qrecord *r);

/* Puts the record's owner, extended attributes, mode and times on an
 * open file, in the order that keeps each (a chown clears set-user-ID
 * bits and file capabilities). 0, or -1 with errno and *what naming the
 * step that failed. */
int vg_meta_apply(int fd, const vg_qrecord *r, const char **what);

#endif /* VIGIL_QUARANTINE_META_H */
