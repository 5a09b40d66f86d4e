/*
 * update_conf.c - reads vigil-update.conf. The names follow freshclam
 * where the meaning is the same (DatabaseMirror, DatabaseDirectory,
 * ConnectTimeout, ReceiveTimeout, MaxAttempts, NotifyClamd).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/update_conf.h"

static int set_str(char **slot, const char *v, size_t n)
{
	char *s = strndup(v, n);

	if (!s)
		return -1;
	free(*slot);
	*slot = s;
	return 0;
}

int vg_update_conf_defaults(vg_update_conf *c)
{
	memset(c, 0, sizeof *c);
	c->max_size = 1ull << 30;
	c->connect_timeout = 30;
	c->receive_timeout = 300;
	c->max_attempts = 3;
	c->notify_timeout = 30;
	if (set_str(&c->dir, "/var/lib/vigil", 14) ||
	    set_str(&c->bundle, "main.vgb", 8))
		return -1;
	return 0;
}

void vg_update_conf_free(vg_update_conf *c)
{
	for (size_t i = 0; i < c->nmirrors; i++)
		free(c->mirrors[i]);
	for (size_t i = 0; i < c->ncommands; i++)
		free(c->commands[i]);
	for (size_t i = 0; i < c->nclamd; i++)
		free(c->clamd[i]);
	for (size_t i = 0; i < c->ncicap; i++)
		free(c->cicap[i]);
	free(c->dir);
	free(c->bundle);
	free(c->trust);
	memset(c, 0, sizeof *c);
}

/* Appends to a bounded list; NULL when all went well, else why. */
static const char *add(char **list, size_t *n, const char *v, size_t len)
{
	if (*n == VG_UPDATE_MAX_LIST)
		return "too many of this directive (at most 16)";
	if (!(list[*n] = strndup(v, len)))
		return "out of memory";
	(*n)++;
	return NULL;
}

/* A number with the CLI's parsers, on a copy of the value. */
static const char *number(const char *v, size_t len, int size,
                          uint64_t min, uint64_t max, uint64_t *out)
{
	char buf[32];
	uint64_t x;

	if (len >= sizeof buf)
		return "value too long";
	memcpy(buf, v, len);
	buf[len] = '\0';
	if ((size ? vg_cli_parse_size(buf, &x) : vg_cli_parse_count(buf, &x)) != 0)
		return size ? "not a size (N, NK, NM, NG)" : "not a number";
	if (x < min || x > max)
		return "value out of range";
	*out = x;
	return NULL;
}

static int is_url(const char *v, size_t len)
{
	return (len > 7 && !strncasecmp(v, "http://", 7)) ||
	       (len > 8 && !strncasecmp(v, "https://", 8));
}

/* One "Directive value" line; NULL when good, else why. */
static const char *directive(vg_update_conf *c, const char *k, size_t klen,
                             const char *v, size_t vlen)
{
#define IS(name) (klen == sizeof(name) - 1 && !strncasecmp(k, name, klen))
	if (vlen == 0)
		return "directive without a value";
	for (size_t i = 0; i < vlen; i++)
		if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
			return "control character in value";
	if (IS("DatabaseMirror"))
		return is_url(v, vlen) ? add(c->mirrors, &c->nmirrors, v, vlen)
		                       : "mirror must be an http:// or https:// URL";
	if (IS("DatabaseDirectory"))
		return set_str(&c->dir, v, vlen) ? "out of memory" : NULL;
	if (IS("BundleName")) {
		if (memchr(v, '/', vlen) || (vlen <= 2 && v[0] == '.'))
			return "BundleName is a file name, not a path";
		return set_str(&c->bundle, v, vlen) ? "out of memory" : NULL;
	}
	if (IS("TrustedKeys"))
		return set_str(&c->trust, v, vlen) ? "out of memory" : NULL;
	if (IS("MaxBundleSize"))
		return number(v, vlen, 1, 1024, 1ull << 40, &c->max_size);
	if (IS("ConnectTimeout"))
		return number(v, vlen, 0, 1, 3600, &c->connect_timeout);
	if (IS("ReceiveTimeout"))
		return number(v, vlen, 0, 1, 86400, &c->receive_timeout);
	if (IS("MaxAttempts"))
		return number(v, vlen, 0, 1, 100, &c->max_attempts);
	if (IS("NotifyTimeout"))
		return number(v, vlen, 0, 1, 3600, &c->notify_timeout);
	if (IS("NotifyCommand"))
		return add(c->commands, &c->ncommands, v, vlen);
	if (IS("NotifyClamd"))
		return add(c->clamd, &c->nclamd, v, vlen);
	if (IS("NotifyCicap"))
		return add(c->cicap, &c->ncicap, v, vlen);
	return "unknown directive";
#undef IS
}

static int space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

int vg_update_conf_parse(vg_update_conf *c, const char *text, size_t len,
                         char *err, size_t errlen)
{
	size_t pos = 0, lineno = 0;

	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos, k = 0, v, e;
		const char *why;

		pos += n + (nl != NULL);
		lineno++;
		if (n > VG_UPDATE_MAX_LINE) {
			snprintf(err, errlen, "line %zu: longer than %d bytes", lineno,
			         VG_UPDATE_MAX_LINE);
			return -1;
		}
		while (k < n && space(line[k]))
			k++;
		if (k == n || line[k] == '#')
			continue;
		v = k;
		while (v < n && !space(line[v]))
			v++;
		e = n;
		while (e > v && space(line[e - 1]))
			e--;
		size_t klen = v - k;
		while (v < e && space(line[v]))
			v++;
		if (memchr(line, '\0', n)) {
			snprintf(err, errlen, "line %zu: NUL byte", lineno);
			return -1;
		}
		if ((why = directive(c, line + k, klen, line + v, e - v))) {
			snprintf(err, errlen, "line %zu: %.*s: %s", lineno,
			         (int)(klen > 64 ? 64 : klen), line + k, why);
			return -1;
		}
	}
	return 0;
}

int vg_update_conf_load(vg_update_conf *c, const char *path, char *err,
                        size_t errlen)
{
	char *buf = malloc(VG_UPDATE_MAX_CONF + 1), msg[512];
	size_t n = 0;
	ssize_t got;
	int fd, rc;

	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(buf);
		return -1;
	}
	while (n <= VG_UPDATE_MAX_CONF &&
	       (got = read(fd, buf + n, VG_UPDATE_MAX_CONF + 1 - n)) > 0)
		n += (size_t)got;
	close(fd);
	if (n > VG_UPDATE_MAX_CONF) {
		snprintf(err, errlen, "%s: larger than 1 MiB", path);
		free(buf);
		return -1;
	}
	rc = vg_update_conf_parse(c, buf, n, msg, sizeof msg);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, msg);
	free(buf);
	return rc;
}
