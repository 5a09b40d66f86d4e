/*
 * yara_rules.h - the YARA stage's engine state: rule sources compiled
 * into three sets (rules that need an "MZ" object or a module, their
 * not-MZ copies without pe, and the rest; doc/yara.md), compiled (.yarc)
 * files loaded as sets of their own.
 */
#ifndef VIGIL_YARA_RULES_H
#define VIGIL_YARA_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <yara.h>

#include "engine/vg.h"
#include "signatures/yara_gate.h"
#include "signatures/yara_severity.h"
#include "engine/attrs.h"

/* One compiled rule set; scanned in turn with the others. */
typedef struct vg_yara_set {
	YR_RULES *rules;
	unsigned externals; /* bit VG_YX_*: the set declares it as a string */
	int gate;           /* VG_GATE_MZ: scanned only on objects starting
	                     * "MZ"; VG_GATE_NOT_MZ: only on the others (its
	                     * rules are all in an MZ set too); else all */
	vigil_verdict dflt; /* a .yarc's default verdict (vigil_engine_load_as) */
	vg_yara_sev *sev;   /* per rule, by index in rules_table; from freeze */
	int shared;         /* rules belong to the shared cache (bundles) */
} vg_yara_set;

/* The compilers sources go to (yara_gate.h, vg_yara_gate_split). */
enum { VG_YARA_REST = VG_GATE_SET_ALL, VG_YARA_MZ = VG_GATE_SET_MZ,
       VG_YARA_NOT_MZ = VG_GATE_SET_NOT_MZ, VG_YARA_NKINDS };

typedef struct vg_yara_source {
	char *path;
	char *ns;       /* namespace: the base name without extension */
	unsigned kinds; /* bit k: some of its rules are in compiler k; a
	                 * bit is cleared once that compiler is a set */
	unsigned split; /* kinds as split at load (a rebuilt compiler
	                 * checks that the file still splits so) */
	int whole;      /* compiled whole into VG_YARA_REST, not split (its
	                 * namespace is shared with another file) */
	vigil_verdict dflt;  /* for its rules that state no severity */
	uint32_t first_rule[VG_YARA_NKINDS]; /* its rules' indexes in each */
	uint32_t nrules[VG_YARA_NKINDS];     /* compiler */
	/* Its not-MZ text as split (pe still named), kept until freeze
	 * compiles the not-MZ set; NULL when it has none. Its rules are
	 * all in its MZ text, which compiled at load, so a load error
	 * cannot hide here. */
	char *not_mz;
	size_t not_mz_len;
	int keep_pe;    /* the text without pe did not compile: use it as is */
} vg_yara_source;

typedef struct vg_yara {
	/* Sources compiled so far, one compiler per kind; NULL before the
	 * first source of that kind, and after a source failed (a
	 * YR_COMPILER that saw an error is unusable), in which case the next
	 * source or freeze rebuilds it from sources[]. The not-MZ compiler
	 * exists only during freeze (from the kept texts). */
	YR_COMPILER *compilers[VG_YARA_NKINDS];
	vg_yara_source *sources; /* the sources that compiled */
	size_t nsources, sources_cap;
	vg_yara_set *sets;   /* .yarc sets as loaded, then the sources' two */
	size_t nsets, sets_cap;
	int lib_ref;         /* holds a reference on libyara */
} vg_yara;

/* The state of engine e, created on first use; NULL on ENOMEM. */
vg_yara *vg_yara_get(vigil_engine *e);

/* Compiles a .yar/.yara file, in a namespace named after its base name,
 * split by rule into the MZ, not-MZ and rest compilers
 * (vg_yara_gate_split).
 * VIGIL_EDATABASE names file:line on a bad rule. */
VG_MUST_CHECK
vigil_error vg_yara_add_source(vigil_engine *e, vg_yara *y, const char *path);

/* Loads a .yarc file written by yarac or yr_rules_save as its own set. */
VG_MUST_CHECK
vigil_error vg_yara_add_compiled(vigil_engine *e, vg_yara *y,
                                 const char *path);

/*
 * Loads compiled rules held in memory (a bundle part) as a set; what
 * names them in messages. digest is the part's BLAKE2b-256, checked by
 * the bundle's signature: engines in one process that load a part with
 * the same digest share one YR_RULES (read-only while scanning), so a
 * reload whose YARA part did not change costs no second copy.
 */
vigil_error vg_yara_add_image(vigil_engine *e, vg_yara *y,
                              const uint8_t *data, size_t size,
                              const char *what, int gate,
                              const uint8_t digest[32]);

/* Writes each set as a bundle part (frozen engines only). */
struct vg_bundle_writer;
vigil_error vg_yara_save(const vg_yara *y, struct vg_bundle_writer *w);

/* Turns the sources into sets (MZ, rest, then not-MZ, built one at a
 * time: the not-MZ texts compile here, each without pe when that
 * compiles, else as written), reads
 * every rule's severity (yara_severity.h); sets e->cache_keys_name if
 * any set declares an external the rules could read. */
VG_MUST_CHECK
vigil_error vg_yara_freeze(vigil_engine *e, vg_yara *y);

/* Rules loaded so far, compiled or not. */
uint64_t vg_yara_count(const vg_yara *y);

/* Frees the state and drops its libyara reference. Accepts NULL. */
void vg_yara_free(vg_yara *y);

#endif
