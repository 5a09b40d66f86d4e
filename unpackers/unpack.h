/*
 * unpack.h - what unpackers share: the unpacker vtable the registry
 * bids with, and the member sink every unpacker streams members into.
 *
 * The sink owns the limits on members (depth, member count, member and
 * file size, total extracted, compression ratio, time), and it is the
 * only place that checks them: each unpacker only moves bytes, a member
 * stops growing the moment it crosses a limit, nothing is inflated just
 * to learn that it was too big, and vg_scan_child (engine/pipeline.c)
 * scans what the sink admitted without checking again.
 *
 * Errors: a limit is a finding (INCOMPLETE), never an error. A failure
 * of vigil itself (out of memory) is an error: the sink records it in
 * the scan's context (vg_ctx_fail), stops the member with
 * VG_MEMBER_STOP, and hands it back from vg_member_discard /
 * vg_member_finish; unpackers return it.
 */
#ifndef VIGIL_UNPACK_H
#define VIGIL_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#include "engine/vg.h"

/* Bids: roughly the bits of magic confirmed, as libarchive bids. */
#define VG_BID_NONE 0
#define VG_BID_ANY 1       /* takes any layer no one else wants */
#define VG_BID_WEAK 8      /* a guess: the format may be in there */
#define VG_BID_MAGIC 32    /* a full magic number matched */

typedef struct vg_unpacker {
	const char *name;
	/* How sure this unpacker is that it can open the layer; peeks only
	 * (the stages have not run yet: see vg_layer.unpacker). */
	int (*bid)(vg_ctx *ctx, const vg_layer *layer);
	/*
	 * Extracts every member through vg_member_*. VIGIL_OK once the
	 * layer was handled, even partly (limits and damage are findings);
	 * an error only for a failure of vigil itself (ENOMEM).
	 */
	vigil_error (*extract)(vg_ctx *ctx, const vg_layer *layer);
	/* 1 when extract runs third-party parsers: it runs in an unpacking
	 * worker unless isolation is off (worker/worker.h). */
	int isolated;
} vg_unpacker;

/* Every unpacker, from the list in unpackers/unpacker_list.h. */
#define VG_UNPACKER(id) extern const vg_unpacker vg_unpacker_##id;
#include "unpackers/unpacker_list.h"
#undef VG_UNPACKER
/* An unpacker's place in unpacker_list.h, and back (how a job names
 * the unpacker to a worker); -1 and NULL when there is none. */
int vg_unpacker_index(const vg_unpacker *u);
const vg_unpacker *vg_unpacker_at(unsigned i);

/* ------------------------------------------------------------------ */
/* Member sink                                                         */
/* ------------------------------------------------------------------ */

/* Members up to this size stay in memory; larger ones spill into an
 * unlinked temporary file (O_TMPFILE) that is mapped for the scan. */
#define VG_MEMBER_MEM_MAX (8u << 20)

/* What the unpacker should do after a vg_member_* call. */
typedef enum vg_member_status {
	VG_MEMBER_OK = 0,   /* go on */
	VG_MEMBER_SKIP,     /* drop this member, go on with the next */
	VG_MEMBER_STOP      /* stop extracting this layer */
} vg_member_status;

typedef struct vg_member {
	vg_ctx *ctx;
	const vg_layer *parent;
	char *name;
	uint64_t size;        /* bytes received so far */
	uint64_t packed;      /* bound on its compressed size, for the ratio */
	uint64_t smallest;    /* size of the smallest container above it */
	uint64_t top_size;    /* size of the top-level object */
	uint8_t *buf;         /* in-memory bytes, below VG_MEMBER_MEM_MAX */
	size_t cap;
	int fd;               /* spill file once past VG_MEMBER_MEM_MAX, or -1 */
	vg_member_status status;
	vigil_error err;      /* why it stopped, when vigil itself failed */
} vg_member;

/*
 * Checks the limits that hold before a member exists (stop request,
 * time, depth, member count, total extracted) and starts one. name may
 * be NULL or "" ("(unnamed)" is used). expected is the size the
 * container claims, or 0 when unknown: it sizes the buffer and refuses
 * a member declared larger than the limit without reading any of it.
 */
vg_member_status vg_member_begin(vg_member *m, vg_ctx *ctx,
                                 const vg_layer *parent, const char *name,
                                 uint64_t expected);
/* Tightens the bound on the member's compressed size, when the unpacker
 * knows better than the smallest container's size. */
void vg_member_packed(vg_member *m, uint64_t bound);
/* Appends bytes, checking member size, total and ratio as they grow. */
vg_member_status vg_member_write(vg_member *m, const void *data, size_t n);
/* Scans the finished member as a child layer and releases it; returns
 * the scan's error, or the error that stopped the member. */
VG_MUST_CHECK vigil_error vg_member_finish(vg_member *m);
/* Releases a member that will not be scanned (counting its bytes);
 * returns the error that stopped it, if vigil itself failed. */
VG_MUST_CHECK vigil_error vg_member_discard(vg_member *m);

/*
 * Scans bytes already whole in memory as a child layer, with the same
 * checks as the sink (used for members another library hands over in
 * one piece, such as libclamav's). VG_MEMBER_STOP when a limit ends
 * the layer or *err is set.
 */
vg_member_status vg_member_scan(vg_ctx *ctx, const vg_layer *parent,
                                const char *name, const uint8_t *data,
                                size_t size, vigil_error *err);

/*
 * Reports an encrypted member that cannot be read: SUSPICIOUS with
 * VIGIL_OPT_ENCRYPTED_SUSPICIOUS, else an informational finding. A NULL
 * name means the parent layer itself is encrypted.
 */
VG_MUST_CHECK
vigil_error vg_member_encrypted(vg_ctx *ctx, const vg_layer *parent,
                                const char *name, const char *what);

/*
 * Reports a container that ended early or could not be fully read: the
 * part that was read is kept, and the result becomes INCOMPLETE. name
 * as for vg_member_encrypted.
 */
VG_MUST_CHECK
vigil_error vg_member_damaged(vg_ctx *ctx, const vg_layer *parent,
                              const char *name, const char *why);

/* 1 when unpacking of this object should stop: stop request, time. */
int vg_unpack_should_stop(vg_ctx *ctx, const vg_layer *layer);

#endif /* VIGIL_UNPACK_H */
