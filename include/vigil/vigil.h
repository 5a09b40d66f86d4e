/*
 * vigil.h - the public C API of libvigil, the vigil scanning engine.
 *
 * Life cycle:
 *
 *   vigil_engine_new -> vigil_engine_set_limit / _set_option ->
 *   vigil_engine_load (any number of times) -> vigil_engine_freeze ->
 *   vigil_scanner_new (one per thread) -> vigil_scan_path / _fd / _mem ->
 *   vigil_result_* accessors -> vigil_result_free -> vigil_scanner_free ->
 *   vigil_engine_free
 *
 * Threads: a frozen engine is read-only apart from its internal verdict
 * cache, which is safe to share. Any number of threads may each use their
 * own vigil_scanner on one frozen engine. A vigil_scanner must not be used
 * by two threads at once. The engine must outlive all its scanners.
 *
 * Errors and verdicts are kept apart: every function that can fail returns
 * a vigil_error (VIGIL_OK is 0). Finding malware is not an error; it is a
 * verdict in the vigil_result.
 *
 * Strings passed in are copied; strings returned live as long as the
 * object they were read from, unless said otherwise.
 */
#ifndef VIGIL_VIGIL_H
#define VIGIL_VIGIL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VIGIL_BUILDING_LIBRARY) && defined(__GNUC__)
#define VIGIL_API __attribute__((visibility("default")))
#else
#define VIGIL_API
#endif

/* ------------------------------------------------------------------ */
/* Versions                                                            */
/* ------------------------------------------------------------------ */

#define VIGIL_VERSION_MAJOR 0
#define VIGIL_VERSION_MINOR 1
#define VIGIL_VERSION_PATCH 0
#define VIGIL_VERSION_STRING "0.1.0"
/* 0xMMmmpp, comparable with < and > */
#define VIGIL_VERSION_NUM 0x000100

/* vigil's own version, "0.1.0". Static storage. */
VIGIL_API const char *vigil_version(void);
/* VIGIL_VERSION_NUM of the library actually loaded at run time. */
VIGIL_API unsigned vigil_version_num(void);
/*
 * One line per component vigil was built with and runs against:
 * "vigil 0.1.0\nlibyara 4.2.3\nlibclamav 1.0.x\n...". Static storage.
 */
VIGIL_API const char *vigil_version_details(void);

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

typedef enum vigil_error {
	VIGIL_OK = 0,
	VIGIL_ENOMEM = 1,     /* out of memory (a scan that runs out ends
	                       * with this error, never a CLEAN result) */
	VIGIL_EINVAL = 2,     /* bad argument or option value */
	VIGIL_EIO = 3,        /* a read or stat failed (errno kept) */
	VIGIL_ENOENT = 4,     /* no such file */
	VIGIL_EACCES = 5,     /* permission denied */
	VIGIL_EDATABASE = 6,  /* a signature file is malformed */
	VIGIL_EFORMAT = 7,    /* unknown signature file type */
	VIGIL_EFROZEN = 8,    /* engine already frozen: cannot change it */
	VIGIL_ENOTFROZEN = 9, /* engine must be frozen before scanning */
	VIGIL_EYARA = 10,     /* libyara reported an internal error */
	VIGIL_ECLAMAV = 11,   /* libclamav reported an internal error */
	VIGIL_ETOOLARGE = 12, /* object exceeds VIGIL_LIMIT_MAX_FILESIZE */
	VIGIL_ENOTREG = 13,   /* path is not a regular file */
	VIGIL_EMODEL = 14,    /* an ML model file is malformed or mismatched */
	VIGIL_EINTERNAL = 15, /* a bug in vigil; please report it */
	/* Remediation (vigil/quarantine.h): */
	VIGIL_ECHANGED = 16,  /* file changed or replaced since it was scanned */
	VIGIL_EUNSAFE = 17,   /* outside the scan roots, or through a symlink */
	VIGIL_EVAULT = 18,    /* vault unusable: owner, mode, key, damaged item */
	VIGIL_EFULL = 19,     /* vault size cap reached, or its disk is full */
	VIGIL_EEXIST = 20,    /* restore target exists */
	VIGIL_ENODETECTION = 21, /* result is CLEAN or INCOMPLETE: nothing to act on */
	/* Signature bundles: */
	VIGIL_ESIGNATURE = 22,/* bundle unsigned, badly signed or untrusted */
	VIGIL_EROLLBACK = 23, /* bundle older than the lowest version allowed */
	/* Isolation: */
	VIGIL_EWORKER = 24    /* an unpacking worker (vigil-unpackd) cannot
	                       * start (freeze checks the helper is there):
	                       * see VIGIL_OPT_NO_ISOLATION */
} vigil_error;

/* Number of vigil_error values, for tables and tests. */
#define VIGIL_ERROR_COUNT 25

/*
 * A short English description of an error code. Never NULL; static
 * storage. Unknown codes give "unknown error".
 */
VIGIL_API const char *vigil_strerror(vigil_error err);

/* ------------------------------------------------------------------ */
/* Verdicts                                                            */
/* ------------------------------------------------------------------ */

/*
 * Ordered by severity for display; the result's verdict is the most
 * severe finding. INCOMPLETE means a limit stopped part of the scan and
 * nothing malicious or suspicious was found in the part that was
 * scanned: it is never reported as CLEAN.
 */
typedef enum vigil_verdict {
	VIGIL_CLEAN = 0,
	VIGIL_INCOMPLETE = 1,
	VIGIL_SUSPICIOUS = 2,
	VIGIL_MALICIOUS = 3
} vigil_verdict;

/* "CLEAN", "INCOMPLETE", "SUSPICIOUS", "MALICIOUS". Static storage. */
VIGIL_API const char *vigil_verdict_name(vigil_verdict v);

/* ------------------------------------------------------------------ */
/* Engine                                                              */
/* ------------------------------------------------------------------ */

typedef struct vigil_engine vigil_engine;

/*
 * Creates an empty engine with default limits and options. Returns
 * VIGIL_OK and sets *out, or VIGIL_ENOMEM. Free with vigil_engine_free.
 */
VIGIL_API vigil_error vigil_engine_new(vigil_engine **out);

/*
 * Frees an engine and everything loaded into it. Accepts NULL. All
 * scanners made from it must be freed first.
 */
VIGIL_API void vigil_engine_free(vigil_engine *engine);

/*
 * Limits: every one is named here, with its default. A limit that stops
 * part of a scan makes the result INCOMPLETE, with a finding of stage
 * "limit" named as vigil_limit_name says and the layer where it was
 * hit; findings made before it are kept. Never CLEAN.
 *
 * 0 means "no limit" for every limit, as in clamd.conf, with three
 * stated exceptions: VIGIL_LIMIT_CACHE_ENTRIES (0 turns the cache off:
 * a cache without a bound would grow without one),
 * VIGIL_LIMIT_RATIO_MIN_SIZE (a threshold, not a limit: 0 applies the
 * ratio to members of every size) and VIGIL_LIMIT_MAX_DEPTH (0, like
 * any value above 64, means 64: every layer takes stack, so nesting
 * always has a bound).
 */
typedef enum vigil_limit {
	/* Objects larger than this are not read: VIGIL_ETOOLARGE for a
	 * top-level object; for a member, INCOMPLETE with
	 * "Limit.MaxFileSize" (a member is held to both this and
	 * VIGIL_LIMIT_MAX_MEMBER_SIZE). Default 2 GiB. */
	VIGIL_LIMIT_MAX_FILESIZE = 0,
	/* YARA time per scanned object, in milliseconds. Default 10000. */
	VIGIL_LIMIT_YARA_TIMEOUT_MS = 1,
	/* Entries in the verdict cache; 0 turns caching off. Default 262144
	 * (a regular file takes two: its content and its identity). */
	VIGIL_LIMIT_CACHE_ENTRIES = 2,
	/* Nesting depth of layers (archive in archive). Default 16; at
	 * most 64 (0 and larger values mean 64). */
	VIGIL_LIMIT_MAX_DEPTH = 3,
	/* Bytes extracted per top-level object. Default 400 MB. */
	VIGIL_LIMIT_MAX_EXTRACTED = 4,
	/* Members per top-level object. Default 10000. */
	VIGIL_LIMIT_MAX_MEMBERS = 5,
	/* Size of one extracted member. Default 100 MB. */
	VIGIL_LIMIT_MAX_MEMBER_SIZE = 6,
	/* Largest ratio of member size to compressed size. Default 100. */
	VIGIL_LIMIT_MAX_RATIO = 7,
	/* Members smaller than this are exempt from the ratio; 0 exempts
	 * none. Default 1 MB. */
	VIGIL_LIMIT_RATIO_MIN_SIZE = 8,
	/* Time per top-level object, in milliseconds. Default 120000. An
	 * unpacking worker still busy at that time is killed (the finding
	 * "Limit.ScanTime"). */
	VIGIL_LIMIT_MAX_SCAN_MS = 9,
	/* Address space an unpacking worker may add to what it holds after
	 * start-up (libraries, ClamAV databases), in bytes; the kernel
	 * enforces it (RLIMIT_AS). A worker that dies at it makes the layer
	 * INCOMPLETE with "Limit.Memory"; one that crashes, with
	 * "Limit.Crash". Default 512 MiB. */
	VIGIL_LIMIT_MAX_WORKER_MEMORY = 10
} vigil_limit;
#define VIGIL_LIMIT_COUNT 11

/*
 * Sets a limit. VIGIL_EINVAL for an unknown limit, VIGIL_EFROZEN after
 * vigil_engine_freeze.
 */
VIGIL_API vigil_error vigil_engine_set_limit(vigil_engine *engine,
                                             vigil_limit limit,
                                             uint64_t value);
/* Reads a limit; returns 0 for an unknown one. */
VIGIL_API uint64_t vigil_engine_get_limit(const vigil_engine *engine,
                                          vigil_limit limit);

/*
 * The name of the finding a hit of this limit reports ("Limit.MaxDepth",
 * "Limit.MaxFileSize", ...; static storage), or NULL for
 * VIGIL_LIMIT_CACHE_ENTRIES and VIGIL_LIMIT_RATIO_MIN_SIZE, which no
 * finding names (a hit of the ratio is "Limit.MaxRatio"), and for an
 * unknown limit. libvigil(3) lists every Limit.* and Unpack.* name.
 */
VIGIL_API const char *vigil_limit_name(vigil_limit limit);

/* Boolean options. */
typedef enum vigil_option {
	/* Do not add the built-in test signatures (EICAR, clam.exe) at
	 * freeze. Default 0: they are added. */
	VIGIL_OPT_NO_DEFAULT_SIGNATURES = 0,
	/* Report encrypted archive members as SUSPICIOUS instead of as an
	 * informational finding. Default 0. */
	VIGIL_OPT_ENCRYPTED_SUSPICIOUS = 1,
	/* Do not use the built-in ML model. Default 0. */
	VIGIL_OPT_NO_ML = 2,
	/* Do not unpack archives and containers. Default 0. */
	VIGIL_OPT_NO_UNPACK = 3,
	/* Load signature bundles that are unsigned or signed by a key not
	 * in the trust store: for development only. A signature that is
	 * present but does not verify is still refused. Default 0. */
	VIGIL_OPT_ALLOW_UNSIGNED = 4,
	/* Run libarchive and libclamav in the calling process instead of
	 * in sandboxed vigil-unpackd workers (for embedders that sandbox
	 * the whole process themselves). Default 0: isolated. The helper
	 * is $(libexecdir)/vigil-unpackd, or the VIGIL_UNPACKD environment
	 * variable's path. */
	VIGIL_OPT_NO_ISOLATION = 5
} vigil_option;
#define VIGIL_OPTION_COUNT 6

VIGIL_API vigil_error vigil_engine_set_option(vigil_engine *engine,
                                              vigil_option option,
                                              int value);

/* Thresholds. */
/*
 * Score thresholds of the ML stage. A PE layer whose score is at least
 * ML_MALICIOUS gets the finding ML.PE.Malicious (MALICIOUS); else at
 * least ML_SUSPICIOUS gets ML.PE.Suspicious (SUSPICIOUS). The defaults
 * come with the model (the shipped one: false-positive rates of 0.1 %
 * and 1 % on its validation data; see ml/REPORT.md).
 *
 * YARA rules that carry a score (a `score` meta from 0 to 100, the
 * LOKI/THOR convention, or a numeric `severity` or `threat_level`; see
 * doc/yara.md) make a MALICIOUS finding when score / 100 is at least
 * YARA_MALICIOUS (default 0.80), a SUSPICIOUS one when it is at least
 * YARA_SUSPICIOUS (default 0.60), and an informational one (verdict
 * VIGIL_CLEAN) below that.
 */
typedef enum vigil_threshold {
	VIGIL_THRESHOLD_ML_MALICIOUS = 0,
	VIGIL_THRESHOLD_ML_SUSPICIOUS = 1,
	VIGIL_THRESHOLD_YARA_MALICIOUS = 2,
	VIGIL_THRESHOLD_YARA_SUSPICIOUS = 3
} vigil_threshold;
#define VIGIL_THRESHOLD_COUNT 4

/*
 * Sets a threshold, a score in [0, 1] (1 turns that finding off).
 * VIGIL_EINVAL for an unknown threshold or a value outside [0, 1],
 * VIGIL_EFROZEN after vigil_engine_freeze. A model loaded later with
 * vigil_engine_load does not change a threshold set here.
 */
VIGIL_API vigil_error vigil_engine_set_threshold(vigil_engine *engine,
                                                 vigil_threshold which,
                                                 double value);

/* The threshold in force (set, else the model's or the YARA default);
 * -1 for an unknown one. */
VIGIL_API double vigil_engine_get_threshold(const vigil_engine *engine,
                                            vigil_threshold which);

/* ------------------------------------------------------------------ */
/* Cloud lookup                                                        */
/* ------------------------------------------------------------------ */

/*
 * The cloud stage asks a vigil-cloudd service (doc/cloud-api.md) about
 * objects the local stages left undecided: after them, for objects
 * whose local verdict is CLEAN (or only an ML SUSPICIOUS) and whose
 * type is in VIGIL_CLOUD_TYPES or whose ML score is in VIGIL_CLOUD_ML_BAND;
 * never for a layer a signature already decided. It sends the SHA-256,
 * size, type and ML score, never content. Its findings are
 * "Cloud.Malicious" (MALICIOUS, detail: the service's name, prevalence,
 * first seen), "Cloud.Clean" (informational) and "Cloud.LookupFailed"
 * (informational under the open policy, INCOMPLETE under the closed
 * one). Off until VIGIL_CLOUD_URL is set. Values are strings; numbers
 * in decimal.
 */
typedef enum vigil_cloud_setting {
	/* Base URL, "http://host:8440" or https://...; "" turns it off
	 * (default). */
	VIGIL_CLOUD_URL = 0,
	/* API key sent as "Authorization: Bearer KEY". Default none. */
	VIGIL_CLOUD_KEY = 1,
	/* Time all lookups of one top-level object may take, in ms; also
	 * each request's timeout. Default 200. */
	VIGIL_CLOUD_TIMEOUT_MS = 2,
	/* When the service cannot answer: "open" (default: the local verdict
	 * stands, a Cloud.LookupFailed finding notes it) or "closed" (the
	 * result is INCOMPLETE). */
	VIGIL_CLOUD_POLICY = 3,
	/* Types always looked up, comma-separated names of
	 * vigil_result_type; "" for none. Default "PE,ELF,MACHO,SCRIPT,OLE2". */
	VIGIL_CLOUD_TYPES = 4,
	/* ML scores looked up whatever the type: "LOW:HIGH", LOW <= score <
	 * HIGH. Default "0.05:1". */
	VIGIL_CLOUD_ML_BAND = 5,
	/* "yes" (default) or "no": look up archive members too. */
	VIGIL_CLOUD_MEMBERS = 6,
	/* Hashes per request, 1 to 1000. Default 100. */
	VIGIL_CLOUD_BATCH_MAX = 7,
	/* Longest wait for other threads' lookups to join a request, ms.
	 * Default 5. */
	VIGIL_CLOUD_BATCH_WAIT_MS = 8,
	/* Failed requests in a row that open the circuit breaker. Default 5. */
	VIGIL_CLOUD_BREAKER_FAILURES = 9,
	/* How long the breaker stays open before one probe request, ms.
	 * Default 30000. Cached answers (even expired) are served meanwhile. */
	VIGIL_CLOUD_BREAKER_RETRY_MS = 10,
	/* Answers kept in the client cache (for the TTL the service sets);
	 * 0 turns it off. Default 65536. */
	VIGIL_CLOUD_CACHE_ENTRIES = 11,
	/* "yes": a known-good answer clears an ML-only SUSPICIOUS finding on
	 * the same layer (the finding stays, as CLEAN, with a note). Default
	 * "no". */
	VIGIL_CLOUD_OVERRIDE_ML = 12,
	/* Machine id reported with lookups, which feeds the service's
	 * prevalence; "" sends none. Default: derived from /etc/machine-id
	 * by SHA-256 (the id itself never leaves the machine). */
	VIGIL_CLOUD_MACHINE = 13,
	/* Requests in flight at once (sender threads), 1 to 16. Default 2. */
	VIGIL_CLOUD_CONNECTIONS = 14
} vigil_cloud_setting;
#define VIGIL_CLOUD_SETTING_COUNT 15

/*
 * Sets a cloud setting. VIGIL_EINVAL for an unknown setting or a bad
 * value (vigil_engine_last_error says why), VIGIL_EFROZEN after
 * vigil_engine_freeze.
 */
VIGIL_API vigil_error vigil_engine_set_cloud(vigil_engine *engine,
                                             vigil_cloud_setting which,
                                             const char *value);

/* Counters of the cloud client, for monitoring and tests. */
typedef struct vigil_cloud_stats {
	uint64_t lookups;       /* objects the stage asked about */
	uint64_t cache_hits;    /* answered from the client cache */
	uint64_t requests;      /* HTTP requests sent */
	uint64_t hashes_sent;   /* hashes in those requests */
	uint64_t failures;      /* lookups without a fresh answer */
	uint64_t breaker_opens; /* times the circuit breaker opened */
	int breaker_state;      /* 0 closed, 1 open, 2 half-open (probing) */
} vigil_cloud_stats;

/*
 * Fills *out with the counters so far (all zero when the cloud is off).
 * VIGIL_EINVAL for a bad argument.
 */
VIGIL_API vigil_error vigil_engine_cloud_stats(const vigil_engine *engine,
                                               vigil_cloud_stats *out);

/*
 * Loads signatures from a file, or from every signature file in a
 * directory and its subdirectories, down to 8 levels below it (rule
 * collections sort their files into folders by family or platform; the
 * bound keeps a mistaken path short). Names are taken in sorted order;
 * hidden entries (".git") are left out, symbolic links to files are
 * followed and links to directories are not (no loops). Files of unknown
 * type in a directory are skipped; a named file of unknown type is
 * VIGIL_EFORMAT.
 *
 * A source that yields no signature is an error (VIGIL_EDATABASE): a
 * named file that holds none (empty, only comments), and a directory
 * whose files in reach hold none. (Inside a directory that yields some,
 * a file of comments only is left be: published collections ship rules
 * commented out.) An empty rule set that loaded quietly would find
 * nothing and call everything CLEAN.
 *
 * The type comes from the file name's extension:
 *   .hdb .hsb          MD5 / SHA-1 / SHA-256 hash signatures (ClamAV)
 *   .fp .sfp           allowlists in the same formats
 *   .yar .yara         YARA sources, each file in its own namespace
 *   .yarc              compiled YARA rules (yarac)
 *   .cvd .cld .cud .ndb .ldb .cdb .ign2 ... ClamAV databases
 *   .vgm               an ML model
 *   .vgb               a signed bundle of all of these (see below)
 *
 * On VIGIL_EDATABASE, vigil_engine_last_error names the file and line.
 * VIGIL_EFROZEN after vigil_engine_freeze.
 */
VIGIL_API vigil_error vigil_engine_load(vigil_engine *engine,
                                        const char *path);

/*
 * Loads like vigil_engine_load, with another default severity for the
 * YARA rules in path that state none of their own (no score, severity
 * or threat_level meta, no severity tag; doc/yara.md): VIGIL_CLEAN makes
 * their matches informational findings, VIGIL_SUSPICIOUS suspicious
 * ones, VIGIL_MALICIOUS is what vigil_engine_load does. Rules that do
 * state a severity keep it. Signatures of other kinds keep their own
 * verdicts. VIGIL_EINVAL for VIGIL_INCOMPLETE or an unknown verdict.
 */
VIGIL_API vigil_error vigil_engine_load_as(vigil_engine *engine,
                                           const char *path,
                                           vigil_verdict default_verdict);

/*
 * Called by vigil_engine_load and vigil_engine_load_as for each
 * signature file that cannot be loaded (a directory's files one by one):
 * path is the file, err why (VIGIL_EDATABASE, VIGIL_EFORMAT,
 * VIGIL_EMODEL, VIGIL_ENOENT, VIGIL_EACCES, VIGIL_EIO, VIGIL_ENOTREG),
 * message what vigil_engine_last_error would say ("rules/bad.yar:3:
 * syntax error ..."); both live until the callback returns.
 *
 * Return VIGIL_CONTINUE to skip the file and go on: none of its
 * signatures are kept, and the load call returns VIGIL_OK unless
 * something else stops it. Return VIGIL_STOP to fail the call with err,
 * which is also what happens without a callback. Out of memory and
 * errors of vigil or its libraries (VIGIL_ENOMEM, VIGIL_EYARA,
 * VIGIL_ECLAMAV, VIGIL_EINTERNAL) always fail the call, without a call
 * back.
 */
typedef int (*vigil_load_error_cb)(const char *path, vigil_error err,
                                   const char *message, void *userdata);

/* Sets (or clears, with NULL) the load error callback. */
VIGIL_API void vigil_engine_set_load_callback(vigil_engine *engine,
                                              vigil_load_error_cb cb,
                                              void *userdata);

/*
 * Signature bundles (.vgb, doc/bundle.md): vigil_engine_load takes a
 * bundle file (by its .vgb extension or its magic bytes, also inside a
 * directory) and loads it only when a key of the engine's trust store
 * signed it, and its version is at least the engine's minimum. Refusals:
 * VIGIL_ESIGNATURE (unsigned, bad signature, untrusted key),
 * VIGIL_EROLLBACK (older), VIGIL_EDATABASE (truncated or malformed);
 * vigil_engine_last_error says which. Hash sets in a bundle are mapped
 * read-only and used in place, shared by every process loading the same
 * file; a bundle must be replaced (rename), never rewritten in place,
 * while engines use it. On any failed load, free the engine.
 */

/*
 * Sets the trust store: a directory of public key files (*.pub, made by
 * vigil_key_generate). Copied. NULL restores the built-in default,
 * vigil_default_trust_dir(). VIGIL_EFROZEN after freeze.
 */
VIGIL_API vigil_error vigil_engine_set_trust_dir(vigil_engine *engine,
                                                 const char *dir);

/* The trust store chosen when vigil was built (configure
 * --with-trust-dir), e.g. "/etc/vigil/trusted-keys". Static storage. */
VIGIL_API const char *vigil_default_trust_dir(void);

/*
 * Bundles older than version are refused with VIGIL_EROLLBACK. A daemon
 * reloading passes the version it serves, so a replayed old bundle
 * cannot take its place. Default 0 (any). VIGIL_EFROZEN after freeze.
 */
VIGIL_API vigil_error vigil_engine_set_min_bundle_version(vigil_engine *engine,
                                                          uint64_t version);

/* The highest version of the bundles loaded so far; 0 when none. */
VIGIL_API uint64_t vigil_engine_bundle_version(const vigil_engine *engine);

/*
 * Writes everything loaded into a frozen engine as one unsigned bundle
 * at path (atomically: a temporary file beside it, then rename): hash
 * sets and allowlists in mapped form, YARA rules compiled, ClamAV
 * databases and the ML model as loaded. The built-in signatures are not
 * written. version is the bundle's version (monotonic: 0 takes the
 * current time in seconds). Sign it with vigil_bundle_sign (bundle.h).
 * VIGIL_ENOTFROZEN before freeze.
 */
VIGIL_API vigil_error vigil_engine_save_bundle(vigil_engine *engine,
                                               const char *path,
                                               uint64_t version);

/*
 * Number of signatures loaded so far, of all kinds (hash entries, YARA
 * rules, ClamAV signatures).
 */
VIGIL_API uint64_t vigil_engine_signature_count(const vigil_engine *engine);

/*
 * Makes the engine read-only and ready to scan: adds the built-in
 * signatures (unless turned off), compiles YARA sources, builds lookup
 * tables. Must be called once before vigil_scanner_new.
 */
VIGIL_API vigil_error vigil_engine_freeze(vigil_engine *engine);

/*
 * The message of the last failed engine call ("rules.hdb:12: bad MD5"),
 * or "" if none. Lives until the next call on the engine.
 */
VIGIL_API const char *vigil_engine_last_error(const vigil_engine *engine);

/* ------------------------------------------------------------------ */
/* Findings and results                                                */
/* ------------------------------------------------------------------ */

typedef struct vigil_finding vigil_finding;
typedef struct vigil_result vigil_result;

/* The stage that made a finding: "hash", "yara", "clamav", "ml",
 * "limit", "unpack", "builtin", "cloud". Lives as long as the result. */
VIGIL_API const char *vigil_finding_stage(const vigil_finding *f);
/* Threat name, e.g. "Eicar-Test-Signature" or "namespace:RuleName". */
VIGIL_API const char *vigil_finding_name(const vigil_finding *f);
/* Layer path: "" for the top-level object, else "a.zip!dir/b.exe". */
VIGIL_API const char *vigil_finding_layer(const vigil_finding *f);
/*
 * Severity this finding contributes. VIGIL_CLEAN marks an informational
 * finding (a YARA rule that describes rather than detects, an encrypted
 * member): it is reported but does not change the result's verdict.
 */
VIGIL_API vigil_verdict vigil_finding_verdict(const vigil_finding *f);
/* Score in [0, 1]: 1 for an exact signature, a probability for ML, a
 * YARA rule's score / 100 when the rule has one. */
VIGIL_API double vigil_finding_score(const vigil_finding *f);
/* Free text: rule description, ML explanation, limit reason; may be "". */
VIGIL_API const char *vigil_finding_detail(const vigil_finding *f);
/*
 * Why the finding has its verdict, where the stage chose it: for a YARA
 * rule the metadata or default that set it ("score 20, below 60:
 * informational"); "" otherwise. Lives as long as the result.
 */
VIGIL_API const char *vigil_finding_reason(const vigil_finding *f);

VIGIL_API vigil_verdict vigil_result_verdict(const vigil_result *r);
VIGIL_API size_t vigil_result_finding_count(const vigil_result *r);
/* The i-th finding, or NULL past the end. Lives as long as the result. */
VIGIL_API const vigil_finding *vigil_result_finding(const vigil_result *r,
                                                    size_t i);
/* Lower-case hex SHA-256 of the top-level object (64 characters). */
VIGIL_API const char *vigil_result_sha256(const vigil_result *r);
/* Type of the top-level object from its magic bytes: "PE", "ZIP", ... */
VIGIL_API const char *vigil_result_type(const vigil_result *r);
/* Size of the top-level object in bytes. */
VIGIL_API uint64_t vigil_result_size(const vigil_result *r);
/* Bytes passed through the stages, all layers together. */
VIGIL_API uint64_t vigil_result_bytes_scanned(const vigil_result *r);
/* Wall time of the scan in microseconds. */
VIGIL_API uint64_t vigil_result_time_us(const vigil_result *r);
/* 1 if the verdict came from the verdict cache. */
VIGIL_API int vigil_result_cached(const vigil_result *r);
/* Frees a result. Accepts NULL. */
VIGIL_API void vigil_result_free(vigil_result *r);

/*
 * Builds a result from a verdict reached elsewhere (a scan in another
 * process, a verdict read from a socket), for calls that take one, such
 * as vigil_quarantine_act. sha256: the 64 lower-case hex digits of the
 * scanned bytes, or NULL or "" when unknown (vigil_quarantine_act then
 * checks the copied bytes against the file's size and times only).
 * Type "BINARY", no scan time. NULL on ENOMEM, a verdict out of range
 * or a malformed sha256. Free with vigil_result_free.
 */
VIGIL_API vigil_result *vigil_result_new(vigil_verdict verdict, const char *sha256,
                                         uint64_t size);
/*
 * Adds a finding (strings copied; layer and detail may be NULL). stage
 * is matched to the names vigil_finding_stage returns, plus "daemon"
 * and "onaccess"; any other becomes "external". A score outside [0, 1]
 * is clamped. The result's verdict becomes the most severe of its own
 * and the finding's. VIGIL_EINVAL, VIGIL_ENOMEM.
 */
VIGIL_API vigil_error vigil_result_add_finding(vigil_result *r, const char *stage,
                                               const char *name, const char *layer,
                                               vigil_verdict verdict, double score,
                                               const char *detail);

/* ------------------------------------------------------------------ */
/* Scanning                                                            */
/* ------------------------------------------------------------------ */

typedef struct vigil_scanner vigil_scanner;

/*
 * Called for each finding as it is made. Return VIGIL_CONTINUE to go on
 * or VIGIL_STOP to end the scan early; the result then holds the findings
 * made so far. The finding lives until the callback returns.
 */
#define VIGIL_CONTINUE 0
#define VIGIL_STOP 1
typedef int (*vigil_finding_cb)(const vigil_finding *f, void *userdata);

/*
 * Creates a scanner for one thread on a frozen engine (VIGIL_ENOTFROZEN
 * otherwise). Cheap: make one per worker thread.
 */
VIGIL_API vigil_error vigil_scanner_new(const vigil_engine *engine,
                                        vigil_scanner **out);
/* Frees a scanner. Accepts NULL. */
VIGIL_API void vigil_scanner_free(vigil_scanner *scanner);

/* Sets (or clears, with NULL) the finding callback. */
VIGIL_API void vigil_scanner_set_callback(vigil_scanner *scanner,
                                          vigil_finding_cb cb,
                                          void *userdata);

/*
 * Scans a regular file by path. On VIGIL_OK, *out holds a result the
 * caller frees with vigil_result_free. On error *out is NULL and
 * vigil_scanner_last_error says why. The file is never changed.
 */
VIGIL_API vigil_error vigil_scan_path(vigil_scanner *scanner,
                                      const char *path,
                                      vigil_result **out);

/*
 * Scans an open file descriptor from its current start (offset 0 for
 * regular files; pipes and sockets are read to the end, up to
 * VIGIL_LIMIT_MAX_FILESIZE). name is used for YARA's filename externals
 * and may be NULL. The descriptor stays open and owned by the caller.
 */
VIGIL_API vigil_error vigil_scan_fd(vigil_scanner *scanner, int fd,
                                    const char *name, vigil_result **out);

/* Scans a buffer in memory; name as for vigil_scan_fd. */
VIGIL_API vigil_error vigil_scan_mem(vigil_scanner *scanner,
                                     const void *data, size_t size,
                                     const char *name, vigil_result **out);

/* The message of the last failed scan on this scanner, or "". */
VIGIL_API const char *vigil_scanner_last_error(const vigil_scanner *s);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_VIGIL_H */
