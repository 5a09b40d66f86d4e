/*
 * archive.c - the libarchive unpacker: archives (zip, 7z, RAR 4 and 5,
 * tar, cpio, cab, ISO 9660, xar, lha, ar) and compressed streams (gzip,
 * bzip2, xz, lzma, zstd, lz4, compress), read from memory.
 *
 * A member libarchive cannot decode (zip's deflate64 and implode, a
 * damaged stream) is handed to libclamav's unpacker afterwards, which
 * skips the members already scanned here.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unpackers/clamav.h"
#include "unpackers/unpack.h"

/* Bytes per archive_read_data call: small enough to stop a member soon
 * after it crosses a limit. */
#define READ_CHUNK 65536

static int is_stream(vg_filetype t)
{
	switch (t) {
	case VG_FT_GZIP: case VG_FT_BZIP2: case VG_FT_XZ: case VG_FT_LZMA:
	case VG_FT_ZSTD: case VG_FT_LZ4:
		return 1;
	default:
		return 0;
	}
}

static int archive_bid(vg_ctx *ctx, const vg_layer *layer)
{
	(void)ctx;
	switch (layer->type) {
	case VG_FT_ZIP: case VG_FT_SEVENZIP: case VG_FT_RAR: case VG_FT_TAR:
	case VG_FT_CPIO: case VG_FT_CAB: case VG_FT_ISO9660: case VG_FT_XAR:
	case VG_FT_LHA: case VG_FT_AR:
		return VG_BID_MAGIC;
	default:
		return is_stream(layer->type) ? VG_BID_MAGIC : VG_BID_NONE;
	}
}

/* In-process filters only: filter_all would also run external programs
 * (lrzip, lzop, grzip) on hostile input. */
static void add_filters(struct archive *a)
{
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_filter_compress(a);
}

static void add_formats(struct archive *a)
{
	archive_read_support_format_zip(a);
	archive_read_support_format_7zip(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_cab(a);
	archive_read_support_format_iso9660(a);
	archive_read_support_format_xar(a);
	archive_read_support_format_lha(a);
	archive_read_support_format_ar(a);
}

/* A reader over the layer's bytes; raw_only reads it as one stream.
 * NULL when libarchive cannot open it; *err is set when that was for
 * want of memory. */
static struct archive *reader_new(const vg_layer *layer, int raw_only,
                                  vigil_error *err)
{
	struct archive *a = archive_read_new();

	*err = VIGIL_OK;
	if (!a) {
		*err = VIGIL_ENOMEM;
		return NULL;
	}
	add_filters(a);
	if (!raw_only)
		add_formats(a);
	/* A bare compressed stream is one member, "raw". */
	if (raw_only || is_stream(layer->type))
		archive_read_support_format_raw(a);
	/* Reads in chunks, so the bytes consumed tell a member's ratio. */
	if (archive_read_open_memory2(a, layer->data, layer->size,
	                              READ_CHUNK) != ARCHIVE_OK) {
		if (archive_errno(a) == ENOMEM)
			*err = VIGIL_ENOMEM;
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* The name of a bare stream's content: the layer's name without its
 * compression suffix ("clam.exe.bz2" -> "clam.exe"). */
static void raw_name(const vg_layer *layer, char *out, size_t outlen)
{
	static const char *const sfx[][2] = {
		{ ".tgz", ".tar" }, { ".tbz2", ".tar" }, { ".tbz", ".tar" },
		{ ".txz", ".tar" }, { ".tzst", ".tar" }, { ".gz", "" },
		{ ".bz2", "" }, { ".xz", "" }, { ".lzma", "" }, { ".zst", "" },
		{ ".lz4", "" }, { ".Z", "" },
	};
	const char *n = layer->name ? layer->name : "";
	size_t len = strlen(n);

	for (size_t i = 0; i < sizeof sfx / sizeof *sfx; i++) {
		size_t sl = strlen(sfx[i][0]);
		if (len > sl && strcasecmp(n + len - sl, sfx[i][0]) == 0) {
			snprintf(out, outlen, "%.*s%s", (int)(len - sl), n,
			         sfx[i][1]);
			return;
		}
	}
	snprintf(out, outlen, "(decompressed)");
}

/* Names of members, for the libclamav fallback to skip or recover. */
typedef struct name_list {
	char **v;
	size_t n, cap;
} name_list;

static int names_add(name_list *l, const char *name)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **nv = realloc(l->v, cap * sizeof *nv);
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(name)))
		return -1;
	l->n++;
	return 0;
}

static void names_free(name_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

typedef struct walk {
	vg_ctx *ctx;
	const vg_layer *layer;
	struct archive *a;
	name_list done;       /* scanned here: the fallback skips them */
	name_list failed;     /* libarchive could not decode them */
	int members;          /* headers read */
	int stopped;          /* a limit or stop request ended the walk */
	int truncated;        /* a header could not be read */
	char why[256];
	uint8_t chunk[READ_CHUNK];
} walk;

/* Formats read front to back, where the input consumed while a member
 * is read bounds its compressed size. */
static int sequential(struct archive *a)
{
	switch (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) {
	case ARCHIVE_FORMAT_RAW: case ARCHIVE_FORMAT_TAR:
	case ARCHIVE_FORMAT_CPIO: case ARCHIVE_FORMAT_AR:
		return 1;
	default:
		return 0;
	}
}

/* VIGIL_ENOMEM when libarchive failed for want of memory: an error of
 * the scan, not damage in the archive. */
static vigil_error out_of_memory(const walk *w)
{
	if (archive_errno(w->a) == ENOMEM)
		return vg_ctx_fail(w->ctx, VIGIL_ENOMEM);
	return VIGIL_OK;
}

/* Streams one member's data into the sink. */
static vigil_error read_member(walk *w, struct archive_entry *ent,
                               const char *name)
{
	int seq = sequential(w->a);
	la_int64_t start = archive_filter_bytes(w->a, -1), now;
	vg_member m;
	vg_member_status st;
	uint64_t expected = archive_entry_size_is_set(ent) &&
	                    archive_entry_size(ent) > 0 ?
	                    (uint64_t)archive_entry_size(ent) : 0;
	la_ssize_t n;

	st = vg_member_begin(&m, w->ctx, w->layer, name, expected);
	while (st == VG_MEMBER_OK) {
		n = archive_read_data(w->a, w->chunk, sizeof w->chunk);
		if (n == 0)
			break;
		if (n < 0) {
			vigil_error err = vg_member_discard(&m);
			if (err == VIGIL_OK)
				err = out_of_memory(w);
			if (err != VIGIL_OK)
				return err;
			if (archive_entry_is_data_encrypted(ent))
				return vg_member_encrypted(w->ctx, w->layer, name,
				                           "archive member");
			snprintf(w->why, sizeof w->why, "%s",
			         archive_error_string(w->a) ?
			         archive_error_string(w->a) : "read error");
			return names_add(&w->failed, name) ?
			       vg_ctx_fail(w->ctx, VIGIL_ENOMEM) : VIGIL_OK;
		}
		/* input read ahead of this member's data is at most two
		 * chunks: add them, and the bound stays an upper bound */
		now = archive_filter_bytes(w->a, -1);
		if (seq && now >= start)
			vg_member_packed(&m, (uint64_t)(now - start) +
			                     2 * READ_CHUNK);
		st = vg_member_write(&m, w->chunk, (size_t)n);
	}
	if (st == VG_MEMBER_STOP)
		w->stopped = 1;
	if (st != VG_MEMBER_OK)
		return vg_member_discard(&m);
	if (names_add(&w->done, name)) {
		m.err = vg_ctx_fail(w->ctx, VIGIL_ENOMEM);
		return vg_member_discard(&m);
	}
	return vg_member_finish(&m);
}

/* One header: decides whether the entry is a member and reads it. */
static vigil_error visit(walk *w, struct archive_entry *ent)
{
	const char *name = archive_entry_pathname_utf8(ent);
	char rawname[256];

	if (!name)
		name = archive_entry_pathname(ent);
	if (archive_format(w->a) == ARCHIVE_FORMAT_RAW) {
		/* raw without a decompressing filter is the layer itself */
		if (archive_filter_count(w->a) < 2) {
			w->stopped = 1;
			return VIGIL_OK;
		}
		raw_name(w->layer, rawname, sizeof rawname);
		name = rawname;
	}
	if (archive_entry_filetype(ent) != AE_IFREG)
		return VIGIL_OK; /* directories, links, devices: no data */
	if (archive_entry_is_data_encrypted(ent)) {
		w->ctx->budget.members++;
		return vg_member_encrypted(w->ctx, w->layer, name,
		                           "archive member");
	}
	return read_member(w, ent, name ? name : "");
}

static vigil_error walk_archive(walk *w)
{
	struct archive_entry *ent;
	vigil_error err = VIGIL_OK;
	int retries = 0;

	while (!err && !w->stopped &&
	       !vg_unpack_should_stop(w->ctx, w->layer)) {
		int r = archive_read_next_header(w->a, &ent);
		if (r == ARCHIVE_EOF)
			break;
		if (r == ARCHIVE_RETRY && ++retries < 8)
			continue;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			if ((err = out_of_memory(w)) != VIGIL_OK)
				break;
			if (archive_read_has_encrypted_entries(w->a) > 0)
				return vg_member_encrypted(w->ctx, w->layer, NULL,
				                           "archive");
			w->truncated = 1;
			snprintf(w->why, sizeof w->why, "%s",
			         archive_error_string(w->a) ?
			         archive_error_string(w->a) : "bad header");
			break;
		}
		retries = 0;
		w->members++;
		err = visit(w, ent);
	}
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What neither libarchive nor libclamav read (recovered[i] set for the
 * failed members libclamav did read) makes the result INCOMPLETE. */
static vigil_error report_unread(walk *w, const unsigned char *recovered)
{
	vigil_error err = VIGIL_OK;
	char why[320];

	if (w->truncated && w->members > 0) {
		snprintf(why, sizeof why, "archive damaged after %d entries: %s",
		         w->members, w->why);
		err = vg_member_damaged(w->ctx, w->layer, NULL, why);
	}
	for (size_t i = 0; !err && i < w->failed.n; i++) {
		if (recovered && recovered[i])
			continue;
		snprintf(why, sizeof why, "member could not be decoded: %s",
		         w->why);
		err = vg_member_damaged(w->ctx, w->layer, w->failed.v[i], why);
	}
	return err;
}

/* libclamav reads what libarchive could not; what neither reads leaves
 * the result INCOMPLETE. */
static vigil_error fallback(walk *w)
{
	vg_clamav_skip skip;
	vigil_error err;

	/* A 7z that libarchive read in part has a member coded with a
	 * method or filter libclamav's 7z reader lacks too: a second pass
	 * would inflate the whole solid stream again for nothing. */
	if (w->layer->type == VG_FT_SEVENZIP && w->members > 0)
		return report_unread(w, NULL);

	/* qsort wants a real array even for zero elements */
	if (w->done.n)
		qsort(w->done.v, w->done.n, sizeof *w->done.v, cmp_str);
	if (w->failed.n)
		qsort(w->failed.v, w->failed.n, sizeof *w->failed.v, cmp_str);
	skip = (vg_clamav_skip){
		.done = (const char *const *)w->done.v, .ndone = w->done.n,
		.wanted = (const char *const *)w->failed.v,
		.nwanted = w->failed.n,
	};
	err = vg_clamav_unpack(w->ctx, w->layer, &skip);
	if (err == VIGIL_OK && !w->ctx->stop)
		err = report_unread(w, skip.recovered);
	free(skip.recovered);
	return err;
}

static vigil_error archive_extract(vg_ctx *ctx, const vg_layer *layer)
{
	walk *w = calloc(1, sizeof *w);
	vigil_error err = VIGIL_OK;

	if (!w)
		return vg_ctx_fail(ctx, VIGIL_ENOMEM);
	w->ctx = ctx;
	w->layer = layer;
	if ((w->a = reader_new(layer, 0, &err))) {
		err = walk_archive(w);
		archive_read_free(w->a);
	} else {
		w->truncated = 1;
	}
	/* A stream that decompressed to an empty archive (tar reads a block
	 * of zeros as its end) or to one libarchive cannot read through a
	 * filter (7z and zip want to seek) is read again as one member. */
	if (!err && is_stream(layer->type) && w->done.n == 0 && !w->stopped &&
	    !ctx->stop && (w->a = reader_new(layer, 1, &err))) {
		names_free(&w->failed);
		memset(&w->failed, 0, sizeof w->failed);
		w->truncated = 0;
		w->members = 0;
		err = walk_archive(w);
		archive_read_free(w->a);
	}
	/* Nothing read at all: not really this format, or beyond
	 * libarchive; libclamav may still know it. */
	if (!err && !ctx->stop && !w->stopped &&
	    (w->failed.n || w->truncated))
		err = fallback(w);
	names_free(&w->done);
	names_free(&w->failed);
	free(w);
	return vg_ctx_fail(ctx, err);
}

const vg_unpacker vg_unpacker_archive = {
	.name = "libarchive",
	.isolated = 1,
	.bid = archive_bid,
	.extract = archive_extract,
};
