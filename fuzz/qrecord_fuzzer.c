/*
 * qrecord_fuzzer.c - the quarantine vault's readers of untrusted bytes.
 * The first input byte picks what the rest is:
 *   0: a record's JSON text, to the record parser;
 *   1: a record's JSON text, sealed into an item file the way the
 *      vault writes one (fixed key and ID), then read back through the
 *      item reader (authenticated decryption, payload check) and parsed;
 *   2: a whole item file, to the item reader with the fixed key (the
 *      trailer and length checks; authentication fails on anything not
 *      sealed with that key).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "quarantine/item.h"
#include "quarantine/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define QFUZZ_MAX_INPUT (1u << 20)

static const char id[] = "0123456789abcdef";
static uint8_t key[32];

static int memfd_with(const void *a, size_t alen, const void *b, size_t blen)
{
	int fd = memfd_create("vigil-fuzz", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if ((alen && write(fd, a, alen) != (ssize_t)alen) ||
	    (blen && write(fd, b, blen) != (ssize_t)blen))
		abort();
	return fd;
}

/* An item file holding an empty payload and this record. */
static int seal(const uint8_t *rec, size_t len)
{
	crypto_secretstream_xchacha20poly1305_state st;
	size_t clen = len + VG_ITEM_SS_ABYTES;
	size_t total = VG_ITEM_MAGIC_LEN + 2 * VG_ITEM_SS_HEADER +
	               VG_ITEM_SS_ABYTES + clen + VG_ITEM_TRAILER_LEN;
	uint8_t *b = calloc(1, total), *p = b;
	uint64_t rec_off;
	int fd;

	if (!b)
		abort();
	memcpy(p, VG_ITEM_MAGIC, VG_ITEM_MAGIC_LEN);
	p += VG_ITEM_MAGIC_LEN;
	crypto_secretstream_xchacha20poly1305_init_push(&st, p, key);
	p += VG_ITEM_SS_HEADER;
	crypto_secretstream_xchacha20poly1305_push(&st, p, NULL, NULL, 0,
	        (const uint8_t *)id, 16, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
	p += VG_ITEM_SS_ABYTES;
	rec_off = (uint64_t)(p - b);
	crypto_secretstream_xchacha20poly1305_init_push(&st, p, key);
	p += VG_ITEM_SS_HEADER;
	crypto_secretstream_xchacha20poly1305_push(&st, p, NULL, rec, len,
	        (const uint8_t *)id, 16, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
	p += clen;
	for (int i = 0; i < 8; i++)
		*p++ = (uint8_t)(rec_off >> (8 * i));
	for (int i = 0; i < 4; i++)
		*p++ = (uint8_t)(clen >> (8 * i));
	memcpy(p, VG_ITEM_TRAILER_MAGIC, 4);
	fd = memfd_with(b, total, NULL, 0);
	free(b);
	return fd;
}

static void parse(const char *text, size_t len)
{
	char why[256];
	vg_qrecord r;

	if (vg_qrecord_parse(text, len, &r, why, sizeof why) == VIGIL_OK) {
		/* what the parser promises its callers */
		if (!r.path || r.path[0] != '/' || strlen(r.path) != r.path_len ||
		    strlen(r.sha256) != 64 || r.mode > 07777 || !r.threat ||
		    !r.agent)
			abort();
		for (size_t i = 0; i < r.nxattrs; i++)
			if (!r.xattrs[i].name[0] ||
			    r.xattrs[i].len > VG_QRECORD_XATTR_VALUE_MAX)
				abort();
		vg_qrecord_clear(&r);
	}
}

static void read_item(int fd)
{
	char why[256], *json;
	uint8_t sha[32];
	uint64_t n;
	size_t len;
	int werr;

	if (vg_item_read_record(key, id, fd, &json, &len, why, sizeof why) ==
	    VIGIL_OK) {
		parse(json, len);
		free(json);
	}
	vg_item_decrypt(key, id, fd, -1, &n, sha, &werr, why, sizeof why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd;

	if (size < 1 || size > QFUZZ_MAX_INPUT)
		return 0;
	if (sodium_init() < 0)
		abort();
	memset(key, 0x42, sizeof key);
	switch (data[0] % 3) {
	case 0:
		parse((const char *)data + 1, size - 1);
		break;
	case 1:
		fd = seal(data + 1, size - 1);
		read_item(fd);
		close(fd);
		break;
	default:
		fd = memfd_with(data + 1, size - 1, NULL, 0);
		read_item(fd);
		close(fd);
		break;
	}
	return 0;
}
