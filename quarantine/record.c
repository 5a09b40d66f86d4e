/*
 * record.c - item records to and from JSON (see record.h). Built and
 * read with jansson; byte strings that need not be UTF-8 (the path,
 * extended attribute values) travel in base64 (libsodium's codec).
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "quarantine/record.h"

void vg_qrecord_clear(vg_qrecord *r)
{
	for (size_t i = 0; i < r->nxattrs; i++) {
		free(r->xattrs[i].name);
		free(r->xattrs[i].value);
	}
	free(r->xattrs);
	free(r->path);
	free(r->agent);
	free(r->threat);
	memset(r, 0, sizeof *r);
}

/* ---- writing --------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] && p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static int is_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0, len; i < n; i += len)
		if (!(len = utf8_seq(p + i, n - i)))
			return 0;
	return 1;
}

/* A JSON string for display: bytes that are not UTF-8 become U+FFFD.
 * The exact bytes, where they matter, go in a _b64 field beside it. */
static json_t *display(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	json_t *j;
	char *buf;

	if ((j = json_stringn(s, n)))
		return j;
	if (!(buf = malloc(3 * n + 1)))
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq(p + i, n - i);
		if (len) {
			memcpy(buf + w, p + i, len);
			w += len;
			i += len;
		} else {
			memcpy(buf + w, "\xef\xbf\xbd", 3);
			w += 3;
			i++;
		}
	}
	j = json_stringn(buf, w);
	free(buf);
	return j;
}

static json_t *dstr(const char *s)
{
	return display(s, strlen(s));
}

static json_t *base64(const void *bin, size_t len)
{
	size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	char *b = malloc(n);
	json_t *j;

	if (!b)
		return NULL;
	sodium_bin2base64(b, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
	j = json_string(b);
	free(b);
	return j;
}

static json_int_t ns_of(const struct timespec *ts)
{
	return (json_int_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static json_t *findings_json(const vigil_result *res)
{
	json_t *a = json_array();
	size_t n = vigil_result_finding_count(res);

	for (size_t i = 0; a && i < n; i++) {
		const vigil_finding *f = vigil_result_finding(res, i);
		json_t *o = json_pack("{s:o, s:o, s:o, s:s, s:f, s:o}",
		        "stage", dstr(vigil_finding_stage(f)),
		        "name", dstr(vigil_finding_name(f)),
		        "layer", dstr(vigil_finding_layer(f)),
		        "verdict", vigil_verdict_name(vigil_finding_verdict(f)),
		        "score", vigil_finding_score(f),
		        "detail", dstr(vigil_finding_detail(f)));
		if (!o || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *xattrs_json(const vg_qrecord *r)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < r->nxattrs; i++) {
		const vg_qxattr *x = &r->xattrs[i];
		json_t *o = json_pack("{s:o, s:o}", "name", dstr(x->name),
		                      "value_b64", base64(x->value, x->len));
		/* a name that is not UTF-8 keeps its bytes too */
		if (o && !is_utf8(x->name))
			json_object_set_new(o, "name_b64", base64(x->name, strlen(x->name)));
		if (!o || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

char *vg_qrecord_to_json(const vg_qrecord *r, const vigil_result *res)
{
	char mode[8], host[256] = "";
	json_t *o;
	char *text;

	snprintf(mode, sizeof mode, "%04o", (unsigned)(r->mode & 07777));
	gethostname(host, sizeof host - 1);
	o = json_pack("{s:s, s:i, s:s, s:o, s:o, s:I, s:s,"
	              " s:I, s:I, s:s, s:I, s:I,"
	              " s:I, s:I, s:I, s:o,"
	              " s:s, s:o, s:o,"
	              " s:I, s:o, s:I, s:o}",
	        "format", "vigil-quarantine-record", "version", 1,
	        "id", r->id,
	        "path", display(r->path, r->path_len),
	        "path_b64", base64(r->path, r->path_len),
	        "size", (json_int_t)r->size, "sha256", r->sha256,
	        "uid", (json_int_t)r->uid, "gid", (json_int_t)r->gid,
	        "mode", mode,
	        "atime_ns", ns_of(&r->atime), "mtime_ns", ns_of(&r->mtime),
	        "dev", (json_int_t)(r->dev & INT64_MAX),
	        "ino", (json_int_t)(r->ino & INT64_MAX),
	        "nlink", (json_int_t)r->nlink,
	        "xattrs", xattrs_json(r),
	        "verdict", vigil_verdict_name(r->verdict),
	        "threat", dstr(r->threat ? r->threat : ""),
	        "findings", findings_json(res),
	        "quarantined_ns", (json_int_t)r->time_ns,
	        "agent", dstr(r->agent ? r->agent : ""),
	        "pid", (json_int_t)getpid(),
	        "host", dstr(host));
	if (!o)
		return NULL;
	text = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

/* ---- reading --------------------------------------------------- */

#define BAD(...) do { snprintf(why, whylen, __VA_ARGS__); goto bad; } while (0)

/* Decodes base64 text into a new buffer (NUL-terminated for
 * convenience); -1 when malformed or longer than max, -2 on ENOMEM. */
static int unbase64(const json_t *j, size_t max, uint8_t **out, size_t *len)
{
	const char *s = json_string_value(j);
	size_t n, cap;
	uint8_t *b;

	if (!s)
		return -1;
	n = json_string_length(j);
	cap = n / 4 * 3 + 3;
	if (!(b = malloc(cap + 1)))
		return -2;
	if (sodium_base642bin(b, cap, s, n, NULL, len, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 || *len > max) {
		free(b);
		return -1;
	}
	b[*len] = '\0';
	*out = b;
	return 0;
}

/* An integer field in [lo, hi]. */
static int get_int(const json_t *o, const char *key, json_int_t lo,
                   json_int_t hi, json_int_t *v)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_integer(j))
		return 0;
	*v = json_integer_value(j);
	return *v >= lo && *v <= hi;
}

static char *get_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? strdup(s) : NULL;
}

static struct timespec ts_of(json_int_t ns)
{
	struct timespec ts;
	json_int_t s = ns / 1000000000, r = ns % 1000000000;

	if (r < 0) {  /* before 1970: floor, so tv_nsec stays in [0, 1e9) */
		r += 1000000000;
		s--;
	}
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)r;
	return ts;
}

static int verdict_of(const char *s, vigil_verdict *v)
{
	for (int i = VIGIL_CLEAN; i <= VIGIL_MALICIOUS; i++)
		if (s && !strcmp(s, vigil_verdict_name((vigil_verdict)i))) {
			*v = (vigil_verdict)i;
			return 1;
		}
	return 0;
}

static int is_sha256(const char *s)
{
	if (!s || strlen(s) != 64)
		return 0;
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* "0644": one to four octal digits. */
static int parse_mode(const char *s, uint32_t *mode)
{
	uint32_t m = 0;
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return 0;
		m = m * 8 + (uint32_t)(s[i] - '0');
	}
	*mode = m;
	return m <= 07777;
}

static int parse_xattrs(const json_t *a, vg_qrecord *r, char *why,
                        size_t whylen)
{
	size_t n = json_array_size(a);

	if (!json_is_array(a) || n > VG_QRECORD_MAX_XATTRS)
		BAD("xattrs: not an array of at most %d", VG_QRECORD_MAX_XATTRS);
	if (n && !(r->xattrs = calloc(n, sizeof *r->xattrs)))
		return -2;
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(a, i);
		const json_t *nb = json_object_get(o, "name_b64");
		vg_qxattr *x = &r->xattrs[r->nxattrs];
		size_t nlen;
		int rc;
		if (!json_is_object(o))
			BAD("xattrs[%zu]: not an object", i);
		if (nb) {
			rc = unbase64(nb, VG_QRECORD_XATTR_NAME_MAX, (uint8_t **)&x->name,
			              &nlen);
		} else if (json_is_string(json_object_get(o, "name"))) {
			rc = (x->name = get_str(o, "name")) ? 0 : -2;
			nlen = x->name ? strlen(x->name) : 0;
		} else {
			rc = -1;
		}
		if (rc == -2)
			return -2;
		if (rc || nlen == 0 || nlen > VG_QRECORD_XATTR_NAME_MAX ||
		    strlen(x->name) != nlen) {
			free(x->name);
			x->name = NULL;
			BAD("xattrs[%zu]: bad name", i);
		}
		rc = unbase64(json_object_get(o, "value_b64"),
		              VG_QRECORD_XATTR_VALUE_MAX, &x->value, &x->len);
		if (rc) {
			free(x->name);
			x->name = NULL;
			if (rc == -2)
				return -2;
			BAD("xattrs[%zu]: bad value_b64", i);
		}
		r->nxattrs++;
	}
	return 0;
bad:
	return -1;
}

vigil_error vg_qrecord_parse(const char *text, size_t len, vg_qrecord *r,
                             char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *o = NULL;
	json_int_t v;
	const char *s;
	uint8_t *path = NULL;
	int rc;

	memset(r, 0, sizeof *r);
	if (len > VG_QRECORD_MAX_BYTES)
		BAD("record larger than %u bytes", VG_QRECORD_MAX_BYTES);
	/* depth is bounded by jansson (2048); duplicates are an attack sign */
	if (!(o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)))
		BAD("record is not JSON: %s", jerr.text);
	if (!json_is_object(o))
		BAD("record is not a JSON object");
	s = json_string_value(json_object_get(o, "format"));
	if (!s || strcmp(s, "vigil-quarantine-record") != 0 ||
	    !get_int(o, "version", 1, 1, &v))
		BAD("not a version 1 vigil quarantine record");
	s = json_string_value(json_object_get(o, "id"));
	if (!s || strlen(s) != VIGIL_QUARANTINE_ID_SIZE - 1)
		BAD("bad id");
	memcpy(r->id, s, VIGIL_QUARANTINE_ID_SIZE);
	rc = unbase64(json_object_get(o, "path_b64"), VG_QRECORD_PATH_MAX, &path,
	              &r->path_len);
	if (rc == -2)
		goto nomem;
	if (rc || r->path_len < 2 || path[0] != '/' ||
	    memchr(path, '\0', r->path_len)) {
		free(path);
		BAD("bad path_b64: not an absolute path");
	}
	r->path = (char *)path;
	if (!get_int(o, "size", 0, INT64_MAX, &v))
		BAD("bad size");
	r->size = (uint64_t)v;
	s = json_string_value(json_object_get(o, "sha256"));
	if (!is_sha256(s))
		BAD("bad sha256");
	memcpy(r->sha256, s, 65);
	if (!get_int(o, "uid", 0, UINT32_MAX - 1, &v))
		BAD("bad uid");
	r->uid = (uint32_t)v;
	if (!get_int(o, "gid", 0, UINT32_MAX - 1, &v))
		BAD("bad gid");
	r->gid = (uint32_t)v;
	if (!parse_mode(json_string_value(json_object_get(o, "mode")), &r->mode))
		BAD("bad mode");
	if (!get_int(o, "atime_ns", INT64_MIN, INT64_MAX, &v))
		BAD("bad atime_ns");
	r->atime = ts_of(v);
	if (!get_int(o, "mtime_ns", INT64_MIN, INT64_MAX, &v))
		BAD("bad mtime_ns");
	r->mtime = ts_of(v);
	if (get_int(o, "dev", 0, INT64_MAX, &v))
		r->dev = (uint64_t)v;
	if (get_int(o, "ino", 0, INT64_MAX, &v))
		r->ino = (uint64_t)v;
	if (get_int(o, "nlink", 0, INT64_MAX, &v))
		r->nlink = (uint64_t)v;
	if ((rc = parse_xattrs(json_object_get(o, "xattrs"), r, why, whylen)))
		goto fail_rc;
	if (!verdict_of(json_string_value(json_object_get(o, "verdict")),
	                &r->verdict))
		BAD("bad verdict");
	if (!json_is_string(json_object_get(o, "threat")) ||
	    !json_is_string(json_object_get(o, "agent")))
		BAD("bad threat or agent");
	if (!json_is_array(json_object_get(o, "findings")))
		BAD("bad findings");
	if (!get_int(o, "quarantined_ns", 0, INT64_MAX, &v))
		BAD("bad quarantined_ns");
	r->time_ns = v;
	if (!(r->threat = get_str(o, "threat")) ||
	    !(r->agent = get_str(o, "agent")))
		goto nomem;
	json_decref(o);
	return VIGIL_OK;
fail_rc:
	if (rc == -2)
		goto nomem;
bad:
	json_decref(o);
	vg_qrecord_clear(r);
	return VIGIL_EVAULT;
nomem:
	json_decref(o);
	vg_qrecord_clear(r);
	return VIGIL_ENOMEM;
}
