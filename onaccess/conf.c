/*
 * conf.c - reads vigild.conf. The file is untrusted bytes: lines are
 * cut at a fixed length, every value is checked against the table, and
 * every error names file:line (fuzz/vigild_config_fuzzer.c).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "onaccess/conf.h"

#define VG_CONF_MAX_LINE 4096       /* longer lines are an error */
#define VG_CONF_MAX_FILE (1 << 20)  /* a bigger file is an error */
#define VG_CONF_MAX_LIST 4096       /* values of one list directive */

const vg_conf_directive vg_conf_table[VG_CONF_COUNT] = {
#define VG_CONF_ROW(id, name, type, def, min, max, choices, help) \
	{ name, type, def, min, max, choices, help },
	VG_DIRECTIVES(VG_CONF_ROW)
#undef VG_CONF_ROW
};

typedef struct vg_conf_value {
	uint64_t num;
	char *str;
	char **list;
	size_t nlist;
	unsigned line;
} vg_conf_value;

struct vg_config {
	vg_conf_value v[VG_CONF_COUNT];
	char *source;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int parse_u64(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	*end = s;
	return 0;
}

static int parse_bool(const char *s, uint64_t *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int parse_size(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;
	unsigned shift = 0;

	if (parse_u64(s, &v, &end) != 0)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 0: break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: return -1;
	}
	if (shift && (*end == 'B' || *end == 'b'))
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = v << shift;
	return 0;
}

static int parse_seconds(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t whole, ms = 0, scale = 100;

	if (parse_u64(s, &whole, &end) != 0)
		return -1;
	if (*end == '.') {
		end++;
		if (!isdigit((unsigned char)*end))
			return -1;
		for (; isdigit((unsigned char)*end); end++) {
			if (!scale)
				return -1; /* more than three decimals */
			ms += (uint64_t)(*end - '0') * scale;
			scale /= 10;
		}
	}
	if (*end || whole > UINT64_MAX / 1000 - 1)
		return -1;
	*out = whole * 1000 + ms;
	return 0;
}

static int parse_mode(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '7' || v > 07777)
			return -1;
		v = v * 8 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static int in_choices(const char *choices, const char *s)
{
	size_t n = strlen(s);
	const char *p = choices;

	while (n && p && *p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && !strncasecmp(p, s, n))
			return 1;
		p = bar ? bar + 1 : NULL;
	}
	return 0;
}

/* Checks and stores one value; returns 0 or -1 with a message. */
static int set_value(vg_config *c, vg_conf_id id, const char *val,
                     unsigned line, char *why, size_t whylen)
{
	const vg_conf_directive *d = &vg_conf_table[id];
	vg_conf_value *v = &c->v[id];
	uint64_t n = 0;
	int rc = 0;

	switch (d->type) {
	case VG_CT_STRING:
	case VG_CT_PATH:
	case VG_CT_ENUM: {
		char *copy;
		if (d->type == VG_CT_ENUM && !in_choices(d->choices, val)) {
			set_err(why, whylen, "'%s' is not one of %s", val, d->choices);
			return -1;
		}
		if (!(copy = strdup(val))) {
			set_err(why, whylen, "out of memory");
			return -1;
		}
		if (d->type == VG_CT_ENUM)
			for (char *p = copy; *p; p++)
				*p = (char)tolower((unsigned char)*p);
		free(v->str);
		v->str = copy;
		v->line = line;
		return 0;
	}
	case VG_CT_LIST: {
		char **grown, *copy;
		if (!*val) {
			set_err(why, whylen, "needs a value");
			return -1;
		}
		if (v->nlist >= VG_CONF_MAX_LIST) {
			set_err(why, whylen, "more than %d values", VG_CONF_MAX_LIST);
			return -1;
		}
		if (!(copy = strdup(val)) ||
		    !(grown = realloc(v->list, (v->nlist + 1) * sizeof *grown))) {
			free(copy);
			set_err(why, whylen, "out of memory");
			return -1;
		}
		v->list = grown;
		v->list[v->nlist++] = copy;
		v->line = line;
		return 0;
	}
	case VG_CT_BOOL:
		if ((rc = parse_bool(val, &n)) != 0)
			set_err(why, whylen, "'%s' is not yes or no", val);
		break;
	case VG_CT_NUMBER: {
		const char *end;
		if ((rc = parse_u64(val, &n, &end)) != 0 || *end) {
			rc = -1;
			set_err(why, whylen, "'%s' is not a number", val);
		}
		break;
	}
	case VG_CT_SIZE:
		if ((rc = parse_size(val, &n)) != 0)
			set_err(why, whylen, "'%s' is not a size (like 25M)", val);
		break;
	case VG_CT_SECONDS:
		if ((rc = parse_seconds(val, &n)) != 0)
			set_err(why, whylen, "'%s' is not a time in seconds", val);
		break;
	case VG_CT_MSEC: {
		const char *end;
		if ((rc = parse_u64(val, &n, &end)) != 0 || *end) {
			rc = -1;
			set_err(why, whylen, "'%s' is not a time in milliseconds", val);
		}
		break;
	}
	case VG_CT_MODE:
		if ((rc = parse_mode(val, &n)) != 0)
			set_err(why, whylen, "'%s' is not an octal mode", val);
		break;
	}
	if (rc != 0)
		return -1;
	if (d->type != VG_CT_BOOL && (n < d->min || n > d->max)) {
		set_err(why, whylen, "'%s' is out of range", val);
		return -1;
	}
	v->num = n;
	v->line = line;
	return 0;
}

static int lookup(const char *name)
{
	for (int i = 0; i < VG_CONF_COUNT; i++)
		if (!strcasecmp(vg_conf_table[i].name, name))
			return i;
	return -1;
}

void vg_config_free(vg_config *c)
{
	if (!c)
		return;
	for (int i = 0; i < VG_CONF_COUNT; i++) {
		free(c->v[i].str);
		for (size_t j = 0; j < c->v[i].nlist; j++)
			free(c->v[i].list[j]);
		free(c->v[i].list);
	}
	free(c->source);
	free(c);
}

vg_config *vg_config_defaults(void)
{
	vg_config *c = calloc(1, sizeof *c);
	char why[256];

	if (!c || !(c->source = strdup(""))) {
		free(c);
		return NULL;
	}
	for (int i = 0; i < VG_CONF_COUNT; i++) {
		if (vg_conf_table[i].type == VG_CT_LIST)
			continue;
		if (set_value(c, (vg_conf_id)i, vg_conf_table[i].def, 0, why,
		              sizeof why) != 0) {
			/* a bad default is a bug the unit test catches */
			vg_config_free(c);
			return NULL;
		}
	}
	return c;
}

/* Strips leading and trailing blanks in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

vg_config *vg_config_parse(const char *data, size_t len, const char *name,
                           char *err, size_t errlen)
{
	vg_config *c;
	unsigned seen[VG_CONF_COUNT] = { 0 };
	char line[VG_CONF_MAX_LINE + 1];
	size_t pos = 0;
	unsigned lineno = 0;

	if (len > VG_CONF_MAX_FILE) {
		set_err(err, errlen, "%s: larger than %d bytes", name, VG_CONF_MAX_FILE);
		return NULL;
	}
	if (!(c = vg_config_defaults())) {
		set_err(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	free(c->source);
	if (!(c->source = strdup(name)))
		goto oom;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
		char *p, *key, *val, why[512];
		int id;

		lineno++;
		if (n > VG_CONF_MAX_LINE) {
			set_err(err, errlen, "%s:%u: line longer than %d bytes", name,
			        lineno, VG_CONF_MAX_LINE);
			goto fail;
		}
		memcpy(line, data + pos, n);
		line[n] = 0;
		pos += n + (nl ? 1 : 0);
		if (memchr(line, 0, n)) {
			set_err(err, errlen, "%s:%u: NUL byte in line", name, lineno);
			goto fail;
		}
		p = trim(line);
		if (!*p || *p == '#')
			continue;
		key = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (*p)
			*p++ = 0;
		val = trim(p);
		if ((id = lookup(key)) < 0) {
			set_err(err, errlen, "%s:%u: unknown directive '%.64s'", name,
			        lineno, key);
			goto fail;
		}
		if (vg_conf_table[id].type != VG_CT_LIST && seen[id]) {
			set_err(err, errlen, "%s:%u: %s already set on line %u", name,
			        lineno, vg_conf_table[id].name, seen[id]);
			goto fail;
		}
		if (!*val && vg_conf_table[id].type != VG_CT_PATH &&
		    vg_conf_table[id].type != VG_CT_STRING) {
			set_err(err, errlen, "%s:%u: %s needs a value", name, lineno,
			        vg_conf_table[id].name);
			goto fail;
		}
		if (set_value(c, (vg_conf_id)id, val, lineno, why, sizeof why) != 0) {
			set_err(err, errlen, "%s:%u: %s: %s", name, lineno,
			        vg_conf_table[id].name, why);
			goto fail;
		}
		seen[id] = lineno;
	}
	return c;
oom:
	set_err(err, errlen, "%s: out of memory", name);
fail:
	vg_config_free(c);
	return NULL;
}

vg_config *vg_config_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	vg_config *c;

	if (!f) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!(buf = malloc(VG_CONF_MAX_FILE + 1))) {
		fclose(f);
		set_err(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	n = fread(buf, 1, VG_CONF_MAX_FILE + 1, f);
	if (ferror(f)) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	c = vg_config_parse(buf, n, path, err, errlen);
	free(buf);
	return c;
}

uint64_t vg_conf_num(const vg_config *c, vg_conf_id id)
{
	return c->v[id].num;
}

int vg_conf_bool(const vg_config *c, vg_conf_id id)
{
	return c->v[id].num != 0;
}

const char *vg_conf_str(const vg_config *c, vg_conf_id id)
{
	return c->v[id].str ? c->v[id].str : "";
}

size_t vg_conf_list_count(const vg_config *c, vg_conf_id id)
{
	return c->v[id].nlist;
}

const char *vg_conf_list(const vg_config *c, vg_conf_id id, size_t i)
{
	return i < c->v[id].nlist ? c->v[id].list[i] : NULL;
}

unsigned vg_conf_line(const vg_config *c, vg_conf_id id)
{
	return c->v[id].line;
}

const char *vg_conf_source(const vg_config *c)
{
	return c->source;
}

static const char *type_name(vg_conf_type t)
{
	static const char *const names[] = {
		"string", "path", "yes|no", "number", "size", "seconds",
		"milliseconds", "mode", "choice", "list"
	};
	return names[t];
}

void vg_config_dump(const vg_config *c, FILE *out)
{
	for (int i = 0; i < VG_CONF_COUNT; i++) {
		const vg_conf_directive *d = &vg_conf_table[i];
		const vg_conf_value *v = &c->v[i];

		switch (d->type) {
		case VG_CT_LIST:
			if (!v->nlist)
				fprintf(out, "# %s (none)\n", d->name);
			for (size_t j = 0; j < v->nlist; j++)
				fprintf(out, "%s %s\n", d->name, v->list[j]);
			break;
		case VG_CT_STRING:
		case VG_CT_PATH:
		case VG_CT_ENUM:
			if (v->str && *v->str)
				fprintf(out, "%s %s\n", d->name, v->str);
			else
				fprintf(out, "# %s (not set)\n", d->name);
			break;
		case VG_CT_BOOL:
			fprintf(out, "%s %s\n", d->name, v->num ? "yes" : "no");
			break;
		case VG_CT_SECONDS:
			if (v->num % 1000)
				fprintf(out, "%s %llu.%03llu\n", d->name,
				        (unsigned long long)(v->num / 1000),
				        (unsigned long long)(v->num % 1000));
			else
				fprintf(out, "%s %llu\n", d->name,
				        (unsigned long long)(v->num / 1000));
			break;
		case VG_CT_MODE:
			fprintf(out, "%s %04llo\n", d->name, (unsigned long long)v->num);
			break;
		default:
			fprintf(out, "%s %llu\n", d->name, (unsigned long long)v->num);
		}
	}
}

void vg_config_table_dump(FILE *out)
{
	for (int i = 0; i < VG_CONF_COUNT; i++) {
		const vg_conf_directive *d = &vg_conf_table[i];
		fprintf(out, "%s\t%s\t%s\t%s\n", d->name,
		        d->choices ? d->choices : type_name(d->type),
		        *d->def ? d->def : "-", d->help);
	}
}
