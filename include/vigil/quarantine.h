/*
 * quarantine.h - remediation in libvigil: acting on a detection
 * (quarantine or remove) under safety rules, and the quarantine vault
 * (list, show, restore, delete, purge, allowlist a false positive).
 *
 *   vigil_quarantine_new -> vigil_quarantine_set_* -> (scan a file
 *   descriptor with vigil_scan_fd) -> vigil_quarantine_act with that
 *   descriptor and its result -> vigil_quarantine_free
 *
 * The vault is a directory (default VIGIL_DEFAULT_VAULT_DIR of the
 * build, /var/lib/vigil/quarantine) owned by the user running vigil,
 * mode 0700. Each item is one file: the payload encrypted with the
 * vault's key (libsodium secretstream, XChaCha20-Poly1305), so it cannot
 * run or match another scanner's signatures, and an encrypted JSON record
 * of where it came from (path bytes, owner, mode, times, extended
 * attributes and ACLs, findings, when and by what). Items are written to
 * a temporary file, synced, renamed and the directory synced: the
 * original is removed only once the item is durable. See libvigil(3).
 *
 * Threads: a vigil_quarantine handle is used by one thread at a time
 * (like a vigil_scanner); make one per thread. Any number of handles and
 * processes may share a vault: they coordinate through a lock file.
 */
#ifndef VIGIL_QUARANTINE_H
#define VIGIL_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/vigil.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vigil_quarantine vigil_quarantine;
typedef struct vigil_quarantine_item vigil_quarantine_item;

/* An item's ID: 16 lower-case hex digits, plus the NUL. */
#define VIGIL_QUARANTINE_ID_SIZE 17

/* Default cap on the vault's size, in bytes of item files: 2 GiB, the
 * default VIGIL_LIMIT_MAX_FILESIZE, so any file vigil scans fits an
 * empty vault. */
#define VIGIL_QUARANTINE_DEFAULT_MAX_SIZE (2ull << 30)

/*
 * The vault and allowlist paths this library was built with
 * (./configure --with-vault-dir, --with-allowlist). Static storage.
 */
VIGIL_API const char *vigil_quarantine_default_dir(void);
VIGIL_API const char *vigil_quarantine_default_allowlist(void);

/*
 * A handle on the vault in dir (NULL: the default). Nothing is touched
 * on disk until a call needs the vault; vigil_quarantine_check opens it
 * at once. Free with vigil_quarantine_free. VIGIL_ENOMEM.
 */
VIGIL_API vigil_error vigil_quarantine_new(const char *dir,
                                           vigil_quarantine **out);
/* Frees a handle. Accepts NULL. */
VIGIL_API void vigil_quarantine_free(vigil_quarantine *q);

/* The vault directory of the handle. Lives as long as the handle. */
VIGIL_API const char *vigil_quarantine_dir(const vigil_quarantine *q);

/* Caps the vault's size (bytes of all item files; 0: no cap). Default
 * VIGIL_QUARANTINE_DEFAULT_MAX_SIZE. */
VIGIL_API vigil_error vigil_quarantine_set_max_size(vigil_quarantine *q,
                                                    uint64_t bytes);

/* Who is acting, written in each record ("vigild 0.1.0"); copied.
 * Default "libvigil VERSION". */
VIGIL_API vigil_error vigil_quarantine_set_agent(vigil_quarantine *q,
                                                 const char *agent);

/*
 * Opens the vault: creates it (and missing parents, mode 0755) if it
 * does not exist, refuses it (VIGIL_EVAULT) unless it is a directory
 * owned by the effective user with mode 0700, makes the key on first
 * use, and removes temporary files left by writers that died. Call it
 * at start-up to fail early; every vault call does it when needed.
 */
VIGIL_API vigil_error vigil_quarantine_check(vigil_quarantine *q);

/* Bytes and items in the vault now. */
VIGIL_API vigil_error vigil_quarantine_usage(vigil_quarantine *q,
                                             uint64_t *bytes,
                                             uint64_t *items);

/* The message of the last failed call on this handle, or "". Lives
 * until the next call on the handle. */
VIGIL_API const char *vigil_quarantine_last_error(const vigil_quarantine *q);

/* ------------------------------------------------------------------ */
/* Acting on a detection                                               */
/* ------------------------------------------------------------------ */

typedef enum vigil_action {
	VIGIL_ACTION_REPORT = 0,     /* nothing; the call only checks */
	VIGIL_ACTION_QUARANTINE = 1, /* into the vault, then unlink */
	VIGIL_ACTION_REMOVE = 2      /* unlink, no copy kept */
} vigil_action;

/*
 * Acts on one scanned file. fd is the descriptor that was scanned
 * (vigil_scan_fd), result its result, path the name it was reached by
 * and root the scan root that path was found under (a directory, or the
 * file itself when a single file was scanned).
 *
 * Safety rules, checked in this order; nothing is changed when one
 * fails:
 * - the verdict must be MALICIOUS or SUSPICIOUS (VIGIL_ENODETECTION):
 *   INCOMPLETE alone is never acted on;
 * - path must be root or lie below it, with no "." or ".." component
 *   below root, and fd a regular file (VIGIL_EUNSAFE / VIGIL_ENOTREG);
 * - the directory holding the file is opened beneath root following no
 *   symbolic link (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or
 *   O_NOFOLLOW one component at a time), and the name must not be a
 *   symbolic link (VIGIL_EUNSAFE);
 * - the name must still refer to fd's file, same device and inode
 *   (VIGIL_ECHANGED).
 * QUARANTINE then copies fd's bytes into the vault and checks they are
 * the bytes that were scanned (the result's SHA-256, and fd's size and
 * times unchanged: else VIGIL_ECHANGED); the item is made durable
 * before anything else happens. Right before the unlink the name is
 * checked again against fd's device and inode; a file swapped in
 * between is left alone (VIGIL_ECHANGED) and the item is withdrawn.
 * If the unlink fails (read-only file system, immutable file) the item
 * is withdrawn too: the vault keeps only files that left their place.
 *
 * On VIGIL_OK with QUARANTINE, id (if not NULL) receives the item's ID.
 * Errors: also VIGIL_EVAULT, VIGIL_EFULL, VIGIL_EIO, VIGIL_EACCES; the
 * handle's last error says what and where.
 */
VIGIL_API vigil_error vigil_quarantine_act(vigil_quarantine *q,
                                           vigil_action action, int fd,
                                           const char *root,
                                           const char *path,
                                           const vigil_result *result,
                                           char id[VIGIL_QUARANTINE_ID_SIZE]);

/* ------------------------------------------------------------------ */
/* The vault's items                                                   */
/* ------------------------------------------------------------------ */

/*
 * Calls cb for every item, oldest first. An item whose record fails its
 * checks is passed too, with vigil_quarantine_item_error set, so a
 * damaged vault is seen, not hidden. The item lives until cb returns.
 * cb returns VIGIL_CONTINUE or VIGIL_STOP.
 */
typedef int (*vigil_quarantine_cb)(const vigil_quarantine_item *item,
                                   void *userdata);
VIGIL_API vigil_error vigil_quarantine_list(vigil_quarantine *q,
                                            vigil_quarantine_cb cb,
                                            void *userdata);

/*
 * The item with this ID, or with this unique ID prefix of at least 4
 * digits (VIGIL_ENOENT if none, VIGIL_EINVAL if several). Its record
 * is read and authenticated (VIGIL_EVAULT if damaged). Free with
 * vigil_quarantine_item_free.
 */
VIGIL_API vigil_error vigil_quarantine_get(vigil_quarantine *q,
                                           const char *id,
                                           vigil_quarantine_item **out);
/* Frees an item from vigil_quarantine_get. Accepts NULL. */
VIGIL_API void vigil_quarantine_item_free(vigil_quarantine_item *item);

/* Item accessors. Strings live as long as the item. */
VIGIL_API const char *vigil_quarantine_item_id(const vigil_quarantine_item *item);
/* VIGIL_OK, or why the item is damaged (then only the ID is valid). */
VIGIL_API vigil_error vigil_quarantine_item_error(const vigil_quarantine_item *item);
/* The original path, as bytes (any bytes but NUL; *len may be NULL). */
VIGIL_API const char *vigil_quarantine_item_path(const vigil_quarantine_item *item,
                                                 size_t *len);
VIGIL_API uint64_t vigil_quarantine_item_size(const vigil_quarantine_item *item);
/* Lower-case hex SHA-256 of the original bytes. */
VIGIL_API const char *vigil_quarantine_item_sha256(const vigil_quarantine_item *item);
/* When it was quarantined, in nanoseconds since the epoch. */
VIGIL_API int64_t vigil_quarantine_item_time_ns(const vigil_quarantine_item *item);
/* The name of its most severe finding, and that finding's verdict. */
VIGIL_API const char *vigil_quarantine_item_threat(const vigil_quarantine_item *item);
VIGIL_API vigil_verdict vigil_quarantine_item_verdict(const vigil_quarantine_item *item);
/* The whole record as JSON text (format in libvigil(3)). */
VIGIL_API const char *vigil_quarantine_item_record(const vigil_quarantine_item *item);

/* Replace an existing file when restoring. */
#define VIGIL_RESTORE_FORCE 1u

/*
 * Restores an item to its original path, or to `to` if not NULL: the
 * bytes (decrypted, authenticated, their SHA-256 checked), then owner,
 * group, extended attributes and ACLs, mode and access and modification
 * times, exactly, into a temporary file beside the target that is synced
 * and renamed into place; then the item leaves the vault. An existing
 * target is VIGIL_EEXIST unless flags has VIGIL_RESTORE_FORCE. The
 * original path's directories must exist and be no symbolic links
 * (VIGIL_EUNSAFE; `to` is taken as given). On any error the item stays
 * in the vault and no partial file is left.
 */
VIGIL_API vigil_error vigil_quarantine_restore(vigil_quarantine *q,
                                               const char *id,
                                               const char *to,
                                               unsigned flags);

/*
 * Adds the item's SHA-256 and size to a ClamAV-format allowlist
 * (allowlist, NULL: the default), which vigil scans load, so the false
 * positive does not come back. The file is rewritten atomically and
 * created mode 0644 if missing; an entry already there is not repeated.
 */
VIGIL_API vigil_error vigil_quarantine_allow(vigil_quarantine *q,
                                             const char *id,
                                             const char *allowlist);

/* Deletes an item for good. */
VIGIL_API vigil_error vigil_quarantine_delete(vigil_quarantine *q,
                                              const char *id);

/*
 * Deletes every item quarantined before `before` (nanoseconds since the
 * epoch); *deleted (if not NULL) gets their number. Damaged items are
 * left for an admin to look at (delete them by ID).
 */
VIGIL_API vigil_error vigil_quarantine_purge(vigil_quarantine *q,
                                             int64_t before,
                                             uint64_t *deleted);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_QUARANTINE_H */
