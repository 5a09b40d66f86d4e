/*
 * stage_clamav.c - ClamAV databases as a stage: .cvd, .cld, .cud, .ndb,
 * .ldb, .cdb, .ign2 and the rest load through libclamav, and every layer
 * gets one libclamav pass that reports ClamAV's signature names. Who
 * makes that pass is settled by the layer's chosen unpacker
 * (vg_layer.unpacker): when it is libclamav, the unpacker's pass (run
 * after the stages) also reports the names, and this stage leaves the
 * layer alone; otherwise this stage's pass matches only and surfaces
 * no objects, which are the chosen unpacker's (see unpackers/clamav.h).
 *
 * .hdb, .hsb, .fp and .sfp are vigil's hash stage's (it comes first in
 * the stage list); inside a .cvd they are libclamav's.
 */
#include "config.h"

#include <clamav.h>
#include <stdlib.h>
#include <string.h>

#include "unpackers/clamav.h"
#include "unpackers/unpack.h"

static const char *const clamav_extensions[] = {
	".cvd", ".cld", ".cud",          /* signed and unsigned bundles */
	".ndb", ".ndu", ".ldb", ".ldu",  /* body and logical signatures */
	".mdb", ".mdu", ".msb", ".msu",  /* PE section hashes */
	".hdu", ".hsu", ".imp",          /* unofficial hashes, imports */
	".cdb", ".cbc", ".idb", ".crb",  /* container, bytecode, icons, certs */
	".ign", ".ign2", ".ftm",         /* ignore lists, file types */
	".pdb", ".gdb", ".wdb",          /* phishing */
	".pwdb",                         /* archive passwords */
	NULL
};

static vg_clamav **state_of(vigil_engine *e)
{
	return (vg_clamav **)&e->stage_state[VG_STAGE_clamav];
}

/*
 * libclamav keeps the signatures it read before a bad line, and cannot
 * drop them: after a failed load, start over with a new libclamav
 * engine from the files that loaded, so a file the caller skips
 * (vigil_engine_set_load_callback) leaves nothing behind.
 */
static vigil_error reload(vigil_engine *e, vg_clamav *c)
{
	struct cl_engine *cl = cl_engine_new();
	uint64_t sigs = 0;

	if (!cl)
		return vg_engine_fail(e, VIGIL_ENOMEM, "out of memory");
	for (unsigned i = 0; i < c->dbs; i++) {
		unsigned int signo = 0;
		cl_error_t r = cl_load(c->db_paths[i], cl, &signo, CL_DB_STDOPT);
		if (r != CL_SUCCESS) {
			cl_engine_free(cl);
			return vg_engine_fail(e, VIGIL_ECLAMAV, "%s: changed while "
			                      "the databases were loading: %s",
			                      c->db_paths[i], cl_strerror(r));
		}
		sigs += signo;
	}
	cl_engine_free(c->cl);
	c->cl = cl;
	c->sigs = sigs;
	return VIGIL_OK;
}

static vigil_error clamav_load(vigil_engine *e, const char *path)
{
	vg_clamav **c = state_of(e);
	unsigned int signo = 0;
	vigil_error err;
	char **paths;
	cl_error_t r;

	if (!*c && (err = vg_clamav_new(c)) != VIGIL_OK)
		return vg_engine_fail(e, err, "%s: libclamav cannot start", path);
	if (!(paths = realloc((*c)->db_paths, ((*c)->dbs + 1) * sizeof *paths)))
		return vg_engine_fail(e, VIGIL_ENOMEM, "out of memory");
	(*c)->db_paths = paths;
	if (!(paths[(*c)->dbs] = strdup(path)))
		return vg_engine_fail(e, VIGIL_ENOMEM, "out of memory");
	r = cl_load(path, (*c)->cl, &signo, CL_DB_STDOPT);
	if (r != CL_SUCCESS) {
		free(paths[(*c)->dbs]);
		if (r != CL_EMEM && (err = reload(e, *c)) != VIGIL_OK)
			return err;
		return vg_engine_fail(e, r == CL_EMEM ? VIGIL_ENOMEM
		                                      : VIGIL_EDATABASE,
		                      "%s: %s", path, cl_strerror(r));
	}
	(*c)->sigs += signo;
	(*c)->dbs++;
	return VIGIL_OK;
}

static vigil_error clamav_freeze(vigil_engine *e)
{
	vg_clamav **c = state_of(e);
	vigil_error err;

	/* Without databases, libclamav serves only as an unpacker. */
	if (!*c) {
		if (e->options[VIGIL_OPT_NO_UNPACK])
			return VIGIL_OK;
		if ((err = vg_clamav_new(c)) != VIGIL_OK)
			return vg_engine_fail(e, err, "libclamav cannot start");
	}
	return vg_clamav_compile(e, *c);
}

static void clamav_engine_free(vigil_engine *e)
{
	vg_clamav **c = state_of(e);

	vg_clamav_free(*c);
	*c = NULL;
}

static vigil_error clamav_scan(vg_ctx *ctx, const vg_layer *layer,
                               void *state)
{
	const vg_clamav *c = vg_clamav_of(ctx->engine);
	unsigned flags = VG_CLAMAV_MATCH;

	(void)state;
	if (!c || !c->dbs)
		return VIGIL_OK;
	/* one libclamav pass per layer: the unpacker's, when it is chosen */
	if (layer->unpacker == &vg_unpacker_clamav)
		return VIGIL_OK;
	/* objects inside are the chosen unpacker's, or no one's */
	flags |= VG_CLAMAV_NO_ARCHIVE;
	return vg_clamav_pass(ctx, layer, flags, NULL);
}

static uint64_t clamav_count(const vigil_engine *e)
{
	const vg_clamav *c = vg_clamav_of(e);
	return c ? c->sigs : 0;
}

const vg_stage vg_stage_clamav = {
	.name = "clamav",
	.extensions = clamav_extensions,
	.load = clamav_load,
	.freeze = clamav_freeze,
	.engine_free = clamav_engine_free,
	.scan = clamav_scan,
	.count = clamav_count,
};
