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
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/bundle.h"

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

/* Remembers a database loaded, for vigil_engine_save_bundle. */
static vigil_error remember(vg_clamav *c, const char *path,
                            const uint8_t *data, size_t size, uint64_t sigs)
{
	const char *base = strrchr(path, '/');
	vg_clamav_db *nd = realloc(c->db, (c->dbs + 1) * sizeof *nd);

	if (!nd)
		return VIGIL_ENOMEM;
	c->db = nd;
	nd += c->dbs;
	memset(nd, 0, sizeof *nd);
	nd->name = strdup(base ? base + 1 : path);
	nd->path = data ? NULL : strdup(path);
	nd->data = data;
	nd->size = size;
	nd->sigs = sigs;
	if (!nd->name || (!data && !nd->path)) {
		free(nd->name);
		free(nd->path);
		return VIGIL_ENOMEM;
	}
	c->dbs++;
	return VIGIL_OK;
}

/* Writes all of data to a new file. */
static int write_file(const char *path, const uint8_t *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	if (vg_write_full(fd, data, n) != 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/*
 * libclamav loads databases from files only, and tells their type by
 * the name: a database held in memory (a bundle part) is written under
 * its name into a private directory (mode 0700, in $TMPDIR or /tmp),
 * loaded into cl, and removed. *sys_errno is set when the file could
 * not be written.
 */
static cl_error_t cl_load_mem(struct cl_engine *cl, const char *name,
                              const uint8_t *data, size_t size,
                              unsigned int *signo, int *sys_errno)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096], path[4200];
	cl_error_t r;

	snprintf(dir, sizeof dir, "%s/vigil-clamav-XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		*sys_errno = errno;
		return CL_ETMPDIR;
	}
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (write_file(path, data, size) != 0) {
		*sys_errno = errno;
		r = CL_EWRITE;
	} else {
		r = cl_load(path, cl, signo, CL_DB_STDOPT);
	}
	unlink(path);
	rmdir(dir);
	return r;
}

/* Loads one database, a loose file or a bundle part, into cl. */
static cl_error_t load_into(struct cl_engine *cl, const vg_clamav_db *d,
                            unsigned int *signo, int *sys_errno)
{
	*sys_errno = 0;
	if (d->path)
		return cl_load(d->path, cl, signo, CL_DB_STDOPT);
	return cl_load_mem(cl, d->name, d->data, d->size, signo, sys_errno);
}

/*
 * libclamav keeps the signatures it read before a bad line, and cannot
 * drop them: after a failed load, start over with a new libclamav
 * engine from the databases that loaded, so a file the caller skips
 * (vigil_engine_set_load_callback) leaves nothing behind.
 */
static vigil_error reload(vigil_engine *e, vg_clamav *c)
{
	struct cl_engine *cl = cl_engine_new();
	uint64_t sigs = 0;

	if (!cl)
		return vg_engine_fail(e, VIGIL_ENOMEM, "out of memory");
	for (unsigned i = 0; i < c->dbs; i++) {
		const vg_clamav_db *d = &c->db[i];
		unsigned int signo = 0;
		int sys;
		cl_error_t r = load_into(cl, d, &signo, &sys);
		if (r != CL_SUCCESS) {
			cl_engine_free(cl);
			return vg_engine_fail(e, VIGIL_ECLAMAV, "%s: changed while "
			                      "the databases were loading: %s",
			                      d->path ? d->path : d->name,
			                      sys ? strerror(sys) : cl_strerror(r));
		}
		sigs += signo;
	}
	cl_engine_free(c->cl);
	c->cl = cl;
	c->sigs = sigs;
	return VIGIL_OK;
}

/* Loads one database: the file path, or (data not NULL) a bundle part
 * named path whose bytes live in the bundle's mapping as long as the
 * engine; what names it in messages. */
static vigil_error load_db(vigil_engine *e, const char *path, const char *what,
                           const uint8_t *data, size_t size)
{
	vg_clamav **c = state_of(e);
	vg_clamav_db d = { .name = (char *)path,
	                   .path = data ? NULL : (char *)path,
	                   .data = data, .size = size };
	unsigned int signo = 0;
	vigil_error err;
	cl_error_t r;
	int sys;

	if (!*c && (err = vg_clamav_new(c)) != VIGIL_OK)
		return vg_engine_fail(e, err, "%s: libclamav cannot start", what);
	r = load_into((*c)->cl, &d, &signo, &sys);
	if (r != CL_SUCCESS) {
		if (sys)
			return vg_engine_fail(e, vg_error_from_errno(sys), "%s: %s",
			                      what, strerror(sys));
		if (r != CL_EMEM && (err = reload(e, *c)) != VIGIL_OK)
			return err;
		return vg_engine_fail(e, r == CL_EMEM ? VIGIL_ENOMEM
		                                      : VIGIL_EDATABASE,
		                      "%s: %s", what, cl_strerror(r));
	}
	(*c)->sigs += signo;
	if (remember(*c, path, data, size, signo) != VIGIL_OK)
		return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory", what);
	return VIGIL_OK;
}

static vigil_error clamav_load(vigil_engine *e, const char *path)
{
	return load_db(e, path, path, NULL, 0);
}

/* A bundle's ClamAV part, loaded from its bytes in the mapping. */
static vigil_error clamav_load_part(vigil_engine *e, const vg_bundle_part *p,
                                    const char *bundle)
{
	char what[4200];

	snprintf(what, sizeof what, "%s: part %s", bundle, p->name);
	return load_db(e, p->name, what, p->data, (size_t)p->size);
}

/* Copies a loose database file into the open part. */
static vigil_error copy_file(vg_bundle_writer *w, const char *path)
{
	uint8_t buf[1 << 16];
	vigil_error err = VIGIL_OK;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return vg_error_from_errno(errno);
	while (!err && (got = read(fd, buf, sizeof buf)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			err = vg_error_from_errno(errno);
			break;
		}
		err = vg_bundle_part_write(w, buf, (size_t)got);
	}
	close(fd);
	return err;
}

static vigil_error clamav_save(vigil_engine *e, vg_bundle_writer *w)
{
	const vg_clamav *c = vg_clamav_of(e);
	vigil_error err;

	for (unsigned i = 0; c && i < c->dbs; i++) {
		const vg_clamav_db *d = &c->db[i];
		if ((err = vg_bundle_part_begin(w, VG_PART_CLAMAV, 0, d->name)))
			return vg_engine_fail(e, err, "%s: %s", d->name,
			                      err == VIGIL_EINVAL ? "name too long for "
			                      "a bundle part" : vigil_strerror(err));
		err = d->path ? copy_file(w, d->path)
		              : vg_bundle_part_write(w, d->data, d->size);
		if (!err)
			err = vg_bundle_part_end(w, d->sigs);
		if (err)
			return vg_engine_fail(e, err, "%s: %s", d->path ? d->path
			                      : d->name, vigil_strerror(err));
	}
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
	.load_part = clamav_load_part,
	.save = clamav_save,
};
