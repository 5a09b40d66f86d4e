/*
 * vg.h - libvigil internals shared across files (never installed).
 *
 * Naming: exported API is vigil_*, cross-file internals are vg_*, and
 * file-local helpers are static. grep tells them apart.
 */
#ifndef VIGIL_VG_H
#define VIGIL_VG_H

#include <pthread.h>
#include <sys/types.h>
#include <stdint.h>
#include <stddef.h>
#include <stdatomic.h>

#include "vigil/vigil.h"
#include "engine/attrs.h"
#include "engine/filetype.h"
#include "engine/digest.h"

struct vg_cache;
struct vg_ctx;
struct vg_bundle_part;
struct vg_bundle_writer;
struct vg_bundle_map;
struct vg_pool;
struct vg_job_buf;
struct vg_unpacker;

/* ------------------------------------------------------------------ */
/* Layers: every object scanned, top-level file or extracted member.   */
/* ------------------------------------------------------------------ */

typedef struct vg_layer {
	const uint8_t *data;     /* the bytes; never read past size */
	size_t size;
	vg_filetype type;        /* from magic bytes */
	const char *name;        /* base file or member name; may be "" */
	const char *path;        /* full path for externals; may be "" */
	const char *layer_path;  /* "" at the top, "a.zip!b/c.exe" below */
	unsigned depth;          /* 0 at the top */
	int fd;                  /* descriptor holding data, or -1 */
	const struct vg_layer *parent;
	const char *owner;       /* owner's user name for externals, or "" */
	vg_digest digest;        /* filled before the stages run */
	/* The unpacker that will extract this layer's members, chosen once
	 * by the registry before the stages run (NULL: none, or unpacking
	 * is off). Stages that share work with an unpacker ask this record,
	 * never the unpackers themselves. */
	const struct vg_unpacker *unpacker;
} vg_layer;

/* ------------------------------------------------------------------ */
/* Stages: one file each, listed once in engine/stage_list.h.          */
/* ------------------------------------------------------------------ */

typedef struct vg_stage {
	const char *name;
	/* File extensions (with dot) this stage loads; NULL-terminated. */
	const char *const *extensions;
	/* Load one signature file into the engine (before freeze). */
	vigil_error (*load)(vigil_engine *e, const char *path);
	/* Build the read-only tables; called once by vigil_engine_freeze. */
	vigil_error (*freeze)(vigil_engine *e);
	/* Free the stage's engine state (it may never have been set). */
	void (*engine_free)(vigil_engine *e);
	/* Per-scanner state (e.g. a YR_SCANNER); both may be NULL. */
	vigil_error (*scanner_new)(const vigil_engine *e, void **state);
	void (*scanner_free)(void *state);
	/* Scan one layer, reporting findings through vg_report. */
	vigil_error (*scan)(struct vg_ctx *ctx, const vg_layer *layer,
	                    void *state);
	/* Signatures loaded, for vigil_engine_signature_count. */
	uint64_t (*count)(const vigil_engine *e);
	/* VG_DIGEST_* flags the stage needs for an object of this size;
	 * NULL when it needs none beyond XXH3-128 and SHA-256. */
	unsigned (*digests)(const vigil_engine *e, uint64_t size);
	/* Bundles (engine/bundle.h): loads one part of a kind the stage
	 * owns, whose bytes stay mapped as long as the engine lives; and
	 * writes the stage's parts of a frozen engine. NULL when none. */
	vigil_error (*load_part)(vigil_engine *e,
	                         const struct vg_bundle_part *part,
	                         const char *bundle_path);
	vigil_error (*save)(vigil_engine *e, struct vg_bundle_writer *w);
} vg_stage;

#define VG_STAGE(id) VG_STAGE_##id,
enum vg_stage_id {
#include "engine/stage_list.h"
	VG_STAGE_COUNT
};
#undef VG_STAGE

/* The table, in pipeline order (engine/stages.c). */
extern const vg_stage *const vg_stages[VG_STAGE_COUNT];

/* ------------------------------------------------------------------ */
/* Engine                                                              */
/* ------------------------------------------------------------------ */

#define VG_ENGINE_MAGIC 0x5647454eu /* "VGEN" */
#define VG_ERRMSG_MAX 512

struct vigil_engine {
	uint32_t magic;
	int frozen;
	uint64_t limits[VIGIL_LIMIT_COUNT];
	int options[VIGIL_OPTION_COUNT];
	/* Each stage's engine state, owned by the stage. */
	void *stage_state[VG_STAGE_COUNT];
	/* Changes whenever a different signature set is frozen; part of
	 * every cache key so a reloaded engine never reuses old verdicts. */
	uint64_t generation;
	struct vg_cache *cache;
	/* The unpacking workers (worker/pool.c), set at freeze unless
	 * VIGIL_OPT_NO_ISOLATION or VIGIL_OPT_NO_UNPACK; locks itself. */
	struct vg_pool *pool;
	/* Set at freeze when some rule reads the object's name or owner
	 * (YARA externals): cache keys then include them, so a verdict is
	 * never reused for a file the rules would judge differently. */
	int cache_keys_name;
	/* Thresholds set by vigil_engine_set_threshold; the unset ones come
	 * from the model (ML) or vg_threshold_defaults (YARA). */
	double thresholds[VIGIL_THRESHOLD_COUNT];
	int threshold_set[VIGIL_THRESHOLD_COUNT];
	/* The default verdict of YARA rules that state no severity, for the
	 * vigil_engine_load_as call in progress (MALICIOUS otherwise). */
	vigil_verdict load_verdict;
	vigil_load_error_cb load_cb;
	void *load_cb_userdata;
	/* Bundles: the trust store (NULL: the built-in default), the
	 * lowest version accepted, the highest loaded, and the mappings
	 * the stages read from until the engine is freed. */
	char *trust_dir;
	uint64_t min_bundle_version;
	uint64_t bundle_version;
	struct vg_bundle_map *bundles;
	char errmsg[VG_ERRMSG_MAX];
};

/* The value of a threshold: set, else its default; ML ones need the ML
 * stage's model, so that stage answers for them (ml/stage_ml.c). */
double vg_ml_threshold_default(const vigil_engine *e, vigil_threshold which);

/* The vigil_error for an errno value (ENOENT, EACCES, ...). */
vigil_error vg_error_from_errno(int err);

/* Writes all of buf to fd, retrying EINTR: 0, or -1 with errno set
 * (EIO for a write that wrote nothing). The one copy of this loop. */
int vg_write_full(int fd, const void *buf, size_t len);

/* Records a message for vigil_engine_last_error and returns err. */
vigil_error vg_engine_fail(vigil_engine *e, vigil_error err,
                           const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------ */
/* Findings and results                                                */
/* ------------------------------------------------------------------ */

/* The findings about the scan itself (engine/finding_list.h): VG_F_<id>
 * for each, the limits' first and in vigil_limit order. */
#define VG_LIMIT(limit, name) VG_F_##limit,
#define VG_FINDING(id, name) VG_F_##id,
enum vg_finding_id {
#include "engine/finding_list.h"
	VG_F_COUNT
};
#undef VG_LIMIT
#undef VG_FINDING

/* Their names, "Limit.MaxDepth", ...; NULL for a limit with none. */
extern const char *const vg_finding_names[VG_F_COUNT];
#define VG_F(id) (vg_finding_names[VG_F_##id])

struct vigil_finding {
	const char *stage;   /* static string: the stage's name */
	char *name;
	char *layer;
	char *detail;
	char *reason;        /* why this verdict; "" when the stage says nothing */
	vigil_verdict verdict;
	double score;
};

struct vigil_result {
	vigil_verdict verdict;
	vigil_finding *findings;
	size_t nfindings, cap;
	char sha256[65];
	const char *type;    /* static string from vg_filetype_name */
	uint64_t size;
	uint64_t bytes_scanned;
	uint64_t time_us;
	int cached;
	/* Monotonic time after which the verdict cache must not serve this
	 * result (a cloud answer's TTL); 0 for never. */
	uint64_t expires_us;
};

vigil_result *vg_result_new(void);
/* Appends a copy of the strings; NULL strings become "". */
VG_MUST_CHECK
vigil_error vg_result_add(vigil_result *r, const char *stage,
                          const char *name, const char *layer,
                          vigil_verdict v, double score,
                          const char *detail, const char *reason);
/* Deep copy, for the cache. NULL on ENOMEM. */
vigil_result *vg_result_clone(const vigil_result *r);

/* ------------------------------------------------------------------ */
/* Scanner and per-scan context                                        */
/* ------------------------------------------------------------------ */

#define VG_SCANNER_MAGIC 0x5647534eu /* "VGSN" */

struct vigil_scanner {
	uint32_t magic;
	const vigil_engine *engine;
	void *stage_state[VG_STAGE_COUNT];
	vigil_finding_cb cb;
	void *cb_userdata;
	uint8_t *buf;        /* reusable read buffer for small files */
	size_t bufcap;
	uid_t owner_uid;     /* last owner looked up, and its name */
	char owner[64];
	/* Buffers of the jobs sent to unpacking workers, one per level of
	 * nesting in progress, kept for the next (worker/remote.c). */
	struct vg_job_buf *job_bufs;
	char errmsg[VG_ERRMSG_MAX];
};

/* Budget shared by all layers of one top-level object. */
typedef struct vg_budget {
	uint64_t extracted;  /* bytes of members produced so far */
	uint64_t members;    /* members produced so far */
	uint64_t deadline_us;/* monotonic time at which the scan stops */
} vg_budget;

/*
 * Out of memory, and every other failure of vigil itself during a scan,
 * ends the scan of that object with the error (VIGIL_ENOMEM, ...):
 * vigil_scan_* returns it and no result, never a CLEAN one. Code that
 * can return the error does; code that cannot (library callbacks,
 * int-returning helpers) records it with vg_ctx_fail, and the first
 * error recorded is what the scan returns, whatever the callers above
 * did with their own return values.
 */
typedef struct vg_ctx {
	vigil_scanner *scanner;
	const vigil_engine *engine;
	vigil_result *result;
	vg_budget budget;
	vigil_error err;     /* first failure recorded (vg_ctx_fail) */
	int stop;            /* a callback asked to stop, a limit ended the
	                      * whole object, or err is set: scan nothing
	                      * more */
	int incomplete;      /* set when any limit was hit */
	uint64_t name_key[2];    /* mixed into content_key (see cache_keys_name) */
	uint64_t content_key[2]; /* top-level cache key, set by the pipeline */
	int allowlisted;     /* set by the allowlist for the current layer */
	double ml_score;     /* the ML stage's score of the current layer,
	                      * -1 when it scored none (for the cloud stage) */
	/* In an unpacking worker only: takes over vg_scan_child, handing
	 * each member back to the caller (worker/serve.c). */
	vigil_error (*child)(struct vg_ctx *ctx, const struct vg_layer *parent,
	                     const char *name, const uint8_t *data,
	                     size_t size);
	/* In an unpacking worker only: a member sink's member larger than
	 * spill_at bytes goes into a memfd (spill_fd makes one) from its
	 * first byte past it, and child_fd hands that memfd back whole
	 * instead of child copying the bytes (unpackers/member.c). */
	size_t spill_at;
	int (*spill_fd)(void);
	vigil_error (*child_fd)(struct vg_ctx *ctx,
	                        const struct vg_layer *parent,
	                        const char *name, int fd, size_t size);
} vg_ctx;

/*
 * Reports a finding on a layer: adds it to the result and calls the
 * user's callback, which may set ctx->stop. Stages check ctx->stop and
 * return early when it is set.
 */
VG_MUST_CHECK
vigil_error vg_report(vg_ctx *ctx, const vg_layer *layer, const char *stage,
                      const char *name, vigil_verdict v, double score,
                      const char *detail);
/* vg_report with the reason for the verdict (vigil_finding_reason). */
vigil_error vg_report_why(vg_ctx *ctx, const vg_layer *layer,
                          const char *stage, const char *name,
                          vigil_verdict v, double score, const char *detail,
                          const char *reason);

/* Records a failure of vigil itself (err != VIGIL_OK): the scan stops
 * and returns the first one recorded. Returns err. */
vigil_error vg_ctx_fail(vg_ctx *ctx, vigil_error err);

/*
 * Records that a limit stopped part of the scan: an INCOMPLETE finding
 * from stage "limit" named e.g. "Limit.MaxDepth" with the reason, once
 * per limit per top-level object (later hits only mark it incomplete).
 */
VG_MUST_CHECK
vigil_error vg_limit_hit(vg_ctx *ctx, const vg_layer *layer,
                         const char *limit_name, const char *reason);

/* A limit's value, with 0 ("no limit", vigil.h) as UINT64_MAX. */
static inline uint64_t vg_limit(const vigil_engine *e, vigil_limit l)
{
	return e->limits[l] ? e->limits[l] : UINT64_MAX;
}

/* Layers nest at most this deep, whatever VIGIL_LIMIT_MAX_DEPTH says
 * (0 included): every layer takes stack, vigil's and its libraries'. */
#define VG_DEPTH_MAX 64

/* The depth limit in force: the engine's, capped at VG_DEPTH_MAX. */
static inline uint64_t vg_max_depth(const vigil_engine *e)
{
	uint64_t d = e->limits[VIGIL_LIMIT_MAX_DEPTH];
	return d && d < VG_DEPTH_MAX ? d : VG_DEPTH_MAX;
}

/* Microseconds on the monotonic clock. */
uint64_t vg_now_us(void);

/* 1 when the per-object time limit has passed (and records it once). */
int vg_ctx_timed_out(vg_ctx *ctx, const vg_layer *layer);

/*
 * Runs the whole pipeline on one layer: digest, cache (top level only),
 * stages, unpackers, children. Used for the top-level object and,
 * through vg_scan_child, for every extracted member.
 */
VG_MUST_CHECK
vigil_error vg_pipeline_run(vg_ctx *ctx, vg_layer *layer);

/*
 * The layer's digests, with at least the VG_DIGEST_* flags asked for:
 * &layer->digest when the pipeline computed them already, else computed
 * now into *tmp (one pass over bytes already in memory). For a stage that
 * needs a digest of only the few layers it picks, so that the pipeline
 * need not compute it for every member. NULL if libcrypto fails.
 */
const vg_digest *vg_layer_digests(const vg_layer *layer, unsigned flags,
                                  vg_digest *tmp);

/*
 * Scans an extracted member as a child layer of parent (depth + 1),
 * with layer path "parent!name". Checks no limit: only the member sink
 * (unpackers/member.c) calls it, after it has checked them all and
 * counted the member against the object's budget. data must stay valid
 * for the call only.
 */
VG_MUST_CHECK
vigil_error vg_scan_child(vg_ctx *ctx, const vg_layer *parent,
                          const char *name, const uint8_t *data,
                          size_t size);

/*
 * The unpacker for a layer (unpackers/registry.c): asks each registered
 * unpacker to bid and returns the highest bidder, or NULL. Called once
 * per layer, before the stages run; the pipeline records the answer in
 * layer->unpacker.
 */
const struct vg_unpacker *vg_unpack_choose(vg_ctx *ctx,
                                           const vg_layer *layer);

/*
 * Lets layer->unpacker extract the layer's members; each goes through
 * the member sink (unpackers/unpack.h), which checks the limits and
 * scans it with vg_scan_child.
 */
VG_MUST_CHECK
vigil_error vg_unpack(vg_ctx *ctx, const vg_layer *layer);

#endif /* VIGIL_VG_H */
