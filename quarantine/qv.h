/*
 * qv.h - quarantine internals shared by the files of quarantine/
 * (never installed). Prefix vg_q for the handle and vault, vg_item for
 * item files, vg_qrecord for records.
 *
 * On disk, a vault directory (mode 0700, owned by the effective user):
 *
 *   key            32 random bytes, mode 0600, made on first use
 *   lock           empty; flock()ed while creating temporaries, sweeping
 *                  and rewriting the allowlist
 *   ID.vq          one item (format in item.c)
 *   .tmp-ID        an item being written, flock()ed by its writer; one
 *                  nobody holds is left from a dead writer and is swept
 */
#ifndef VIGIL_QUARANTINE_QV_H
#define VIGIL_QUARANTINE_QV_H

#include <stdint.h>
#include <sys/stat.h>

#include "vigil/quarantine.h"

#define VG_Q_MAGIC 0x56475154u /* "VGQT" */
#define VG_Q_ERRMSG_MAX 1024
#define VG_Q_KEY_BYTES 32
#define VG_Q_ITEM_SUFFIX ".vq"
#define VG_Q_TMP_PREFIX ".tmp-"

struct vigil_quarantine {
	uint32_t magic;
	char *dir;
	char *agent;
	uint64_t max_size;     /* 0: no cap */
	int dfd;               /* the vault, -1 until opened */
	uint8_t key[VG_Q_KEY_BYTES];
	char errmsg[VG_Q_ERRMSG_MAX];
};

/* Records a message for vigil_quarantine_last_error and returns err. */
vigil_error vg_q_fail(vigil_quarantine *q, vigil_error err, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));
/* Same, from an errno value: ENOSPC and EDQUOT give VIGIL_EFULL. */
vigil_error vg_q_fail_errno(vigil_quarantine *q, int errnum, const char *fmt,
                            ...) __attribute__((format(printf, 3, 4)));

/* 1 for a usable handle. */
int vg_q_ok(const vigil_quarantine *q);

/* Opens and checks the vault once per handle (vigil_quarantine_check). */
vigil_error vg_q_open(vigil_quarantine *q);

/* The vault's lock, held exclusively: a descriptor to pass to
 * vg_q_unlock, or -1 after recording why. */
int vg_q_lock(vigil_quarantine *q);
void vg_q_unlock(int lockfd);

/* Sum of the sizes of item and temporary files, and the item count. */
vigil_error vg_q_usage(vigil_quarantine *q, uint64_t *bytes, uint64_t *items);

/* 1 if s is a full item ID (16 lower-case hex digits). */
int vg_q_is_id(const char *s);

/* A descriptor for fdopendir on the vault (its own offset), or -1. */
int vg_q_dir_stream_fd(const vigil_quarantine *q);

/* mkdir -p of path's parent directories (mode 0755); 0 or -1. */
int vg_q_make_parents(const char *path);

/* Syncs a directory; 0 or -1 with errno. */
int vg_q_fsync_dir(int dfd);

/* A test build's hook, called at named points of an action ("unlink"
 * right before the original is removed). NULL outside tests. */
extern void (*vg_q_test_hook)(const char *point);

#endif /* VIGIL_QUARANTINE_QV_H */
