/*
 * clamav.c - libclamav as vigil's second unpacker (OLE2 and VBA, PDF,
 * RTF, HTML, mail and MIME, uuencode, BinHex, TNEF, CHM, SIS, SZDD, ARJ,
 * NSIS, InstallShield, AutoIt, PE packers), and the one libclamav pass
 * per layer that the ClamAV database stage shares. See clamav.h for who
 * recurses.
 */
#include "config.h"

#include <clamav.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "engine/bytes.h"
#include "unpackers/clamav.h"
#include "unpackers/unpack.h"
#include "worker/worker.h"

/* ------------------------------------------------------------------ */
/* Engine-wide state                                                   */
/* ------------------------------------------------------------------ */

static pthread_once_t cl_once = PTHREAD_ONCE_INIT;
static cl_error_t cl_init_result = CL_EARG;

/* libclamav's warnings about hostile input would flood the CLI's
 * stderr; limits and damage reach the result as findings instead. */
static void quiet(enum cl_msg severity, const char *fullmsg,
                  const char *msg, void *context)
{
	(void)severity; (void)fullmsg; (void)msg; (void)context;
}

static void init_once(void)
{
	cl_set_clcb_msg(quiet);
	cl_init_result = cl_init(CL_INIT_DEFAULT);
}

const vg_clamav *vg_clamav_of(const vigil_engine *e)
{
	return e->stage_state[VG_STAGE_clamav];
}

vigil_error vg_clamav_new(vg_clamav **out)
{
	vg_clamav *c;

	*out = NULL;
	pthread_once(&cl_once, init_once);
	if (cl_init_result != CL_SUCCESS)
		return VIGIL_ECLAMAV;
	if (!(c = calloc(1, sizeof *c)))
		return VIGIL_ENOMEM;
	if (!(c->cl = cl_engine_new())) {
		free(c);
		return VIGIL_ENOMEM;
	}
	*out = c;
	return VIGIL_OK;
}

void vg_clamav_free(vg_clamav *c)
{
	if (!c)
		return;
	if (c->cl)
		cl_engine_free(c->cl);
	for (unsigned i = 0; c->db && i < c->dbs; i++) {
		free(c->db[i].name);
		free(c->db[i].path);
	}
	free(c->db);
	free(c);
}

/* The tighter of two limits where 0 is none. */
static uint64_t min_limit(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

static long long clamp_ll(uint64_t v, uint64_t max)
{
	return (long long)(v > max ? max : v);
}

static cl_error_t on_object(int fd, const char *type, const char **ancestors,
                            size_t parent_size, const char *file_name,
                            size_t file_size, const char *file_buffer,
                            uint32_t level, uint32_t attributes,
                            void *context);
static void on_virus(int fd, const char *virname, void *context);

vigil_error vg_clamav_compile(vigil_engine *e, vg_clamav *c)
{
	const uint64_t *lim = e->limits;
	struct cl_engine *cl = c->cl;
	cl_error_t r = CL_SUCCESS;

	/* libclamav's limits mirror vigil's, so it never extracts more for
	 * one layer than vigil would accept. */
	if (!r) r = cl_engine_set_num(cl, CL_ENGINE_MAX_SCANSIZE,
	                              clamp_ll(lim[VIGIL_LIMIT_MAX_EXTRACTED],
	                                       LLONG_MAX));
	/* 0 is no limit in both; a member is held to both size limits */
	if (!r) r = cl_engine_set_num(cl, CL_ENGINE_MAX_FILESIZE,
	                              clamp_ll(min_limit(
	                                  lim[VIGIL_LIMIT_MAX_MEMBER_SIZE],
	                                  lim[VIGIL_LIMIT_MAX_FILESIZE]),
	                                       LLONG_MAX));
	if (!r) r = cl_engine_set_num(cl, CL_ENGINE_MAX_RECURSION,
	                              clamp_ll(vg_max_depth(e), UINT32_MAX));
	if (!r) r = cl_engine_set_num(cl, CL_ENGINE_MAX_FILES,
	                              clamp_ll(lim[VIGIL_LIMIT_MAX_MEMBERS],
	                                       UINT32_MAX));
	if (!r) r = cl_engine_set_num(cl, CL_ENGINE_MAX_SCANTIME,
	                              clamp_ll(lim[VIGIL_LIMIT_MAX_SCAN_MS],
	                                       UINT32_MAX));
	/* vigil keeps its own verdict cache; libclamav's clean cache would
	 * also hide repeated objects from the inspection callback. */
	if (!r) r = cl_engine_set_num(cl, CL_ENGINE_DISABLE_CACHE, 1);
	if (r)
		return vg_engine_fail(e, VIGIL_ECLAMAV, "libclamav: %s",
		                      cl_strerror(r));
	cl_engine_set_clcb_file_inspection(cl, on_object);
	cl_engine_set_clcb_virus_found(cl, on_virus);
	if ((r = cl_engine_compile(cl)) != CL_SUCCESS)
		return vg_engine_fail(e, VIGIL_ECLAMAV, "libclamav: %s",
		                      cl_strerror(r));
	c->compiled = 1;
	return VIGIL_OK;
}

/* ------------------------------------------------------------------ */
/* One pass                                                            */
/* ------------------------------------------------------------------ */

typedef struct pass {
	vg_ctx *ctx;
	const vg_layer *layer;
	unsigned flags;
	vg_clamav_skip *skip;
	unsigned objects;     /* objects surfaced, to name unnamed ones */
	uint32_t broken_level;/* level of the last object handed to vigil */
	int stopped;          /* a limit ended this layer */
	vigil_error err;
} pass;

static int in_sorted(const char *const *v, size_t n, const char *name,
                     size_t *at)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, v[mid]);
		if (c == 0) {
			if (at)
				*at = mid;
			return 1;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* 1 when libclamav's name for an object says something: not absent and
 * not one of its own temporary file names. */
static int useful_name(const char *n)
{
	return n && *n && strncmp(n, "clamav-", 7) != 0;
}

/* "#3.msexe" for an unnamed object: its order and libclamav's type. */
static void object_name(pass *p, const char *file_name, const char *type,
                        char *out, size_t outlen)
{
	size_t i = 0;

	if (useful_name(file_name)) {
		while (*file_name == '/')
			file_name++;
		snprintf(out, outlen, "%s", *file_name ? file_name : "(unnamed)");
		return;
	}
	if (type && strncmp(type, "CL_TYPE_", 8) == 0)
		type += 8;
	i = (size_t)snprintf(out, outlen, "#%u.", p->objects);
	for (; type && *type && i + 1 < outlen; type++)
		out[i++] = (char)tolower((unsigned char)*type);
	out[i < outlen ? i : outlen - 1] = '\0';
}

/* An object libclamav hands over as a descriptor only: streamed through
 * the sink like any unpacker's member, so the limits hold before a byte
 * is read and a large one spills instead of filling memory. */
static vg_member_status member_from_fd(pass *p, const char *name, int fd,
                                       size_t size)
{
	uint8_t chunk[16384];
	vg_member m;
	vg_member_status st = vg_member_begin(&m, p->ctx, p->layer, name, size);
	off_t off = 0;

	while (st == VG_MEMBER_OK && (uint64_t)off < size) {
		ssize_t n = pread(fd, chunk, sizeof chunk, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			m.err = vg_ctx_fail(p->ctx, VIGIL_EIO);
		if (n <= 0)
			break;
		off += n;
		st = vg_member_write(&m, chunk, (size_t)n);
	}
	if (st != VG_MEMBER_OK || m.err) {
		p->err = vg_member_discard(&m);
		return p->err ? VG_MEMBER_STOP : st;
	}
	p->err = vg_member_finish(&m);
	return p->err ? VG_MEMBER_STOP : VG_MEMBER_OK;
}

static cl_error_t on_object(int fd, const char *type, const char **ancestors,
                            size_t parent_size, const char *file_name,
                            size_t file_size, const char *file_buffer,
                            uint32_t level, uint32_t attributes,
                            void *context)
{
	pass *p = context;
	const uint8_t *data = (const uint8_t *)file_buffer;
	char name[256];
	vg_member_status st;
	size_t at;

	(void)ancestors;
	(void)parent_size;
	if (!p || level == 0)
		return CL_CLEAN;
	/* Below an object already handed to vigil: CL_BREAK does not stop
	 * every format's extraction (7z), and the child's own pass will
	 * surface these. */
	if (p->broken_level && level > p->broken_level)
		return CL_BREAK;
	p->broken_level = 0;
	/* libclamav's working copies: let it look through them itself */
	if (attributes & LAYER_ATTRIBUTES_NORMALIZED)
		return CL_CLEAN;
	/* no unpacking wanted, or libarchive unpacks this layer */
	if (p->stopped || p->err || (p->flags & VG_CLAMAV_NO_ARCHIVE) ||
	    p->ctx->engine->options[VIGIL_OPT_NO_UNPACK] ||
	    vg_unpack_should_stop(p->ctx, p->layer))
		return CL_BREAK;
	/* the layer over again (an SFX stub, a format peeled to itself):
	 * let libclamav go on rather than recurse forever */
	if (file_size == p->layer->size && data &&
	    memcmp(data, p->layer->data, file_size) == 0)
		return CL_CLEAN;
	p->objects++;
	p->broken_level = level;
	object_name(p, file_name, type, name, sizeof name);
	if (p->skip && level == 1) {
		if (in_sorted(p->skip->done, p->skip->ndone, name, NULL))
			return CL_BREAK;
		if (in_sorted(p->skip->wanted, p->skip->nwanted, name, &at)) {
			if (!p->skip->recovered &&
			    !(p->skip->recovered = calloc(p->skip->nwanted, 1))) {
				p->err = vg_ctx_fail(p->ctx, VIGIL_ENOMEM);
				return CL_BREAK;
			}
			p->skip->recovered[at] = 1;
		}
	}
	if (!data && file_size && fd >= 0)
		st = member_from_fd(p, name, fd, file_size);
	else
		st = vg_member_scan(p->ctx, p->layer, name,
		                    data ? data : (const uint8_t *)"",
		                    data ? file_size : 0, &p->err);
	if (st == VG_MEMBER_STOP)
		p->stopped = 1;
	return CL_BREAK;
}

/* ClamAV's limit heuristics, as vigil's limit names. */
static const char *limit_name(const char *virname)
{
	static const struct { const char *clam; int id; } map[] = {
		{ "MaxFileSize", VG_F_MAX_MEMBER_SIZE },
		{ "MaxScanSize", VG_F_MAX_EXTRACTED },
		{ "MaxRecursion", VG_F_MAX_DEPTH },
		{ "MaxFiles", VG_F_MAX_MEMBERS },
		{ "MaxScanTime", VG_F_MAX_SCAN_MS },
	};
	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (strstr(virname, map[i].clam))
			return vg_finding_names[map[i].id];
	return VG_F(CLAMAV);
}

/* 1 when this layer already has the finding: with all-match, libclamav
 * reports a signature again on its normalised copy of the same text. */
static int reported(const pass *p, const char *stage, const char *name)
{
	const vigil_result *r = p->ctx->result;

	for (size_t i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].stage, stage) == 0 &&
		    strcmp(r->findings[i].name, name) == 0 &&
		    strcmp(r->findings[i].layer, p->layer->layer_path) == 0)
			return 1;
	return 0;
}

static void on_virus(int fd, const char *virname, void *context)
{
	pass *p = context;
	char detail[256];
	vigil_error err = VIGIL_OK;

	(void)fd;
	if (!p || !virname || p->err)
		return;
	snprintf(detail, sizeof detail, "libclamav: %s", virname);
	if (strncmp(virname, "Heuristics.Limits.Exceeded", 26) == 0)
		err = vg_limit_hit(p->ctx, p->layer, limit_name(virname), detail);
	else if (strncmp(virname, "Heuristics.Encrypted", 20) == 0)
		err = vg_member_encrypted(p->ctx, p->layer, NULL, virname + 11);
	else if ((p->flags & VG_CLAMAV_MATCH) && !reported(p, "clamav", virname))
		err = vg_report(p->ctx, p->layer, "clamav", virname,
		                strncmp(virname, "PUA.", 4) == 0 ||
		                strncmp(virname, "Heuristics.", 11) == 0 ?
		                VIGIL_SUSPICIOUS : VIGIL_MALICIOUS, 1.0, "");
	if (err)
		p->err = err;
}

/* libclamav's own limit errors, as vigil limits. */
static vigil_error scan_result(pass *p, cl_error_t r)
{
	switch (r) {
	case CL_CLEAN: case CL_VIRUS: case CL_BREAK:
		return VIGIL_OK;
	case CL_EMAXREC:
		return vg_limit_hit(p->ctx, p->layer, VG_F(MAX_DEPTH),
		                    "libclamav: nesting limit");
	case CL_EMAXSIZE:
		return vg_limit_hit(p->ctx, p->layer, VG_F(MAX_EXTRACTED),
		                    "libclamav: size limit");
	case CL_EMAXFILES:
		return vg_limit_hit(p->ctx, p->layer, VG_F(MAX_MEMBERS),
		                    "libclamav: file count limit");
	case CL_ETIMEOUT:
		return vg_limit_hit(p->ctx, p->layer, VG_F(MAX_SCAN_MS),
		                    "libclamav: time limit");
	case CL_EMEM:
		return VIGIL_ENOMEM;
	default:
		/* a format libclamav could not parse: nothing more to find */
		return VIGIL_OK;
	}
}

vigil_error vg_clamav_pass(vg_ctx *ctx, const vg_layer *layer,
                           unsigned flags, vg_clamav_skip *skip)
{
	const vg_clamav *c = vg_clamav_of(ctx->engine);
	struct cl_scan_options opts = {
		.general = CL_SCAN_GENERAL_ALLMATCHES |
		           CL_SCAN_GENERAL_HEURISTICS,
		.parse = ~0u,
		.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX |
		             CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE |
		             CL_SCAN_HEURISTIC_ENCRYPTED_DOC,
	};
	pass p = { .ctx = ctx, .layer = layer, .flags = flags, .skip = skip };
	const char *virname = NULL;
	unsigned long scanned = 0;
	cl_fmap_t *map;
	cl_error_t r;
	vigil_error err;

	if (!c || !c->compiled || layer->size == 0)
		return VIGIL_OK;
	/* libclamav parses the layer: in a worker (skip lists come only
	 * from libarchive's fallback, which already runs in one) */
	if (vg_isolated(ctx->engine))
		return vg_remote_clamav(ctx, layer, flags);
	if (flags & VG_CLAMAV_NO_ARCHIVE)
		opts.parse &= ~(uint32_t)CL_SCAN_PARSE_ARCHIVE;
	if (!(map = cl_fmap_open_memory(layer->data, layer->size)))
		return VIGIL_ENOMEM;
	r = cl_scanmap_callback(map, layer->name, &virname, &scanned, c->cl,
	                        &opts, &p);
	cl_fmap_close(map);
	if (p.err)
		return p.err;
	err = scan_result(&p, r);
	return err;
}

vigil_error vg_clamav_unpack(vg_ctx *ctx, const vg_layer *layer,
                             vg_clamav_skip *skip)
{
	return vg_clamav_pass(ctx, layer, 0, skip);
}

/* ------------------------------------------------------------------ */
/* The unpacker                                                        */
/* ------------------------------------------------------------------ */

/* Formats libclamav opens that vigil's type detection has no name for. */
static int clamav_magic(const uint8_t *d, size_t n)
{
	uint32_t uid2, uid3;

	if (vg_match(d, n, 0, "ITSF", 4) ||                     /* CHM */
	    vg_match(d, n, 0, "SZDD\x88\xf0\x27\x33", 8) ||     /* SZDD */
	    vg_match(d, n, 0, "\x78\x9f\x3e\x22", 4) ||         /* TNEF */
	    vg_match(d, n, 0, "MZ", 2) ||                       /* DOS, NE */
	    vg_match(d, n, 0, "ALZ\x01", 4) ||                 /* ALZip */
	    /* OneNote section: its file-format GUID, as libclamav types it */
	    vg_match(d, n, 0, "\xe4\x52\x5c\x7b\x8c\xd8\xa7\x4d"
	             "\xae\xb1\x53\x78\xd0\x29\x96\xd3", 16))
		return 1;
	/* SIS: UID3 0x10000419 after a UID2 of EPOC 6 or older */
	if (vg_u32le(d, n, 4, &uid2) && vg_u32le(d, n, 8, &uid3) &&
	    uid3 == 0x10000419 && (uid2 == 0x1000006d || uid2 == 0x10003a12))
		return 1;
	return 0;
}

/* Text that may carry a file libclamav can decode: BinHex 4, uuencode,
 * MIME parts, base64 data: URLs, embedded objects. Markers common in
 * ordinary source and documentation ("<a ", "data:", "Content-Type:")
 * are not enough: a libclamav pass costs far more than the text's other
 * stages, and text whose first KiB looks like HTML is typed HTML anyway
 * (and bid on as such). The head is lower-cased once and searched with
 * memmem: a case-insensitive compare at every offset cost more than the
 * rest of the scan. */
static int encoded_text(const uint8_t *d, size_t n)
{
	static const char *const markers[] = {
		"(this file must be converted with binhex", "\nbegin 6",
		"\nbegin 7", "content-transfer-encoding:", "mime-version:",
		";base64,", "<object", "<embed", "<iframe",
	};
	char lower[4096];
	size_t head = n < sizeof lower ? n : sizeof lower;

	if (vg_match(d, head, 0, "begin 6", 7) || vg_match(d, head, 0, "begin 7", 7))
		return 1;
	for (size_t i = 0; i < head; i++)
		lower[i] = (char)tolower(d[i]);
	for (size_t i = 0; i < sizeof markers / sizeof *markers; i++)
		if (memmem(lower, head, markers[i], strlen(markers[i])))
			return 1;
	return 0;
}

static int typed_bid(const vg_layer *layer)
{
	switch (layer->type) {
	case VG_FT_PE: case VG_FT_OLE2: case VG_FT_PDF: case VG_FT_RTF:
	case VG_FT_HTML: case VG_FT_MAIL: case VG_FT_ARJ:
		return VG_BID_MAGIC;
	case VG_FT_UNKNOWN:
		return clamav_magic(layer->data, layer->size) ? VG_BID_MAGIC
		                                              : VG_BID_NONE;
	case VG_FT_TEXT: case VG_FT_SCRIPT:
		return encoded_text(layer->data, layer->size) ? VG_BID_WEAK
		                                              : VG_BID_NONE;
	default:
		return VG_BID_NONE;
	}
}

static int clamav_bid(vg_ctx *ctx, const vg_layer *layer)
{
	const vg_clamav *c = vg_clamav_of(ctx->engine);
	int bid;

	if (!c || !c->compiled)
		return VG_BID_NONE;
	bid = typed_bid(layer);
	/* With ClamAV databases loaded, a libclamav pass reads every layer
	 * anyway (the clamav stage's, or this unpacker's when it wins):
	 * surfacing the objects it finds costs nothing more, so it takes
	 * any layer no other unpacker wants. */
	if (bid == VG_BID_NONE && c->dbs)
		bid = VG_BID_ANY;
	return bid;
}

/* With databases loaded, the clamav stage leaves the layers this
 * unpacker was chosen for to this one pass, which reports ClamAV's
 * signature names as well (signatures/stage_clamav.c). */
static vigil_error clamav_extract(vg_ctx *ctx, const vg_layer *layer)
{
	const vg_clamav *c = vg_clamav_of(ctx->engine);

	return vg_clamav_pass(ctx, layer, c && c->dbs ? VG_CLAMAV_MATCH : 0,
	                      NULL);
}

const vg_unpacker vg_unpacker_clamav = {
	.name = "libclamav",
	.isolated = 1,
	.bid = clamav_bid,
	.extract = clamav_extract,
};
