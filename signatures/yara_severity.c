/*
 * yara_severity.c - a YARA rule's verdict from its metadata (see
 * yara_severity.h and doc/yara.md). Runs once per rule at freeze, so a
 * match only indexes a table.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "signatures/yara_severity.h"

/* Words of `severity` metas and tags, by the verdict they give. */
typedef struct word_verdict {
	const char *word;
	vigil_verdict verdict;
} word_verdict;

static const word_verdict severity_words[] = {
	{ "info", VIGIL_CLEAN }, { "informational", VIGIL_CLEAN },
	{ "none", VIGIL_CLEAN }, { "low", VIGIL_CLEAN },
	{ "notice", VIGIL_CLEAN },
	{ "medium", VIGIL_SUSPICIOUS }, { "moderate", VIGIL_SUSPICIOUS },
	{ "suspicious", VIGIL_SUSPICIOUS }, { "warning", VIGIL_SUSPICIOUS },
	{ "high", VIGIL_MALICIOUS }, { "critical", VIGIL_MALICIOUS },
	{ "severe", VIGIL_MALICIOUS }, { "alert", VIGIL_MALICIOUS },
	{ "malicious", VIGIL_MALICIOUS },
};

/* Tags naming what a rule describes rather than a threat, or a hunch. */
static const word_verdict severity_tags[] = {
	{ "info", VIGIL_CLEAN }, { "informational", VIGIL_CLEAN },
	{ "capability", VIGIL_CLEAN }, { "capabilities", VIGIL_CLEAN },
	{ "packer", VIGIL_CLEAN }, { "peid", VIGIL_CLEAN },
	{ "compiler", VIGIL_CLEAN }, { "installer", VIGIL_CLEAN },
	{ "antidebug", VIGIL_CLEAN }, { "antivm", VIGIL_CLEAN },
	{ "suspicious", VIGIL_SUSPICIOUS }, { "hunting", VIGIL_SUSPICIOUS },
	{ "heuristic", VIGIL_SUSPICIOUS }, { "pua", VIGIL_SUSPICIOUS },
};

#define NWORDS(a) (sizeof(a) / sizeof *(a))

static int find_word(const word_verdict *t, size_t n, const char *w,
                     vigil_verdict *v)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(t[i].word, w) == 0) {
			*v = t[i].verdict;
			return 1;
		}
	return 0;
}

/* A meta's number: an integer, or a string of digits ("70", " 70 "). */
static int meta_number(const YR_META *m, long *out)
{
	const char *p;
	long v = 0;
	int digits = 0;

	if (m->type == META_TYPE_INTEGER) {
		*out = (long)m->integer;
		return 1;
	}
	if (m->type != META_TYPE_STRING || !m->string)
		return 0;
	for (p = m->string; *p == ' '; p++)
		;
	for (; isdigit((unsigned char)*p) && digits < 9; p++, digits++)
		v = v * 10 + (*p - '0');
	while (*p == ' ')
		p++;
	if (!digits || *p)
		return 0;
	*out = v;
	return 1;
}

static long clamp(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static vigil_verdict by_score(long score, double tmal, double tsus)
{
	double s = score / 100.0;

	return s >= tmal ? VIGIL_MALICIOUS : s >= tsus ? VIGIL_SUSPICIOUS
	                                               : VIGIL_CLEAN;
}

/* What the metas say, most specific first; 0 when nothing. */
static int from_metas(const YR_RULE *rule, vg_yara_sev *out)
{
	const YR_META *m;
	const YR_META *score = NULL, *severity = NULL, *threat = NULL;
	long v;

	yr_rule_metas_foreach(rule, m) {
		if (strcasecmp(m->identifier, "score") == 0 && !score)
			score = m;
		else if (strcasecmp(m->identifier, "severity") == 0 && !severity)
			severity = m;
		else if (strcasecmp(m->identifier, "threat_level") == 0 && !threat)
			threat = m;
		else if (strcasecmp(m->identifier, "description") == 0 &&
		         m->type == META_TYPE_STRING && !*out->description)
			out->description = m->string;
	}
	if (score && meta_number(score, &v)) {
		out->why = VG_YW_SCORE;
		out->value = (int16_t)clamp(v, 0, 100);
		return 1;
	}
	if (severity && meta_number(severity, &v)) {
		out->why = VG_YW_SEVERITY;
		out->value = (int16_t)clamp(v, 0, 100);
		return 1;
	}
	if (severity && severity->type == META_TYPE_STRING) {
		vigil_verdict w;
		if (find_word(severity_words, NWORDS(severity_words),
		              severity->string, &w)) {
			out->why = VG_YW_SEVERITY_WORD;
			out->word = severity->string;
			out->verdict = (uint8_t)w;
			return 1;
		}
	}
	if (threat && meta_number(threat, &v)) {
		out->why = VG_YW_THREAT_LEVEL;
		/* 0-10 as signature-base writes it; larger ones are 0-100 */
		out->value = (int16_t)clamp(v <= 10 ? v * 10 : v, 0, 100);
		return 1;
	}
	return 0;
}

/* The most severe severity tag, if any. */
static int from_tags(const YR_RULE *rule, vg_yara_sev *out)
{
	const char *tag;
	int found = 0;

	yr_rule_tags_foreach(rule, tag) {
		vigil_verdict v;
		if (!find_word(severity_tags, NWORDS(severity_tags), tag, &v))
			continue;
		if (!found || v > out->verdict) {
			out->verdict = (uint8_t)v;
			out->word = tag;
		}
		found = 1;
	}
	if (found)
		out->why = VG_YW_TAG;
	return found;
}

void vg_yara_severity(const YR_RULE *rule, vigil_verdict dflt, double tmal,
                      double tsus, vg_yara_sev *out)
{
	*out = (vg_yara_sev){ .description = "", .word = "" };
	if (from_metas(rule, out)) {
		if (out->why != VG_YW_SEVERITY_WORD)
			out->verdict = (uint8_t)by_score(out->value, tmal, tsus);
		return;
	}
	if (from_tags(rule, out))
		return;
	out->verdict = (uint8_t)dflt;
	out->why = dflt == VIGIL_MALICIOUS ? VG_YW_DEFAULT : VG_YW_SOURCE;
}

static const char *level_name(vigil_verdict v)
{
	return v == VIGIL_CLEAN ? "informational" : vigil_verdict_name(v);
}

void vg_yara_reason(const vg_yara_sev *sev, double tmal, double tsus,
                    char *buf, size_t len)
{
	vigil_verdict v = (vigil_verdict)sev->verdict;
	char cmp[64];

	/* where a number decided, against which threshold */
	if (v == VIGIL_MALICIOUS)
		snprintf(cmp, sizeof cmp, "at or above %g", tmal * 100);
	else if (v == VIGIL_SUSPICIOUS)
		snprintf(cmp, sizeof cmp, "at or above %g", tsus * 100);
	else
		snprintf(cmp, sizeof cmp, "below %g", tsus * 100);

	switch (sev->why) {
	case VG_YW_SCORE:
		snprintf(buf, len, "score %d: %s, %s", sev->value, level_name(v), cmp);
		break;
	case VG_YW_SEVERITY:
		snprintf(buf, len, "severity %d: %s, %s", sev->value, level_name(v),
		         cmp);
		break;
	case VG_YW_THREAT_LEVEL:
		snprintf(buf, len, "threat_level (score %d): %s, %s", sev->value,
		         level_name(v), cmp);
		break;
	case VG_YW_SEVERITY_WORD:
		snprintf(buf, len, "severity \"%s\": %s", sev->word, level_name(v));
		break;
	case VG_YW_TAG:
		snprintf(buf, len, "tag %s: %s", sev->word, level_name(v));
		break;
	case VG_YW_SOURCE:
		snprintf(buf, len, "rule file loaded as %s; the rule states no "
		         "severity", level_name(v));
		break;
	default:
		snprintf(buf, len, "the rule states no severity: %s by default",
		         level_name(v));
		break;
	}
}
