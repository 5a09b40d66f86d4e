/*
 * yara_severity.h - the verdict of a YARA rule's matches, read from its
 * metadata once when the rules are frozen (doc/yara.md, "Severity"):
 * a `score` meta (0-100, the LOKI/THOR convention), else a `severity`
 * meta (a number or a word), else `threat_level` (0-10), else a
 * severity tag (info, packer, suspicious, ...), else the default of
 * the file the rule came from (vigil_engine_load_as), else MALICIOUS.
 */
#ifndef VIGIL_YARA_SEVERITY_H
#define VIGIL_YARA_SEVERITY_H

#include <stddef.h>
#include <stdint.h>
#include <yara.h>

#include "vigil/vigil.h"

/* What set a rule's verdict, for vigil_finding_reason. */
enum vg_yara_why {
	VG_YW_DEFAULT = 0,   /* the rule says nothing: MALICIOUS */
	VG_YW_SOURCE,        /* its file was loaded with a default */
	VG_YW_TAG,           /* a severity tag (word) */
	VG_YW_THREAT_LEVEL,  /* meta threat_level = value (0-10) */
	VG_YW_SEVERITY_WORD, /* meta severity = "word" */
	VG_YW_SEVERITY,      /* meta severity = value (0-100) */
	VG_YW_SCORE          /* meta score = value (0-100) */
};

/* One rule's verdict and what the finding shows, read once. */
typedef struct vg_yara_sev {
	const char *description; /* the description meta, or "" */
	const char *word;        /* the tag or severity word that decided */
	int16_t value;           /* the number the rule gave */
	uint8_t verdict;         /* vigil_verdict */
	uint8_t why;             /* enum vg_yara_why */
} vg_yara_sev;

/*
 * Reads rule's metadata and tags into *out. dflt is the default of the
 * rule's file (VIGIL_MALICIOUS unless loaded otherwise); tmal and tsus
 * are the score thresholds over 100 (VIGIL_THRESHOLD_YARA_*). The
 * strings *out points to live in the rules' own memory.
 */
void vg_yara_severity(const YR_RULE *rule, vigil_verdict dflt, double tmal,
                      double tsus, vg_yara_sev *out);

/* The finding's score: the rule's number over 100, else 1. */
static inline double vg_yara_score(const vg_yara_sev *sev)
{
	return sev->why >= VG_YW_THREAT_LEVEL && sev->why != VG_YW_SEVERITY_WORD
	       ? sev->value / 100.0 : 1.0;
}

/* The reason text of a finding: "score 20: informational, below 60". */
void vg_yara_reason(const vg_yara_sev *sev, double tmal, double tsus,
                    char *buf, size_t len);

#endif
