/*
 * cloud_response_fuzzer.c - the cloud client's reader of the service's
 * answers (the network is untrusted): the input is a /v1/lookup
 * response body, asked about two hashes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char want[2][65] = {
		"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
		"0000000000000000000000000000000000000000000000000000000000000000",
	};
	vg_cloud_answer out[2];
	int found[2];

	if (size > 1024 * 1024)
		return 0;
	if (vg_cloud_parse_response((const char *)data, size, want, 2, out,
	                            found) == 0)
		for (int i = 0; i < 2; i++)
			if (found[i] && (memcmp(out[i].sha256, want[i], 64) != 0 ||
			                 out[i].verdict < 0 || out[i].verdict > 2 ||
			                 out[i].ttl > 7 * 86400 ||
			                 strlen(out[i].name) >= sizeof out[i].name))
				abort();
	return 0;
}
