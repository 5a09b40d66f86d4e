/*
 * cloudd_config.c - reads vigil-cloudd.conf (see cloudd_config.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/cloudd_config.h"

#define CONFIG_MAX_FILE (1u << 20)
#define CONFIG_LINE_MAX 2048

void vg_cloudd_config_defaults(vg_cloudd_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->listen, sizeof c->listen, "127.0.0.1:8440");
	snprintf(c->store, sizeof c->store, "sqlite:/var/lib/vigil-cloudd/cloud.db");
	c->max_threads = 4;
	c->max_connections = 1024;
	c->read_timeout = 30;
	c->max_request_size = 1u << 20;
	c->max_import_size = 64u << 20;
	c->max_batch = 1000;
	c->rate_limit = 500;
	c->rate_burst = 1000;
	c->rate_keys = 65536;
	c->ttl_malicious = 86400;
	c->ttl_clean = 86400;
	c->ttl_unknown = 3600;
}

enum kind { K_STR, K_BOOL, K_UINT, K_SIZE };

#define OFF(f) offsetof(vg_cloudd_config, f)
static const struct directive {
	const char *name;
	enum kind kind;
	size_t off, size;
	uint64_t min, max;
} directives[] = {
	{ "Listen", K_STR, OFF(listen), sizeof(((vg_cloudd_config *)0)->listen), 0, 0 },
	{ "Store", K_STR, OFF(store), VG_PATH_MAX, 0, 0 },
	{ "TLSCertificate", K_STR, OFF(tls_cert), VG_PATH_MAX, 0, 0 },
	{ "TLSKey", K_STR, OFF(tls_key), VG_PATH_MAX, 0, 0 },
	{ "LogFile", K_STR, OFF(log_file), VG_PATH_MAX, 0, 0 },
	{ "PidFile", K_STR, OFF(pid_file), VG_PATH_MAX, 0, 0 },
	{ "PortFile", K_STR, OFF(port_file), VG_PATH_MAX, 0, 0 },
	{ "LogMissedHashes", K_BOOL, OFF(log_missed_hashes), 0, 0, 1 },
	{ "MetricsRequireAdmin", K_BOOL, OFF(metrics_require_admin), 0, 0, 1 },
	{ "MaxThreads", K_UINT, OFF(max_threads), 0, 1, 256 },
	{ "MaxConnections", K_UINT, OFF(max_connections), 0, 1, 65536 },
	{ "ReadTimeout", K_UINT, OFF(read_timeout), 0, 1, 3600 },
	{ "MaxRequestSize", K_SIZE, OFF(max_request_size), 0, 1024, 1u << 30 },
	{ "MaxImportSize", K_SIZE, OFF(max_import_size), 0, 1024, 4ull << 30 },
	{ "MaxBatch", K_UINT, OFF(max_batch), 0, 1, 100000 },
	{ "RateLimit", K_UINT, OFF(rate_limit), 0, 0, 10000000 },
	{ "RateBurst", K_UINT, OFF(rate_burst), 0, 1, 100000000 },
	{ "RateKeys", K_UINT, OFF(rate_keys), 0, 16, 1u << 24 },
	{ "TTLMalicious", K_UINT, OFF(ttl_malicious), 0, 0, 31536000 },
	{ "TTLClean", K_UINT, OFF(ttl_clean), 0, 0, 31536000 },
	{ "TTLUnknown", K_UINT, OFF(ttl_unknown), 0, 0, 31536000 },
};

static int parse_number(const char *v, int sizes, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno)
		return -1;
	if (sizes && (*end == 'K' || *end == 'k')) {
		if (n > (UINT64_MAX >> 10)) return -1;
		n <<= 10;
		end++;
	} else if (sizes && (*end == 'M' || *end == 'm')) {
		if (n > (UINT64_MAX >> 20)) return -1;
		n <<= 20;
		end++;
	}
	if (*end)
		return -1;
	*out = n;
	return 0;
}

static int apply(vg_cloudd_config *c, const struct directive *d,
                 const char *v, char *why, size_t whylen)
{
	char *field = (char *)c + d->off;
	uint64_t n;

	switch (d->kind) {
	case K_STR:
		if (strlen(v) >= d->size) {
			snprintf(why, whylen, "%s: value too long", d->name);
			return -1;
		}
		memcpy(field, v, strlen(v) + 1);
		return 0;
	case K_BOOL:
		if (!strcasecmp(v, "yes") || !strcasecmp(v, "true"))
			*(int *)field = 1;
		else if (!strcasecmp(v, "no") || !strcasecmp(v, "false"))
			*(int *)field = 0;
		else {
			snprintf(why, whylen, "%s: yes or no expected", d->name);
			return -1;
		}
		return 0;
	case K_UINT:
	case K_SIZE:
		if (parse_number(v, d->kind == K_SIZE, &n) != 0 || n < d->min ||
		    n > d->max) {
			snprintf(why, whylen, "%s: a number from %llu to %llu expected",
			         d->name, (unsigned long long)d->min,
			         (unsigned long long)d->max);
			return -1;
		}
		if (d->kind == K_SIZE)
			*(uint64_t *)field = n;
		else
			*(unsigned *)field = (unsigned)n;
		return 0;
	}
	return -1;
}

int vg_cloudd_config_parse(const char *text, size_t len,
                           vg_cloudd_config *c, char *err, size_t errlen)
{
	size_t pos = 0;
	unsigned lineno = 0;

	while (pos < len) {
		const char *l = text + pos;
		const char *nl = memchr(l, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - l) : len - pos;
		char line[CONFIG_LINE_MAX], why[256], *name, *value, *end;
		const struct directive *d = NULL;

		pos += n + (nl != NULL);
		lineno++;
		if (n >= sizeof line) {
			snprintf(err, errlen, "line %u: too long", lineno);
			return -1;
		}
		memcpy(line, l, n);
		line[n] = '\0';
		if (memchr(line, '\0', n)) {
			snprintf(err, errlen, "line %u: NUL byte", lineno);
			return -1;
		}
		name = line + strspn(line, " \t\r");
		if (!*name || *name == '#')
			continue;
		value = name + strcspn(name, " \t\r");
		if (*value)
			*value++ = '\0';
		value += strspn(value, " \t");
		end = value + strlen(value);
		while (end > value && (end[-1] == ' ' || end[-1] == '\t' ||
		                       end[-1] == '\r'))
			*--end = '\0';
		for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++)
			if (strcmp(name, directives[i].name) == 0)
				d = &directives[i];
		if (!d) {
			snprintf(err, errlen, "line %u: unknown directive %.64s", lineno,
			         name);
			return -1;
		}
		if (!*value) {
			snprintf(err, errlen, "line %u: %s needs a value", lineno, name);
			return -1;
		}
		if (apply(c, d, value, why, sizeof why) != 0) {
			snprintf(err, errlen, "line %u: %s", lineno, why);
			return -1;
		}
	}
	return 0;
}

int vg_cloudd_config_load(const char *path, vg_cloudd_config *c, char *err,
                          size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	char why[512];
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!(buf = malloc(CONFIG_MAX_FILE + 1))) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = fread(buf, 1, CONFIG_MAX_FILE + 1, f);
	fclose(f);
	if (n > CONFIG_MAX_FILE) {
		free(buf);
		snprintf(err, errlen, "%s: larger than 1 MiB", path);
		return -1;
	}
	rc = vg_cloudd_config_parse(buf, n, c, why, sizeof why);
	free(buf);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return rc;
}
