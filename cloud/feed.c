/*
 * feed.c - bulk hash feeds for vigil-cloudd import: ClamAV .hdb/.hsb
 * lines, plain SHA-256 lists and MalwareBazaar's CSV export. Only
 * SHA-256 entries are taken (the service answers by SHA-256); the rest
 * are counted as skipped.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloud/request.h"

int vg_feed_format_parse(const char *s, vg_feed_format *out)
{
	if (strcmp(s, "hdb") == 0 || strcmp(s, "hsb") == 0)
		*out = VG_FEED_HDB;
	else if (strcmp(s, "sha256") == 0)
		*out = VG_FEED_SHA256;
	else if (strcmp(s, "bazaar") == 0)
		*out = VG_FEED_BAZAAR;
	else
		return -1;
	return 0;
}

static void set_name(vg_import_entry *e, const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < sizeof e->name; i++)
		if ((unsigned char)s[i] >= 0x20 && s[i] != 0x7f)
			e->name[k++] = s[i];
	e->name[k] = '\0';
}

/* HASH:SIZE:NAME[:FLEVEL...] */
static int hdb_line(const char *l, size_t n, vg_import_entry *e)
{
	const char *c1 = memchr(l, ':', n), *c2, *c3;

	if (!c1 || vg_sha256_parse(l, (size_t)(c1 - l), e->sha256) != 0)
		return -1;
	c2 = memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - l));
	if (!c2)
		return -1;
	c3 = memchr(c2 + 1, ':', n - (size_t)(c2 + 1 - l));
	set_name(e, c2 + 1, (size_t)((c3 ? c3 : l + n) - (c2 + 1)));
	e->verdict = VG_CV_MALICIOUS;
	return e->name[0] ? 0 : -1;
}

/* HASH [NAME] */
static int sha_line(const char *l, size_t n, vg_import_entry *e)
{
	size_t h = 0;

	while (h < n && l[h] != ' ' && l[h] != '\t' && l[h] != ',')
		h++;
	if (vg_sha256_parse(l, h, e->sha256) != 0)
		return -1;
	while (h < n && (l[h] == ' ' || l[h] == '\t' || l[h] == ','))
		h++;
	if (h < n)
		set_name(e, l + h, n - h);
	return 0;
}

/* The next CSV field of l[*pos..n) into out (quotes removed). */
static size_t csv_field(const char *l, size_t n, size_t *pos, char *out,
                        size_t outmax)
{
	size_t i = *pos, k = 0;
	int quoted = i < n && l[i] == '"';

	if (quoted)
		i++;
	for (; i < n; i++) {
		if (quoted && l[i] == '"') {
			if (i + 1 < n && l[i + 1] == '"') {
				i++;
			} else {
				quoted = 0;
				continue;
			}
		} else if (!quoted && l[i] == ',') {
			break;
		}
		if (k + 1 < outmax)
			out[k++] = l[i];
	}
	out[k] = '\0';
	*pos = i < n ? i + 1 : n;
	return k;
}

/* "first_seen_utc","sha256_hash","md5_hash","sha1_hash","reporter",
 * "file_name","file_type_guess","mime_type","signature",... */
static int bazaar_line(const char *l, size_t n, vg_import_entry *e)
{
	char f[9][VG_NAME_MAX];
	size_t pos = 0, len[9];
	struct tm tm;

	for (int i = 0; i < 9; i++)
		len[i] = csv_field(l, n, &pos, f[i], sizeof f[i]);
	if (vg_sha256_parse(f[1], len[1], e->sha256) != 0)
		return -1;
	memset(&tm, 0, sizeof tm);
	if (sscanf(f[0], "%4d-%2d-%2d %2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
	           &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6 &&
	    tm.tm_year >= 1970 && tm.tm_mon >= 1 && tm.tm_mon <= 12) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		time_t t = timegm(&tm);
		e->first_seen = t > 0 ? (int64_t)t : 0;
	}
	if (len[8] && strcmp(f[8], "n/a") != 0)
		set_name(e, f[8], len[8]);
	e->verdict = VG_CV_MALICIOUS;
	return 0;
}

int vg_feed_parse(const char *data, size_t len, vg_feed_format fmt,
                  vg_cverdict verdict, const char *name, vg_feed_cb cb,
                  void *ud, vg_feed_stats *st)
{
	size_t pos = 0;

	memset(st, 0, sizeof *st);
	while (pos < len) {
		const char *l = data + pos;
		const char *nl = memchr(l, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - l) : len - pos;
		vg_import_entry e;
		int bad;

		pos += n + (nl != NULL);
		if (n && l[n - 1] == '\r')
			n--;
		st->lines++;
		if (n == 0 || l[0] == '#')
			continue;
		memset(&e, 0, sizeof e);
		e.verdict = verdict;
		snprintf(e.name, sizeof e.name, "%s", name ? name : "");
		if (n > VG_FEED_LINE_MAX)
			bad = -1;
		else if (fmt == VG_FEED_HDB)
			bad = hdb_line(l, n, &e);
		else if (fmt == VG_FEED_SHA256)
			bad = sha_line(l, n, &e);
		else
			bad = bazaar_line(l, n, &e);
		if (bad) {
			st->skipped++;
			continue;
		}
		if (!e.name[0] && e.verdict == VG_CV_MALICIOUS)
			snprintf(e.name, sizeof e.name, "%s",
			         fmt == VG_FEED_BAZAAR ? "MalwareBazaar" : "Imported");
		int rc = cb(ud, &e);
		if (rc)
			return rc;
		st->imported++;
	}
	return 0;
}
