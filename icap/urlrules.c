/*
 * urlrules.c - see urlrules.h. Domains live in sorted arrays (one for
 * "this host only", one for "and its subdomains"); a host is looked up
 * once, then once per parent domain. Regular expressions are PCRE2 with
 * JIT where available and a match limit, so one bad pattern cannot hang
 * a request.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "icap/urlrules.h"

#define VG_DOMAIN_MAX 253
#define VG_RULES_FILE_MAX (64u << 20)
#define VG_REGEX_MATCH_LIMIT 1000000
#define VG_REGEX_DEPTH_LIMIT 10000

struct strset {
	char **v;
	size_t n, cap;
};

struct regex {
	pcre2_code *code;
	char *src;
};

struct rxset {
	struct regex *v;
	size_t n, cap;
};

struct vg_urlrules {
	struct strset exact[2];  /* [list]: host only */
	struct strset suffix[2]; /* [list]: host and subdomains */
	struct rxset rx[2];
	pcre2_match_context *mctx;
};

struct vg_urlrules *vg_urlrules_new(void)
{
	struct vg_urlrules *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	if (!(r->mctx = pcre2_match_context_create(NULL))) {
		free(r);
		return NULL;
	}
	pcre2_set_match_limit(r->mctx, VG_REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(r->mctx, VG_REGEX_DEPTH_LIMIT);
	return r;
}

static void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

void vg_urlrules_free(struct vg_urlrules *r)
{
	if (!r)
		return;
	for (int l = 0; l < 2; l++) {
		strset_free(&r->exact[l]);
		strset_free(&r->suffix[l]);
		for (size_t i = 0; i < r->rx[l].n; i++) {
			pcre2_code_free(r->rx[l].v[i].code);
			free(r->rx[l].v[i].src);
		}
		free(r->rx[l].v);
	}
	pcre2_match_context_free(r->mctx);
	free(r);
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
	void *p;
	size_t c;
	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 64;
	if (!(p = realloc(*v, c * elem)))
		return -1;
	*v = p;
	*cap = c;
	return 0;
}

static int domain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_' || c == '.' || c == ':' || c == '[' || c == ']';
}

/* Lower-cases and checks a domain in place; 0 if it is acceptable. */
static int domain_normalize(char *d, size_t *len)
{
	size_t n = *len, label = 0;

	while (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > VG_DOMAIN_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c >= 'A' && c <= 'Z')
			d[i] = (char)(c - 'A' + 'a');
		if (!domain_char((unsigned char)d[i]))
			return -1;
		if (d[i] == '.') {
			if (label == 0)
				return -1; /* empty label */
			label = 0;
		} else if (++label > 63) {
			return -1;
		}
	}
	d[n] = '\0';
	*len = n;
	return 0;
}

static int add_domain(struct vg_urlrules *r, enum vg_url_list list,
                      char *line, size_t len)
{
	struct strset *set = &r->suffix[list];
	char *copy;

	if (line[0] == '=') {
		set = &r->exact[list];
		line++;
		len--;
	} else if (len >= 2 && line[0] == '*' && line[1] == '.') {
		line += 2;
		len -= 2;
	} else if (line[0] == '.') {
		line++;
		len--;
	}
	if (domain_normalize(line, &len) != 0)
		return -1;
	if (grow((void **)&set->v, &set->cap, set->n, sizeof *set->v) != 0 ||
	    !(copy = strdup(line)))
		return -2;
	set->v[set->n++] = copy;
	return 0;
}

static int add_regex(struct vg_urlrules *r, enum vg_url_list list,
                     const char *line, size_t len, char *msg, size_t msglen)
{
	struct rxset *set = &r->rx[list];
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *code;
	char *src;

	code = pcre2_compile((PCRE2_SPTR)line, len, 0, &errcode, &erroff, NULL);
	if (!code) {
		PCRE2_UCHAR buf[128];
		pcre2_get_error_message(errcode, buf, sizeof buf);
		snprintf(msg, msglen, "%s at offset %zu", (char *)buf,
		         (size_t)erroff);
		return -1;
	}
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* optional speed-up */
	if (grow((void **)&set->v, &set->cap, set->n, sizeof *set->v) != 0 ||
	    !(src = strndup(line, len))) {
		pcre2_code_free(code);
		return -2;
	}
	set->v[set->n].code = code;
	set->v[set->n].src = src;
	set->n++;
	return 0;
}

int vg_urlrules_add_text(struct vg_urlrules *r, enum vg_url_kind kind,
                         enum vg_url_list list, const char *text, size_t len,
                         const char *name, char *err, size_t errlen)
{
	size_t pos = 0, lineno = 0;
	char *line = NULL;
	int rc = 0;

	if (list != VG_URL_BLOCK && list != VG_URL_ALLOW)
		return -1;
	while (pos < len && rc == 0) {
		size_t end = pos, a, b;
		char msg[160] = "";
		lineno++;
		while (end < len && text[end] != '\n')
			end++;
		a = pos;
		b = end;
		pos = end + 1;
		while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
			a++;
		while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' ||
		                 text[b - 1] == '\r'))
			b--;
		if (a == b || text[a] == '#')
			continue;
		free(line);
		line = NULL;
		if (memchr(text + a, '\0', b - a)) {
			seterr(err, errlen, "%s:%zu: NUL byte in rule", name, lineno);
			rc = -1;
			break;
		}
		if (!(line = strndup(text + a, b - a))) {
			seterr(err, errlen, "%s: out of memory", name);
			rc = -1;
			break;
		}
		if (kind == VG_URL_DOMAINS) {
			/* a domain line is one word; a comment may follow */
			size_t n = strcspn(line, " \t#");
			line[n] = '\0';
			rc = add_domain(r, list, line, n);
			if (rc == -1)
				seterr(err, errlen, "%s:%zu: bad domain \"%s\"", name,
				       lineno, line);
		} else {
			rc = add_regex(r, list, line, b - a, msg, sizeof msg);
			if (rc == -1)
				seterr(err, errlen, "%s:%zu: bad regular expression: %s",
				       name, lineno, msg);
		}
		if (rc == -2)
			seterr(err, errlen, "%s: out of memory", name);
	}
	free(line);
	return rc ? -1 : 0;
}

int vg_urlrules_add_file(struct vg_urlrules *r, enum vg_url_kind kind,
                         enum vg_url_list list, const char *path, char *err,
                         size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;
	size_t n;
	int rc;

	if (!f) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > VG_RULES_FILE_MAX) {
		seterr(err, errlen, "%s: not a regular file of at most 64 MiB",
		       path);
		fclose(f);
		return -1;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		seterr(err, errlen, "%s: out of memory", path);
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	rc = vg_urlrules_add_text(r, kind, list, buf, n, path, err, errlen);
	free(buf);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void vg_urlrules_freeze(struct vg_urlrules *r)
{
	for (int l = 0; l < 2; l++) {
		if (r->exact[l].n)
			qsort(r->exact[l].v, r->exact[l].n, sizeof(char *), cmp_str);
		if (r->suffix[l].n)
			qsort(r->suffix[l].v, r->suffix[l].n, sizeof(char *), cmp_str);
	}
}

size_t vg_urlrules_count(const struct vg_urlrules *r)
{
	size_t n = 0;
	for (int l = 0; l < 2; l++)
		n += r->exact[l].n + r->suffix[l].n + r->rx[l].n;
	return n;
}

static const char *strset_find(const struct strset *s, const char *key)
{
	char *const *hit;
	if (!s->n)
		return NULL;
	hit = bsearch(&key, s->v, s->n, sizeof(char *), cmp_str);
	return hit ? *hit : NULL;
}

static const char *match_domain(const struct vg_urlrules *r,
                                enum vg_url_list l, const char *host)
{
	const char *hit;

	if (!*host)
		return NULL;
	if ((hit = strset_find(&r->exact[l], host)) ||
	    (hit = strset_find(&r->suffix[l], host)))
		return hit;
	for (const char *p = strchr(host, '.'); p; p = strchr(p + 1, '.'))
		if (p[1] && (hit = strset_find(&r->suffix[l], p + 1)))
			return hit;
	return NULL;
}

static const char *match_regex(const struct vg_urlrules *r,
                               enum vg_url_list l, const char *url)
{
	const struct rxset *set = &r->rx[l];
	pcre2_match_data *md;
	const char *hit = NULL;

	if (!set->n || !url)
		return NULL;
	if (!(md = pcre2_match_data_create(1, NULL)))
		return NULL;
	for (size_t i = 0; i < set->n && !hit; i++)
		if (pcre2_match(set->v[i].code, (PCRE2_SPTR)url, strlen(url), 0,
		                0, md, r->mctx) >= 0)
			hit = set->v[i].src;
	pcre2_match_data_free(md);
	return hit;
}

enum vg_url_verdict vg_urlrules_check(const struct vg_urlrules *r,
                                      const char *host, const char *url,
                                      const char **rule)
{
	char h[VG_DOMAIN_MAX + 2] = "";
	const char *hit;

	if (rule)
		*rule = NULL;
	if (!r)
		return VG_URL_NONE;
	if (host && *host) {
		/* the host may come as "Host:port" from a header */
		char tmp[VG_DOMAIN_MAX + 16];
		if (snprintf(tmp, sizeof tmp, "%s", host) < (int)sizeof tmp)
			vg_url_host(tmp, h, sizeof h);
	}
	if ((hit = match_domain(r, VG_URL_ALLOW, h)) ||
	    (hit = match_regex(r, VG_URL_ALLOW, url))) {
		if (rule)
			*rule = hit;
		return VG_URL_ALLOWED;
	}
	if ((hit = match_domain(r, VG_URL_BLOCK, h)) ||
	    (hit = match_regex(r, VG_URL_BLOCK, url))) {
		if (rule)
			*rule = hit;
		return VG_URL_BLOCKED;
	}
	return VG_URL_NONE;
}

int vg_url_host(const char *url, char *out, size_t outlen)
{
	const char *p = strstr(url, "://"), *end, *at, *colon;
	size_t n;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	/* user:password@ goes */
	for (at = end; at > p && at[-1] != '@'; at--)
		;
	if (at > p)
		p = at;
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));
		if (!close)
			return -1;
		end = close + 1;
	} else if ((colon = memchr(p, ':', (size_t)(end - p)))) {
		end = colon;
	}
	while (end > p && end[-1] == '.')
		end--;
	n = (size_t)(end - p);
	if (n == 0 || n >= outlen)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return 0;
}
