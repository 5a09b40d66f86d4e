/*
 * clamav.h - libclamav inside vigil, in two roles that share one pass
 * over a layer: the ClamAV database stage (signatures/stage_clamav.c)
 * and the unpacker for what libarchive cannot open (unpackers/clamav.c).
 *
 * Who recurses: libclamav opens one layer; every object it surfaces
 * through the file inspection callback becomes a vigil child layer
 * (vg_scan_child, so hashes, YARA, ClamAV and ML all see it), and the
 * callback answers CL_BREAK so libclamav does not descend into it a
 * second time. The child's own pass descends further. So each layer is
 * scanned once, with one libclamav pass, and layer paths come from
 * vigil's own recursion. Normalised layers (HTML with comments and tags
 * removed, ...) are libclamav's working copies, not objects: libclamav
 * keeps descending through them, and what it finds below becomes a
 * child of the layer being scanned.
 */
#ifndef VIGIL_UNPACK_CLAMAV_H
#define VIGIL_UNPACK_CLAMAV_H

#include <stddef.h>
#include <stdint.h>

#include "engine/vg.h"

struct cl_engine;

/* The engine-wide libclamav state, owned by the clamav stage and kept in
 * engine->stage_state[VG_STAGE_clamav]. Read-only once frozen. */
typedef struct vg_clamav {
	struct cl_engine *cl;
	uint64_t sigs;      /* ClamAV signatures loaded */
	unsigned dbs;       /* database files loaded */
	char **db_paths;    /* their paths, dbs of them, to reload from */
	int compiled;
} vg_clamav;

/* The engine's libclamav state, or NULL when none was set up. */
const vg_clamav *vg_clamav_of(const vigil_engine *e);

/* Creates the state with an empty libclamav engine (cl_init once per
 * process). VIGIL_ECLAMAV when libclamav cannot start. */
VG_MUST_CHECK
vigil_error vg_clamav_new(vg_clamav **out);
void vg_clamav_free(vg_clamav *c);

/* Mirrors vigil's limits into libclamav, installs the callbacks and
 * compiles. Called at freeze. */
VG_MUST_CHECK
vigil_error vg_clamav_compile(vigil_engine *e, vg_clamav *c);

/* Members another unpacker already scanned (sorted, skipped when
 * libclamav surfaces them at the first level) and members it could not
 * decode (sorted; recovered[i] is set when libclamav surfaces
 * wanted[i]; the caller frees recovered). */
typedef struct vg_clamav_skip {
	const char *const *done;
	size_t ndone;
	const char *const *wanted;
	size_t nwanted;
	unsigned char *recovered;
} vg_clamav_skip;

#define VG_CLAMAV_MATCH 0x1       /* report ClamAV signature names */
#define VG_CLAMAV_NO_ARCHIVE 0x2  /* the layer's objects are not libclamav's:
                                   * another unpacker (or none) owns them */

/* One libclamav pass over a layer (see the top of this file). skip may
 * be NULL. */
VG_MUST_CHECK
vigil_error vg_clamav_pass(vg_ctx *ctx, const vg_layer *layer,
                           unsigned flags, vg_clamav_skip *skip);

/* The unpacker role alone, for libarchive's fallback. */
VG_MUST_CHECK
vigil_error vg_clamav_unpack(vg_ctx *ctx, const vg_layer *layer,
                             vg_clamav_skip *skip);

#endif /* VIGIL_UNPACK_CLAMAV_H */
