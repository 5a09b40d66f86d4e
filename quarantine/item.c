/*
 * item.c - one vault item per file (see item.h). Layout, integers
 * little-endian:
 *
 *   0     "VIGILQ\0\1"
 *   8     secretstream header of the payload (24 bytes)
 *   32    payload: chunks of 65536 plaintext bytes + 17, the last one
 *         (possibly empty) shorter or equal and tagged FINAL
 *   R     secretstream header of the record (24 bytes)
 *   R+24  the record, one message tagged FINAL (JSON + 17 bytes)
 *   end   trailer: u64 R, u32 record ciphertext length, "VQT1"
 *
 * Both streams use the vault key and the item ID as additional data,
 * so an item renamed to another ID, cut short, or changed by one bit
 * fails authentication. The record sits at the end because it holds the
 * SHA-256 of bytes read only once; the trailer lets `list` reach it
 * without reading the payload.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/bytes.h"
#include "engine/vg.h"
#include "quarantine/item.h"
#include "quarantine/record.h"

#define HEAD (VG_ITEM_MAGIC_LEN + VG_ITEM_SS_HEADER)
#define CT_CHUNK (VG_ITEM_CHUNK + VG_ITEM_SS_ABYTES)
#define AD_LEN (VIGIL_QUARANTINE_ID_SIZE - 1)

typedef crypto_secretstream_xchacha20poly1305_state ss_state;

uint64_t vg_item_overhead(uint64_t size)
{
	uint64_t chunks = size / VG_ITEM_CHUNK + 1;

	return HEAD + chunks * VG_ITEM_SS_ABYTES + VG_ITEM_SS_HEADER +
	       VG_ITEM_SS_ABYTES + VG_ITEM_TRAILER_LEN;
}

/* pread until len bytes or the end; returns bytes read or -1. */
static ssize_t read_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, p + got, len - got, (off_t)(off + got));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void item_name(char *buf, size_t size, const char *id)
{
	snprintf(buf, size, "%s%s", id, VG_Q_ITEM_SUFFIX);
}

/* ---- writing --------------------------------------------------- */

static void new_id(vigil_quarantine *q, char id[VIGIL_QUARANTINE_ID_SIZE])
{
	uint8_t r[8];
	char name[64];

	do {
		randombytes_buf(r, sizeof r);
		sodium_bin2hex(id, VIGIL_QUARANTINE_ID_SIZE, r, sizeof r);
		item_name(name, sizeof name, id);
	} while (faccessat(q->dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0);
}

static char *human(uint64_t n, char *buf, size_t size)
{
	static const char units[] = "BKMGT";
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, size, "%.1f %ciB", v, units[u]);
	return buf;
}

vigil_error vg_item_begin(vigil_quarantine *q, uint64_t reserve,
                          vg_item_writer *w)
{
	uint64_t used;
	vigil_error err;
	char a[32], b[32], c[32];
	int lockfd;

	w->fd = -1;
	w->off = 0;
	if ((lockfd = vg_q_lock(q)) < 0)
		return vg_error_from_errno(errno);
	if ((err = vg_q_usage(q, &used, NULL)) != VIGIL_OK)
		goto out;
	if (q->max_size && (reserve > q->max_size || used > q->max_size - reserve)) {
		err = vg_q_fail(q, VIGIL_EFULL, "vault %s is full: %s used of a "
		                "%s cap, the item needs %s", q->dir,
		                human(used, a, sizeof a),
		                human(q->max_size, b, sizeof b),
		                human(reserve, c, sizeof c));
		goto out;
	}
	new_id(q, w->id);
	snprintf(w->tmp, sizeof w->tmp, "%s%s", VG_Q_TMP_PREFIX, w->id);
	w->fd = openat(q->dfd, w->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	               O_CLOEXEC, 0600);
	if (w->fd < 0) {
		err = vg_q_fail_errno(q, errno, "vault %s: cannot create an item",
		                      q->dir);
		goto out;
	}
	/* held until the item is renamed: the sweeper leaves it alone; the
	 * size reserves its place against the cap for other writers */
	if (flock(w->fd, LOCK_EX | LOCK_NB) != 0 ||
	    ftruncate(w->fd, (off_t)reserve) != 0) {
		err = vg_q_fail_errno(q, errno, "vault %s: cannot set up an item",
		                      q->dir);
		unlinkat(q->dfd, w->tmp, 0);
		close(w->fd);
		w->fd = -1;
	}
out:
	vg_q_unlock(lockfd);
	return err;
}

static vigil_error write_fail(vigil_quarantine *q, int e)
{
	if (e == ENOSPC || e == EDQUOT)
		return vg_q_fail(q, VIGIL_EFULL, "vault %s: no space left on its "
		                 "file system (%s)", q->dir, strerror(e));
	return vg_q_fail_errno(q, e, "vault %s: cannot write an item", q->dir);
}

static vigil_error put(vigil_quarantine *q, vg_item_writer *w,
                       const void *buf, size_t len)
{
	if (vg_write_full(w->fd, buf, len) != 0)
		return write_fail(q, errno);
	w->off += len;
	return VIGIL_OK;
}

vigil_error vg_item_payload(vigil_quarantine *q, vg_item_writer *w, int srcfd,
                            uint64_t *size, uint8_t sha256[32])
{
	uint8_t head[HEAD];
	uint8_t *in[2] = { NULL, NULL }, *ct = NULL;
	crypto_hash_sha256_state h;
	ss_state st;
	ssize_t n[2];
	uint64_t off = 0;
	vigil_error err = VIGIL_OK;
	int cur = 0;

	in[0] = malloc(VG_ITEM_CHUNK);
	in[1] = malloc(VG_ITEM_CHUNK);
	ct = malloc(CT_CHUNK);
	if (!in[0] || !in[1] || !ct) {
		err = vg_q_fail(q, VIGIL_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(head, VG_ITEM_MAGIC, VG_ITEM_MAGIC_LEN);
	crypto_secretstream_xchacha20poly1305_init_push(&st,
	        head + VG_ITEM_MAGIC_LEN, q->key);
	crypto_hash_sha256_init(&h);
	if ((err = put(q, w, head, sizeof head)) != VIGIL_OK)
		goto out;
	/* one chunk read ahead: the chunk before the end gets TAG_FINAL */
	n[cur] = read_full(srcfd, in[cur], VG_ITEM_CHUNK, off);
	for (;;) {
		unsigned long long clen;
		int last;
		if (n[cur] < 0) {
			err = vg_q_fail_errno(q, errno, "cannot read the file");
			goto out;
		}
		off += (uint64_t)n[cur];
		last = n[cur] < VG_ITEM_CHUNK;
		if (!last) {
			n[!cur] = read_full(srcfd, in[!cur], VG_ITEM_CHUNK, off);
			last = n[!cur] == 0;
		}
		crypto_hash_sha256_update(&h, in[cur], (unsigned long long)n[cur]);
		crypto_secretstream_xchacha20poly1305_push(&st, ct, &clen, in[cur],
		        (unsigned long long)n[cur], (const uint8_t *)w->id, AD_LEN,
		        last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
		             : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
		if ((err = put(q, w, ct, (size_t)clen)) != VIGIL_OK || last)
			break;
		cur = !cur;
	}
	*size = off;
	crypto_hash_sha256_final(&h, sha256);
out:
	sodium_memzero(&st, sizeof st);
	free(in[0]);
	free(in[1]);
	free(ct);
	return err;
}

static void le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

vigil_error vg_item_finish(vigil_quarantine *q, vg_item_writer *w,
                           const char *record, size_t len)
{
	uint8_t head[VG_ITEM_SS_HEADER], trailer[VG_ITEM_TRAILER_LEN], *ct;
	unsigned long long clen;
	uint64_t rec_off = w->off;
	char name[64];
	vigil_error err;
	ss_state st;

	if (len > VG_QRECORD_MAX_BYTES)
		return vg_q_fail(q, VIGIL_EINVAL, "record too large (%zu bytes)", len);
	if (!(ct = malloc(len + VG_ITEM_SS_ABYTES)))
		return vg_q_fail(q, VIGIL_ENOMEM, "out of memory");
	crypto_secretstream_xchacha20poly1305_init_push(&st, head, q->key);
	crypto_secretstream_xchacha20poly1305_push(&st, ct, &clen,
	        (const uint8_t *)record, len, (const uint8_t *)w->id, AD_LEN,
	        crypto_secretstream_xchacha20poly1305_TAG_FINAL);
	sodium_memzero(&st, sizeof st);
	le(trailer, rec_off, 8);
	le(trailer + 8, clen, 4);
	memcpy(trailer + 12, VG_ITEM_TRAILER_MAGIC, 4);
	err = put(q, w, head, sizeof head);
	if (err == VIGIL_OK)
		err = put(q, w, ct, (size_t)clen);
	if (err == VIGIL_OK)
		err = put(q, w, trailer, sizeof trailer);
	free(ct);
	if (err != VIGIL_OK)
		return err;
	/* drop what the reservation left past the end, then make it durable
	 * before its name says it is complete */
	if (ftruncate(w->fd, (off_t)w->off) != 0 || fsync(w->fd) != 0)
		return write_fail(q, errno);
	item_name(name, sizeof name, w->id);
	if (renameat(q->dfd, w->tmp, q->dfd, name) != 0)
		return vg_q_fail_errno(q, errno, "vault %s: cannot store an item",
		                       q->dir);
	if (vg_q_fsync_dir(q->dfd) != 0) {
		int e = errno;
		unlinkat(q->dfd, name, 0);
		return write_fail(q, e);
	}
	close(w->fd);
	w->fd = -1;
	return VIGIL_OK;
}

void vg_item_abort(vigil_quarantine *q, vg_item_writer *w)
{
	if (w->fd < 0)
		return;
	unlinkat(q->dfd, w->tmp, 0);
	close(w->fd);
	w->fd = -1;
}

vigil_error vg_item_remove(vigil_quarantine *q, const char *id)
{
	char name[64];

	item_name(name, sizeof name, id);
	if (unlinkat(q->dfd, name, 0) != 0)
		return vg_q_fail_errno(q, errno, "vault %s: cannot delete item %s",
		                       q->dir, id);
	if (vg_q_fsync_dir(q->dfd) != 0)
		return vg_q_fail_errno(q, errno, "vault %s: cannot sync", q->dir);
	return VIGIL_OK;
}

/* ---- reading --------------------------------------------------- */

int vg_item_open(vigil_quarantine *q, const char *id)
{
	char name[64];
	struct stat st;
	int fd;

	item_name(name, sizeof name, id);
	fd = openat(q->dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			vg_q_fail(q, VIGIL_ENOENT, "no item %s in vault %s", id, q->dir);
		else
			vg_q_fail_errno(q, errno, "vault %s: item %s", q->dir, id);
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		vg_q_fail(q, VIGIL_EVAULT, "vault %s: item %s is not a regular file",
		          q->dir, id);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

#define BAD(...) do { snprintf(why, whylen, __VA_ARGS__); return VIGIL_EVAULT; } while (0)

/* Where the record is: checks the trailer against the file's size. */
static vigil_error layout(int fd, uint64_t *rec_off, uint32_t *clen,
                          char *why, size_t whylen)
{
	uint8_t t[VG_ITEM_TRAILER_LEN], m[VG_ITEM_MAGIC_LEN];
	uint64_t size, off, min_off = HEAD + VG_ITEM_SS_ABYTES;
	uint32_t n;
	struct stat st;

	if (fstat(fd, &st) != 0)
		return VIGIL_EIO;
	size = (uint64_t)st.st_size;
	if (size < min_off + VG_ITEM_SS_HEADER + VG_ITEM_SS_ABYTES +
	           VG_ITEM_TRAILER_LEN)
		BAD("item file too short (%llu bytes)", (unsigned long long)size);
	if (read_full(fd, m, sizeof m, 0) != (ssize_t)sizeof m ||
	    read_full(fd, t, sizeof t, size - sizeof t) != (ssize_t)sizeof t)
		return VIGIL_EIO;
	if (memcmp(m, VG_ITEM_MAGIC, VG_ITEM_MAGIC_LEN) != 0)
		BAD("not a vigil quarantine item");
	if (!vg_u64le(t, sizeof t, 0, &off) || !vg_u32le(t, sizeof t, 8, &n) ||
	    !vg_match(t, sizeof t, 12, VG_ITEM_TRAILER_MAGIC, 4))
		BAD("no item trailer: the item is incomplete");
	if (n < VG_ITEM_SS_ABYTES || n > VG_QRECORD_MAX_BYTES + VG_ITEM_SS_ABYTES)
		BAD("bad record length %u", n);
	/* off + header + n + trailer must be the size, without overflow */
	if (off < min_off || off > size ||
	    size - off != (uint64_t)VG_ITEM_SS_HEADER + n + VG_ITEM_TRAILER_LEN)
		BAD("bad record offset");
	*rec_off = off;
	*clen = n;
	return VIGIL_OK;
}

vigil_error vg_item_read_record(const uint8_t *key, const char *id, int fd,
                                char **json, size_t *len, char *why,
                                size_t whylen)
{
	uint8_t head[VG_ITEM_SS_HEADER], *ct;
	unsigned long long mlen;
	unsigned char tag;
	uint64_t off;
	uint32_t clen;
	char *m;
	ss_state st;
	vigil_error err;
	int bad;

	if ((err = layout(fd, &off, &clen, why, whylen)) != VIGIL_OK)
		return err;
	ct = malloc(clen);
	m = malloc(clen - VG_ITEM_SS_ABYTES + 1);
	if (!ct || !m) {
		free(ct);
		free(m);
		return VIGIL_ENOMEM;
	}
	if (read_full(fd, head, sizeof head, off) != (ssize_t)sizeof head ||
	    read_full(fd, ct, clen, off + sizeof head) != (ssize_t)clen) {
		free(ct);
		free(m);
		return VIGIL_EIO;
	}
	bad = crypto_secretstream_xchacha20poly1305_init_pull(&st, head, key) != 0 ||
	      crypto_secretstream_xchacha20poly1305_pull(&st, (uint8_t *)m, &mlen,
	              &tag, ct, clen, (const uint8_t *)id, AD_LEN) != 0 ||
	      tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL;
	sodium_memzero(&st, sizeof st);
	free(ct);
	if (bad) {
		free(m);
		BAD("record fails authentication (altered, or not this vault's)");
	}
	m[mlen] = '\0';
	*json = m;
	*len = (size_t)mlen;
	return VIGIL_OK;
}

vigil_error vg_item_decrypt(const uint8_t *key, const char *id, int fd,
                            int outfd, uint64_t *size, uint8_t sha256[32],
                            int *out_errno, char *why, size_t whylen)
{
	uint8_t head[VG_ITEM_SS_HEADER], *ct = NULL, *m = NULL;
	crypto_hash_sha256_state h;
	uint64_t rec_off, pos = HEAD, total = 0;
	uint32_t clen;
	ss_state st;
	vigil_error err;

	*out_errno = 0;
	if ((err = layout(fd, &rec_off, &clen, why, whylen)) != VIGIL_OK)
		return err;
	if (read_full(fd, head, sizeof head, VG_ITEM_MAGIC_LEN) !=
	    (ssize_t)sizeof head)
		return VIGIL_EIO;
	if (crypto_secretstream_xchacha20poly1305_init_pull(&st, head, key) != 0)
		BAD("payload header is malformed");
	if (!(ct = malloc(CT_CHUNK)) || !(m = malloc(VG_ITEM_CHUNK))) {
		err = VIGIL_ENOMEM;
		goto out;
	}
	crypto_hash_sha256_init(&h);
	for (;;) {
		uint64_t left = rec_off - pos;
		size_t n = left < CT_CHUNK ? (size_t)left : CT_CHUNK;
		unsigned long long mlen;
		unsigned char tag;
		if (n < VG_ITEM_SS_ABYTES) {
			snprintf(why, whylen, "payload is cut short");
			err = VIGIL_EVAULT;
			goto out;
		}
		if (read_full(fd, ct, n, pos) != (ssize_t)n) {
			err = VIGIL_EIO;
			goto out;
		}
		if (crypto_secretstream_xchacha20poly1305_pull(&st, m, &mlen, &tag,
		        ct, n, (const uint8_t *)id, AD_LEN) != 0) {
			snprintf(why, whylen, "payload fails authentication at byte "
			         "%llu (altered, or not this vault's)",
			         (unsigned long long)pos);
			err = VIGIL_EVAULT;
			goto out;
		}
		pos += n;
		/* FINAL must be the last chunk, and the last chunk FINAL */
		if ((tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) !=
		    (pos == rec_off)) {
			snprintf(why, whylen, "payload is cut short or extended");
			err = VIGIL_EVAULT;
			goto out;
		}
		crypto_hash_sha256_update(&h, m, mlen);
		total += mlen;
		if (outfd >= 0 && vg_write_full(outfd, m, (size_t)mlen) != 0) {
			*out_errno = errno;
			err = VIGIL_EIO;
			goto out;
		}
		if (pos == rec_off)
			break;
	}
	crypto_hash_sha256_final(&h, sha256);
	*size = total;
out:
	sodium_memzero(&st, sizeof st);
	free(ct);
	if (m)
		sodium_memzero(m, VG_ITEM_CHUNK);
	free(m);
	return err;
}
