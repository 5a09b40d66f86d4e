/*
 * item.h - item files of the vault: writing one (a temporary that
 * becomes ID.vq only when complete and synced) and reading one back
 * (every length checked, every byte authenticated).
 */
#ifndef VIGIL_QUARANTINE_ITEM_H
#define VIGIL_QUARANTINE_ITEM_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "quarantine/qv.h"

#define VG_ITEM_CHUNK 65536
#define VG_ITEM_MAGIC "VIGILQ\0\1"
#define VG_ITEM_MAGIC_LEN 8
#define VG_ITEM_TRAILER_MAGIC "VQT1"
#define VG_ITEM_TRAILER_LEN 16
#define VG_ITEM_SS_HEADER crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define VG_ITEM_SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES

typedef struct vg_item_writer {
	int fd;              /* the temporary, flock()ed; -1 when none */
	char id[VIGIL_QUARANTINE_ID_SIZE];
	char tmp[sizeof VG_Q_TMP_PREFIX + VIGIL_QUARANTINE_ID_SIZE];
	uint64_t off;        /* bytes written so far */
} vg_item_writer;

/* Bytes an item of a payload of size bytes takes, record excluded. */
uint64_t vg_item_overhead(uint64_t size);

/*
 * Picks a new ID and creates its temporary, reserving `reserve` bytes
 * against the vault's cap (VIGIL_EFULL if they do not fit). Under the
 * vault lock, so concurrent writers see each other's reservations.
 */
vigil_error vg_item_begin(vigil_quarantine *q, uint64_t reserve,
                          vg_item_writer *w);

/* Encrypts srcfd's bytes from offset 0 to its end; *size and sha256
 * get what was read. */
vigil_error vg_item_payload(vigil_quarantine *q, vg_item_writer *w, int srcfd,
                            uint64_t *size, uint8_t sha256[32]);

/* Appends the encrypted record and the trailer, syncs, renames the
 * temporary to ID.vq and syncs the vault: the item is durable. */
vigil_error vg_item_finish(vigil_quarantine *q, vg_item_writer *w,
                           const char *record, size_t len);

/* Drops an unfinished item. */
void vg_item_abort(vigil_quarantine *q, vg_item_writer *w);

/* Removes a finished item and syncs the vault. */
vigil_error vg_item_remove(vigil_quarantine *q, const char *id);

/* Opens item id's file; -1 after recording why (ENOENT: no such item). */
int vg_item_open(vigil_quarantine *q, const char *id);

/*
 * Reads and authenticates the record of an open item file; *json gets
 * the text (malloc'd, NUL-terminated). VIGIL_EVAULT with why for
 * anything malformed or altered, VIGIL_EIO, VIGIL_ENOMEM.
 */
vigil_error vg_item_read_record(const uint8_t *key, const char *id, int fd,
                                char **json, size_t *len, char *why,
                                size_t whylen);

/*
 * Decrypts and authenticates the payload of an open item file into
 * outfd (or only checks it when outfd is -1); *size and sha256 get the
 * plaintext's. Errors as for vg_item_read_record; a write error on
 * outfd is reported with its errno in *out_errno and VIGIL_EIO.
 */
vigil_error vg_item_decrypt(const uint8_t *key, const char *id, int fd,
                            int outfd, uint64_t *size, uint8_t sha256[32],
                            int *out_errno, char *why, size_t whylen);

#endif /* VIGIL_QUARANTINE_ITEM_H */
