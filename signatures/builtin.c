/*
 * builtin.c - the test signatures every vigil build knows.
 *
 * EICAR is matched on its bytes: the file is tiny and its standard
 * allows trailing whitespace, which a hash cannot express. clam.exe is
 * matched on its digests, taken once from Debian's clamav-testfiles
 * (md5sum, sha256sum of /usr/share/clamav-testfiles/clam.exe).
 */
#include "config.h"

#include <string.h>

#include "signatures/builtin.h"

/* The EICAR string in two halves, so this file's own bytes and the
 * library built from it do not hold the test string and are not
 * flagged by virus scanners. */
static const char eicar_head[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-";
static const char eicar_tail[] = "ANTIVIRUS-TEST-FILE!$H+H*";
#define EICAR_HEAD_LEN (sizeof eicar_head - 1)
#define EICAR_LEN (EICAR_HEAD_LEN + sizeof eicar_tail - 1) /* 68 */
#define EICAR_MAX_LEN 128

static int eicar_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x1a;
}

int vg_builtin_is_eicar(const uint8_t *data, size_t size)
{
	if (size < EICAR_LEN || size > EICAR_MAX_LEN)
		return 0;
	if (memcmp(data, eicar_head, EICAR_HEAD_LEN) != 0 ||
	    memcmp(data + EICAR_HEAD_LEN, eicar_tail, EICAR_LEN - EICAR_HEAD_LEN))
		return 0;
	for (size_t i = EICAR_LEN; i < size; i++)
		if (!eicar_space(data[i]))
			return 0;
	return 1;
}

static const struct builtin_hash {
	uint64_t size;
	const char *name;
	uint8_t md5[16];
	uint8_t sha256[32];
} builtin_hashes[] = {
	{
		/* clam.exe: md5 aa15bcf478d165efd2065190eb473bcb, sha256
		 * 71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495 */
		544, VG_BUILTIN_CLAM_NAME,
		{ 0xaa, 0x15, 0xbc, 0xf4, 0x78, 0xd1, 0x65, 0xef,
		  0xd2, 0x06, 0x51, 0x90, 0xeb, 0x47, 0x3b, 0xcb },
		{ 0x71, 0xe7, 0xb6, 0x04, 0xd1, 0x8a, 0xef, 0xd8,
		  0x39, 0xe5, 0x1a, 0x39, 0xc8, 0x8d, 0xf8, 0x38,
		  0x3b, 0xb4, 0xc0, 0x71, 0xdc, 0x31, 0xf8, 0x7f,
		  0x00, 0xa2, 0xb5, 0xdf, 0x58, 0x0d, 0x44, 0x95 },
	},
};

size_t vg_builtin_count(void)
{
	return 1 + sizeof builtin_hashes / sizeof *builtin_hashes;
}

unsigned vg_builtin_digests(uint64_t size)
{
	for (size_t i = 0; i < sizeof builtin_hashes / sizeof *builtin_hashes; i++)
		if (size == builtin_hashes[i].size)
			return VG_DIGEST_SHA256;
	return 0;
}

const char *vg_builtin_hash_match(const vg_digest *d, uint64_t size)
{
	for (size_t i = 0; i < sizeof builtin_hashes / sizeof *builtin_hashes;
	     i++) {
		const struct builtin_hash *b = &builtin_hashes[i];
		if (size != b->size || !(d->have & VG_DIGEST_SHA256) ||
		    memcmp(d->sha256, b->sha256, sizeof b->sha256) != 0)
			continue;
		/* SHA-256 decides; an MD5, when some set asked for one, must
		 * agree too */
		if ((d->have & VG_DIGEST_MD5) &&
		    memcmp(d->md5, b->md5, sizeof b->md5) != 0)
			continue;
		return b->name;
	}
	return NULL;
}
