/*
 * response.c - the client's reader of the service's answers. The body
 * comes from the network: it is size-capped by the caller, parsed by
 * jansson, and every field is type- and length-checked.
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cloud/client.h"

/* TTLs past a week are cut to a week: a bad server cannot pin an
 * answer for ever. */
#define TTL_MAX (7u * 86400)

static int hex64(const char *s, size_t len)
{
	if (len != 64)
		return 0;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static void copy_text(char *dst, size_t cap, json_t *v)
{
	const char *s = json_string_value(v);
	size_t k = 0, n = s ? json_string_length(v) : 0;

	for (size_t i = 0; i < n && k + 1 < cap; i++)
		if ((unsigned char)s[i] >= 0x20 && s[i] != 0x7f)
			dst[k++] = s[i];
	dst[k] = '\0';
}

static int one(json_t *o, vg_cloud_answer *a)
{
	json_t *sha = json_object_get(o, "sha256");
	json_t *v = json_object_get(o, "verdict");
	json_t *ttl = json_object_get(o, "ttl");
	json_t *prev = json_object_get(o, "prevalence");
	const char *vs = json_string_value(v);

	memset(a, 0, sizeof *a);
	if (!json_is_object(o) || !json_is_string(sha) ||
	    !hex64(json_string_value(sha), json_string_length(sha)) || !vs)
		return -1;
	memcpy(a->sha256, json_string_value(sha), 64);
	if (strcmp(vs, "malicious") == 0)
		a->verdict = 1;
	else if (strcmp(vs, "clean") == 0)
		a->verdict = 2;
	else if (strcmp(vs, "unknown") == 0)
		a->verdict = 0;
	else
		return -1;
	copy_text(a->name, sizeof a->name, json_object_get(o, "name"));
	copy_text(a->first_seen, sizeof a->first_seen,
	          json_object_get(o, "first_seen"));
	if (json_is_integer(prev) && json_integer_value(prev) > 0)
		a->prevalence = (uint64_t)json_integer_value(prev);
	if (json_is_integer(ttl) && json_integer_value(ttl) > 0)
		a->ttl = json_integer_value(ttl) > TTL_MAX
		             ? TTL_MAX : (uint32_t)json_integer_value(ttl);
	return 0;
}

int vg_cloud_parse_response(const char *body, size_t len,
                            const char (*want)[65], size_t n,
                            vg_cloud_answer *out, int *found)
{
	json_t *root, *results;
	size_t m;
	int rc = 0;

	memset(found, 0, n * sizeof *found);
	if (!body || len == 0 || len > VG_CLOUD_RESPONSE_MAX)
		return -1;
	root = json_loadb(body, len, 0, NULL);
	results = json_object_get(root, "results");
	if (!json_is_array(results)) {
		json_decref(root);
		return -1;
	}
	m = json_array_size(results);
	for (size_t i = 0; i < m; i++) {
		vg_cloud_answer a;
		if (one(json_array_get(results, i), &a) != 0) {
			rc = -1;
			break;
		}
		/* answers are matched by hash, never by position */
		for (size_t j = 0; j < n; j++)
			if (!found[j] && memcmp(want[j], a.sha256, 64) == 0) {
				out[j] = a;
				found[j] = 1;
			}
	}
	json_decref(root);
	return rc;
}
