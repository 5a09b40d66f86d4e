/*
 * digest.c - XXH3-128, SHA-256, MD5 and SHA-1, each on demand, in one
 * pass.
 *
 * The bytes are walked once in blocks small enough to stay in the CPU's
 * cache, each block fed to every digest in turn, so a large file is read
 * from memory once however many digests it needs. SHA-256 goes through
 * OpenSSL's EVP interface, which uses the CPU's SHA extensions.
 */
#include "config.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <xxhash.h>

#include "engine/digest.h"

#define BLOCK (64 * 1024)

static const EVP_MD *md_sha256, *md_md5, *md_sha1;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

/* Fetch the algorithms once: a fetch per object costs a lock and a
 * table look-up inside libcrypto. */
static void fetch_mds(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

int vg_digest_compute(const uint8_t *data, size_t size, unsigned flags,
                      vg_digest *out)
{
	EVP_MD_CTX *ctx[3] = { NULL, NULL, NULL };
	const EVP_MD *mds[3];
	uint8_t *dst[3] = { out->sha256, out->md5, out->sha1 };
	int want[3] = { !!(flags & VG_DIGEST_SHA256), !!(flags & VG_DIGEST_MD5),
	                !!(flags & VG_DIGEST_SHA1) };
	int xxh = !!(flags & VG_DIGEST_XXH128);
	XXH3_state_t *xs = NULL;
	int rc = -1;

	pthread_once(&md_once, fetch_mds);
	mds[0] = md_sha256;
	mds[1] = md_md5;
	mds[2] = md_sha1;
	out->have = 0;

	/* Small objects (most files) need no streaming state. */
	if (size <= BLOCK) {
		if (xxh) {
			XXH128_hash_t h = XXH3_128bits(data, size);
			out->xxh128[0] = h.low64;
			out->xxh128[1] = h.high64;
		}
		for (int i = 0; i < 3; i++) {
			if (!want[i])
				continue;
			if (!mds[i] || !EVP_Digest(data, size, dst[i], NULL, mds[i], NULL))
				return -1;
		}
		goto flags;
	}

	if (xxh && (!(xs = XXH3_createState()) ||
	            XXH3_128bits_reset(xs) != XXH_OK))
		goto out;
	for (int i = 0; i < 3; i++) {
		if (!want[i])
			continue;
		if (!mds[i] || !(ctx[i] = EVP_MD_CTX_new()) ||
		    !EVP_DigestInit_ex(ctx[i], mds[i], NULL))
			goto out;
	}
	for (size_t off = 0; off < size; off += BLOCK) {
		size_t n = size - off < BLOCK ? size - off : BLOCK;
		if (xs)
			XXH3_128bits_update(xs, data + off, n);
		for (int i = 0; i < 3; i++)
			if (ctx[i] && !EVP_DigestUpdate(ctx[i], data + off, n))
				goto out;
	}
	if (xs) {
		XXH128_hash_t h = XXH3_128bits_digest(xs);
		out->xxh128[0] = h.low64;
		out->xxh128[1] = h.high64;
	}
	for (int i = 0; i < 3; i++)
		if (ctx[i] && !EVP_DigestFinal_ex(ctx[i], dst[i], NULL))
			goto out;
flags:
	out->have = flags & (VG_DIGEST_MD5 | VG_DIGEST_SHA1 | VG_DIGEST_SHA256 |
	                     VG_DIGEST_XXH128);
	rc = 0;
out:
	for (int i = 0; i < 3; i++)
		EVP_MD_CTX_free(ctx[i]);
	XXH3_freeState(xs);
	return rc;
}

void vg_hex(const uint8_t *bin, size_t len, char *out)
{
	static const char hexdig[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hexdig[bin[i] >> 4];
		out[2 * i + 1] = hexdig[bin[i] & 15];
	}
	out[2 * len] = '\0';
}
