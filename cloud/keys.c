/*
 * keys.c - API keys (see service.h for why SHA-256 is enough).
 */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "cloud/service.h"

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int vg_key_generate(char out[VG_KEY_MAX])
{
	unsigned char raw[32];

	if (RAND_bytes(raw, sizeof raw) != 1)
		return -1;
	memcpy(out, "vgk_", 4);
	hex(raw, sizeof raw, out + 4);
	return 0;
}

void vg_key_hash(const char *key, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL);
	hex(md, 32, out);
}
