/*
 * cloud_request_fuzzer.c - vigil-cloudd's readers of untrusted bytes.
 * The first byte picks the reader, the rest is its input: a request
 * path and method, a lookup or sightings body, a verdict body, a bearer
 * header, a bulk feed in each format, a config file.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/cloudd_config.h"
#include "cloud/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (256 * 1024)

static int count(void *ud, const vg_import_entry *e)
{
	/* every entry is a checked hash */
	if (strlen(e->sha256) != 64 || strlen(e->name) >= VG_NAME_MAX)
		abort();
	(*(size_t *)ud)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "DELETE" };
	char err[256], *s;
	const char *body;
	size_t n, entries = 0;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	/* a NUL-terminated copy for the readers that take strings */
	if (!(s = malloc(size)))
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	body = (const char *)data + 1;
	n = size - 1;
	switch (data[0] % 8) {
	case 0: {
		vg_route r;
		if (vg_route_parse(methods[(data[0] >> 3) % 4], s, &r, err,
		                   sizeof err) == 0 &&
		    r.id != VG_R_LOOKUP && strlen(r.sha256) != 0 &&
		    strlen(r.sha256) != 64)
			abort();
		break;
	}
	case 1: {
		vg_hash_req hr;
		if (vg_parse_hashes(body, n, 1000, data[0] >> 7, &hr, err,
		                    sizeof err) == 0) {
			if (hr.n < 1 || hr.n > 1000)
				abort();
			for (size_t i = 0; i < hr.n; i++)
				if (strlen(hr.sha[i]) != 64)
					abort();
			vg_hash_req_free(&hr);
		}
		break;
	}
	case 2: {
		vg_import_entry e;
		if (vg_parse_verdict(body, n, &e, err, sizeof err) == 0 &&
		    e.verdict != VG_CV_MALICIOUS && e.verdict != VG_CV_CLEAN)
			abort();
		break;
	}
	case 3: {
		char key[128];
		if (vg_bearer_parse(s, key, sizeof key) == 0 && !key[0])
			abort();
		break;
	}
	case 4: case 5: case 6: {
		vg_feed_stats st;
		vg_feed_parse(body, n, (vg_feed_format)(data[0] % 8 - 4),
		              VG_CV_MALICIOUS, "Fuzz", count, &entries, &st);
		if (st.imported != entries)
			abort();
		break;
	}
	case 7: {
		vg_cloudd_config c;
		vg_cloudd_config_defaults(&c);
		vg_cloudd_config_parse(body, n, &c, err, sizeof err);
		if (c.max_batch < 1 || c.max_threads < 1)
			abort();
		break;
	}
	}
	free(s);
	return 0;
}
