/*
 * request.c - paths, headers and JSON bodies of vigil-cloudd requests
 * (see request.h). JSON goes through jansson; everything here is
 * bounded by the caller's body limit and the limits below.
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/request.h"

#define FAIL(code, ...) \
	do { snprintf(err, errlen, __VA_ARGS__); return (code); } while (0)

int vg_sha256_parse(const char *s, size_t len, char out[65])
{
	if (!s || len != 64)
		return 400;
	for (size_t i = 0; i < 64; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 400;
		out[i] = c;
	}
	out[64] = '\0';
	return 0;
}

int vg_name_valid(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++)
		if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f)
			return 0;
	return n < max;
}

static const struct {
	const char *method, *prefix;
	int takes_hash;
	vg_route_id id;
} routes[] = {
	{ "POST", "/v1/lookup", 0, VG_R_LOOKUP },
	{ "GET", "/v1/lookup/", 1, VG_R_LOOKUP_ONE },
	{ "PUT", "/v1/verdicts/", 1, VG_R_VERDICT_PUT },
	{ "DELETE", "/v1/verdicts/", 1, VG_R_VERDICT_DEL },
	{ "POST", "/v1/sightings", 0, VG_R_SIGHTINGS },
	{ "POST", "/v1/import", 0, VG_R_IMPORT },
	{ "GET", "/metrics", 0, VG_R_METRICS },
	{ "GET", "/healthz", 0, VG_R_HEALTHZ },
};

int vg_route_parse(const char *method, const char *path, vg_route *out,
                   char *err, size_t errlen)
{
	int path_known = 0;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		size_t n = strlen(routes[i].prefix);
		const char *rest;
		if (strncmp(path, routes[i].prefix, n) != 0)
			continue;
		rest = path + n;
		if (routes[i].takes_hash ? !*rest : *rest != '\0')
			continue;
		path_known = 1;
		if (strcmp(method, routes[i].method) != 0)
			continue;
		if (routes[i].takes_hash &&
		    vg_sha256_parse(rest, strlen(rest), out->sha256) != 0)
			FAIL(400, "not a SHA-256: 64 hex digits expected");
		out->id = routes[i].id;
		return 0;
	}
	if (path_known)
		FAIL(405, "method not allowed");
	FAIL(404, "no such endpoint");
}

int vg_bearer_parse(const char *h, char *key, size_t keymax)
{
	size_t n;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return -1;
	h += 7;
	while (*h == ' ')
		h++;
	n = strcspn(h, " \t");
	if (n == 0 || n >= keymax || h[n] != '\0')
		return -1;
	memcpy(key, h, n);
	key[n] = '\0';
	return 0;
}

const char *vg_cverdict_name(vg_cverdict v)
{
	switch (v) {
	case VG_CV_MALICIOUS: return "malicious";
	case VG_CV_CLEAN: return "clean";
	default: return "unknown";
	}
}

int vg_cverdict_parse(const char *s, vg_cverdict *out)
{
	if (strcmp(s, "malicious") == 0)
		*out = VG_CV_MALICIOUS;
	else if (strcmp(s, "clean") == 0)
		*out = VG_CV_CLEAN;
	else
		return -1;
	return 0;
}

/* The body as a JSON object, or NULL with err set. */
static json_t *parse_object(const char *body, size_t len, char *err,
                            size_t errlen)
{
	json_error_t je;
	json_t *root;

	if (!body || len == 0) {
		snprintf(err, errlen, "empty body: a JSON object expected");
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "malformed JSON at byte %d: %s", je.position,
		         je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(err, errlen, "body must be a JSON object");
		return NULL;
	}
	return root;
}

void vg_hash_req_free(vg_hash_req *r)
{
	free(r->sha);
	r->sha = NULL;
	r->n = 0;
}

static int machine_of(json_t *root, vg_hash_req *out, int need, char *err,
                      size_t errlen)
{
	json_t *m = json_object_get(root, "machine");
	const char *s;

	if (!m) {
		if (need)
			FAIL(400, "\"machine\" is required");
		return 0;
	}
	s = json_string_value(m);
	if (!s || !*s || !vg_name_valid(s, VG_MACHINE_MAX) || strchr(s, ' '))
		FAIL(400, "\"machine\" must be a string of 1 to 64 printable bytes");
	snprintf(out->machine, sizeof out->machine, "%s", s);
	return 0;
}

static int hashes_of(json_t *arr, int objects, size_t max, vg_hash_req *out,
                     char *err, size_t errlen)
{
	size_t n = json_array_size(arr);

	if (!json_is_array(arr))
		FAIL(400, "\"%s\" must be an array", objects ? "objects" : "hashes");
	if (n == 0)
		FAIL(400, "no hashes given");
	if (n > max)
		FAIL(400, "%zu hashes: at most %zu per request", n, max);
	if (!(out->sha = malloc(n * sizeof *out->sha)))
		FAIL(500, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *h = json_array_get(arr, i);
		const char *s;
		if (objects) {
			json_t *sz, *ml;
			if (!json_is_object(h))
				FAIL(400, "objects[%zu] is not an object", i);
			sz = json_object_get(h, "size");
			ml = json_object_get(h, "ml_score");
			if ((sz && (!json_is_integer(sz) || json_integer_value(sz) < 0)) ||
			    (ml && !json_is_number(ml)))
				FAIL(400, "objects[%zu]: bad size or ml_score", i);
			h = json_object_get(h, "sha256");
		}
		s = json_string_value(h);
		if (!s || vg_sha256_parse(s, json_string_length(h), out->sha[i]) != 0)
			FAIL(400, "hash %zu is not a SHA-256 (64 hex digits)", i);
	}
	out->n = n;
	return 0;
}

int vg_parse_hashes(const char *body, size_t len, size_t max_hashes,
                    int need_machine, vg_hash_req *out, char *err,
                    size_t errlen)
{
	json_t *root, *hashes, *objects;
	int rc;

	memset(out, 0, sizeof *out);
	if (!(root = parse_object(body, len, err, errlen)))
		return 400;
	hashes = json_object_get(root, "hashes");
	objects = json_object_get(root, "objects");
	if (!hashes == !objects) {
		snprintf(err, errlen, "give either \"hashes\" or \"objects\"");
		rc = 400;
	} else {
		rc = machine_of(root, out, need_machine, err, errlen);
		if (rc == 0)
			rc = hashes_of(hashes ? hashes : objects, !hashes, max_hashes,
			               out, err, errlen);
	}
	json_decref(root);
	if (rc != 0)
		vg_hash_req_free(out);
	return rc;
}

int vg_parse_verdict(const char *body, size_t len, vg_import_entry *out,
                     char *err, size_t errlen)
{
	json_t *root, *v, *name, *first;
	int rc = 400;

	memset(out, 0, sizeof *out);
	if (!(root = parse_object(body, len, err, errlen)))
		return 400;
	v = json_object_get(root, "verdict");
	name = json_object_get(root, "name");
	first = json_object_get(root, "first_seen");
	if (!json_is_string(v) ||
	    vg_cverdict_parse(json_string_value(v), &out->verdict) != 0)
		snprintf(err, errlen, "\"verdict\" must be \"malicious\" or \"clean\"");
	else if (name && (!json_is_string(name) ||
	                  json_string_length(name) != strlen(json_string_value(name)) ||
	                  !vg_name_valid(json_string_value(name), VG_NAME_MAX)))
		snprintf(err, errlen, "\"name\" must be a string of at most %d "
		         "printable bytes", VG_NAME_MAX - 1);
	else if (first && (!json_is_integer(first) ||
	                   json_integer_value(first) < 0))
		snprintf(err, errlen, "\"first_seen\" must be unix seconds");
	else {
		if (name)
			snprintf(out->name, sizeof out->name, "%s",
			         json_string_value(name));
		out->first_seen = first ? (int64_t)json_integer_value(first) : 0;
		rc = 0;
	}
	json_decref(root);
	return rc;
}
