/*
 * bundle_sig.c - keys and signatures of bundles (libsodium): Ed25519
 * over a BLAKE2b-512 digest of the whole file before the signature
 * block, checked against a trust store of public key files.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/bundle.h"
#include "engine/bytes.h"
#include "vigil/bundle.h"

#define KEY_FILE_MAX 4096
#define PUBLIC_TAG "vigil-ed25519-public "
#define SECRET_TAG "vigil-ed25519-secret "

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_result = -1;

static void sodium_start(void)
{
	sodium_result = sodium_init() < 0 ? -1 : 0;
}

int vg_sodium_ready(void)
{
	pthread_once(&sodium_once, sodium_start);
	return sodium_result;
}

static vg_bundle_status failf(char *why, size_t len, vg_bundle_status st,
                              const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static vg_bundle_status failf(char *why, size_t len, vg_bundle_status st,
                              const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return st;
}

void vg_key_id(const uint8_t pk[32], char out[17])
{
	sodium_bin2hex(out, 17, pk, 8);
}

/* ------------------------------------------------------------------ */
/* Key files: a comment line, then "TAG HEX"                           */
/* ------------------------------------------------------------------ */

static int read_key_file(const char *path, const char *tag, uint8_t *key,
                         size_t keylen, char *why, size_t whylen)
{
	char buf[KEY_FILE_MAX + 1];
	size_t n = 0, hexlen = 2 * keylen, binlen = 0;
	const char *p, *end;
	ssize_t got;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		failf(why, whylen, VG_BUNDLE_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (n < KEY_FILE_MAX &&
	       (got = read(fd, buf + n, KEY_FILE_MAX - n)) > 0)
		n += (size_t)got;
	close(fd);
	buf[n] = '\0';
	/* the tag at the start of a line */
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, tag, strlen(tag)))
			break;
	if (!p || !*p) {
		failf(why, whylen, VG_BUNDLE_MALFORMED, "%s: not a vigil %s key",
		      path, strcmp(tag, PUBLIC_TAG) == 0 ? "public" : "secret");
		return -1;
	}
	p += strlen(tag);
	end = p + strcspn(p, " \t\r\n");
	if ((size_t)(end - p) != hexlen ||
	    sodium_hex2bin(key, keylen, p, hexlen, NULL, &binlen, NULL) != 0 ||
	    binlen != keylen) {
		failf(why, whylen, VG_BUNDLE_MALFORMED, "%s: key is not %zu hex "
		      "digits", path, hexlen);
		return -1;
	}
	return 0;
}

int vg_key_read_public(const char *path, uint8_t pk[32], char *why,
                       size_t whylen)
{
	return read_key_file(path, PUBLIC_TAG, pk, 32, why, whylen);
}

int vg_key_read_secret(const char *path, uint8_t sk[64], char *why,
                       size_t whylen)
{
	int r = read_key_file(path, SECRET_TAG, sk, 64, why, whylen);
	uint8_t pk[32];

	/* a damaged secret key would sign bundles nobody can verify */
	if (r == 0 && (crypto_sign_ed25519_sk_to_pk(pk, sk) != 0 ||
	               sodium_memcmp(pk, sk + 32, 32) != 0)) {
		failf(why, whylen, VG_BUNDLE_MALFORMED, "%s: damaged secret key",
		      path);
		sodium_memzero(sk, 64);
		return -1;
	}
	return r;
}

/* Writes a new file, never replacing one. */
static int write_new(const char *path, const char *text, mode_t mode)
{
	size_t n = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, text, n);
	if (w != (ssize_t)n || fsync(fd) != 0) {
		int e = w < 0 ? errno : EIO;
		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	return close(fd);
}

VIGIL_API vigil_error vigil_key_generate(const char *secret_path,
                                         const char *public_path)
{
	uint8_t pk[32], sk[64];
	char id[17], text[512], hex[129];

	if (!secret_path || !public_path)
		return VIGIL_EINVAL;
	if (vg_sodium_ready() != 0)
		return VIGIL_EINTERNAL;
	crypto_sign_keypair(pk, sk);
	vg_key_id(pk, id);
	sodium_bin2hex(hex, sizeof hex, sk, 64);
	snprintf(text, sizeof text,
	         "# vigil secret key %s: signs bundles; keep it private\n"
	         SECRET_TAG "%s\n", id, hex);
	sodium_memzero(sk, sizeof sk);
	if (write_new(secret_path, text, 0600) != 0) {
		int e = errno;
		sodium_memzero(text, sizeof text);
		errno = e;
		return vg_error_from_errno(e);
	}
	sodium_memzero(text, sizeof text);
	sodium_bin2hex(hex, sizeof hex, pk, 32);
	snprintf(text, sizeof text,
	         "# vigil public key %s: put it in a trust store to accept "
	         "its bundles\n" PUBLIC_TAG "%s\n", id, hex);
	if (write_new(public_path, text, 0644) != 0) {
		int e = errno;
		unlink(secret_path);
		errno = e;
		return vg_error_from_errno(e);
	}
	return VIGIL_OK;
}

/* ------------------------------------------------------------------ */
/* Digests and signatures                                              */
/* ------------------------------------------------------------------ */

int vg_bundle_message(const vg_bundle *b, uint8_t msg[VG_BUNDLE_MSG_LEN])
{
	const size_t ctx = sizeof VG_BUNDLE_SIG_CONTEXT - 1;
	uint64_t len = b->file_size - VG_BUNDLE_TRAILER_SIZE, off = 0;
	crypto_generichash_state st;
	uint8_t *buf = NULL;

	crypto_generichash_init(&st, NULL, 0, 64);
	if (b->fd < 0) {
		crypto_generichash_update(&st, b->image, len);
	} else {
		/* through read(): hashing a mapping would make all of it
		 * resident in this process */
		const size_t bs = 1 << 18;
		if (!(buf = malloc(bs)))
			return -1;
		while (off < len) {
			size_t want = len - off < bs ? (size_t)(len - off) : bs;
			ssize_t got = pread(b->fd, buf, want, (off_t)off);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				if (got == 0)
					errno = EIO;
				free(buf);
				return -1;
			}
			crypto_generichash_update(&st, buf, (size_t)got);
			off += (uint64_t)got;
		}
		free(buf);
	}
	memcpy(msg, VG_BUNDLE_SIG_CONTEXT, ctx);
	crypto_generichash_final(&st, msg + ctx, 64);
	return 0;
}

/* 1 when a *.pub file of dir holds pk; -1 when dir cannot be read. */
static int trusted(const char *dir, const uint8_t pk[32], char *why,
                   size_t whylen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;

	if (!d) {
		failf(why, whylen, VG_BUNDLE_UNTRUSTED, "trust store %s: %s", dir,
		      strerror(errno));
		return -1;
	}
	while (!found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char path[4096];
		uint8_t key[32];
		if (n < 5 || strcmp(de->d_name + n - 4, ".pub") != 0)
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name)
		    >= sizeof path)
			continue;
		/* a damaged key file cannot vouch for anything: skipped */
		if (vg_key_read_public(path, key, NULL, 0) == 0 &&
		    sodium_memcmp(key, pk, 32) == 0)
			found = 1;
	}
	closedir(d);
	return found;
}

vg_bundle_status vg_bundle_verify(const vg_bundle *b, const char *trust_dir,
                                  char *why, size_t whylen)
{
	uint8_t msg[VG_BUNDLE_MSG_LEN];
	char id[17];
	int t;

	if (vg_sodium_ready() != 0)
		return failf(why, whylen, VG_BUNDLE_NOMEM, "libsodium cannot start");
	if (b->sig_alg == VG_BUNDLE_UNSIGNED)
		return failf(why, whylen, VG_BUNDLE_NOT_SIGNED,
		             "bundle is not signed (sign it with 'vigil sig sign', "
		             "or allow unsigned bundles for development)");
	if (vg_bundle_message(b, msg) != 0)
		return failf(why, whylen, VG_BUNDLE_IO, "cannot read: %s",
		             strerror(errno));
	vg_key_id(b->pubkey, id);
	/* first the signature by the key it names, so any changed byte,
	 * the key field included, reads as a bad signature */
	if (crypto_sign_verify_detached(b->signature, msg, sizeof msg,
	                                b->pubkey) != 0)
		return failf(why, whylen, VG_BUNDLE_BAD_SIGNATURE,
		             "bad signature: the bundle was changed after key %s "
		             "signed it", id);
	if ((t = trusted(trust_dir, b->pubkey, why, whylen)) < 0)
		return VG_BUNDLE_UNTRUSTED;
	if (!t)
		return failf(why, whylen, VG_BUNDLE_UNTRUSTED,
		             "signed by key %s, which is not in the trust store %s",
		             id, trust_dir);
	return VG_BUNDLE_OK;
}

int vg_bundle_tail_tampered(const vg_bundle *b, char id[17])
{
	const size_t ts = VG_BUNDLE_TRAILER_SIZE;
	uint8_t msg[VG_BUNDLE_MSG_LEN];
	uint32_t alg;
	vg_bundle t;

	if (!b->image || b->size < VG_BUNDLE_HEADER_SIZE + ts ||
	    !vg_match(b->image, b->size, b->size - ts, VG_BUNDLE_SIG_MAGIC, 8) ||
	    !vg_u32le(b->image, b->size, b->size - ts + 8, &alg) ||
	    alg != VG_BUNDLE_ED25519 || vg_sodium_ready() != 0)
		return 0;
	t = *b;
	t.file_size = b->size;
	memcpy(t.pubkey, b->image + b->size - ts + 16, 32);
	memcpy(t.signature, b->image + b->size - ts + 48, 64);
	vg_key_id(t.pubkey, id);
	if (vg_bundle_message(&t, msg) != 0)
		return 0;
	return crypto_sign_verify_detached(t.signature, msg, sizeof msg,
	                                   t.pubkey) != 0;
}

/* BLAKE2b-256 of a part, through read() when there is a descriptor
 * (as for the signature: the mapping stays cold). */
static int part_digest(const vg_bundle *b, const vg_bundle_part *p,
                       uint8_t d[VG_BUNDLE_DIGEST_LEN])
{
	crypto_generichash_state st;
	const size_t bs = 1 << 18;
	uint64_t off = 0;
	uint8_t *buf;

	if (b->fd < 0)
		return crypto_generichash(d, VG_BUNDLE_DIGEST_LEN, p->data, p->size,
		                          NULL, 0);
	if (!(buf = malloc(bs)))
		return -1;
	crypto_generichash_init(&st, NULL, 0, VG_BUNDLE_DIGEST_LEN);
	while (off < p->size) {
		size_t want = p->size - off < bs ? (size_t)(p->size - off) : bs;
		ssize_t got = pread(b->fd, buf, want, (off_t)(p->offset + off));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				errno = EIO;
			free(buf);
			return -1;
		}
		crypto_generichash_update(&st, buf, (size_t)got);
		off += (uint64_t)got;
	}
	free(buf);
	return crypto_generichash_final(&st, d, VG_BUNDLE_DIGEST_LEN);
}

vg_bundle_status vg_bundle_check_parts(const vg_bundle *b, char *why,
                                       size_t whylen)
{
	uint8_t d[VG_BUNDLE_DIGEST_LEN];

	if (vg_sodium_ready() != 0)
		return failf(why, whylen, VG_BUNDLE_NOMEM, "libsodium cannot start");
	for (uint32_t i = 0; i < b->nparts; i++) {
		const vg_bundle_part *p = &b->parts[i];
		if (part_digest(b, p, d) != 0)
			return failf(why, whylen, VG_BUNDLE_IO, "cannot read: %s",
			             strerror(errno));
		if (sodium_memcmp(d, p->digest, sizeof d) != 0)
			return failf(why, whylen, VG_BUNDLE_BAD_PART,
			             "part %u (%s): digest does not match its data",
			             i, p->name);
	}
	return VG_BUNDLE_OK;
}

vigil_error vg_bundle_sign_file(const vg_bundle *b, const char *path,
                                const uint8_t sk[64], char *why,
                                size_t whylen)
{
	uint8_t msg[VG_BUNDLE_MSG_LEN], *copy;
	size_t tail = (size_t)b->file_size - VG_BUNDLE_TRAILER_SIZE;
	int rc;

	if (vg_bundle_message(b, msg) != 0) {
		failf(why, whylen, VG_BUNDLE_IO, "cannot read: %s", strerror(errno));
		return VIGIL_EIO;
	}
	if (!(copy = malloc(b->file_size))) {
		failf(why, whylen, VG_BUNDLE_NOMEM, "out of memory");
		return VIGIL_ENOMEM;
	}
	memcpy(copy, b->image, b->file_size);
	memset(copy + tail, 0, VG_BUNDLE_TRAILER_SIZE);
	memcpy(copy + tail, VG_BUNDLE_SIG_MAGIC, 8);
	copy[tail + 8] = VG_BUNDLE_ED25519;
	memcpy(copy + tail + 16, sk + 32, 32);
	crypto_sign_detached(copy + tail + 48, NULL, msg, sizeof msg, sk);
	/* the copy was made from the same bytes that were hashed only if
	 * nobody changed the file meanwhile: check it before installing */
	rc = crypto_sign_verify_detached(copy + tail + 48, msg, sizeof msg,
	                                 sk + 32);
	if (rc == 0) {
		uint8_t again[VG_BUNDLE_MSG_LEN];
		vg_bundle mem = *b;
		mem.fd = -1;
		mem.image = copy;
		rc = vg_bundle_message(&mem, again) != 0 ||
		     memcmp(again, msg, sizeof msg) != 0;
	}
	if (rc != 0) {
		free(copy);
		failf(why, whylen, VG_BUNDLE_IO, "the file changed while signing");
		return VIGIL_EIO;
	}
	rc = vg_write_atomic(path, copy, b->file_size, 0644);
	free(copy);
	if (rc != 0) {
		failf(why, whylen, VG_BUNDLE_IO, "cannot write: %s", strerror(errno));
		return vg_error_from_errno(errno);
	}
	return VIGIL_OK;
}
