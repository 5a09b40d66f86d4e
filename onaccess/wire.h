/*
 * wire.h - the messages between vigild and its scan worker processes,
 * over SOCK_SEQPACKET socketpairs (one message = one datagram; the
 * scanned file travels as an SCM_RIGHTS descriptor beside a job).
 *
 * A worker has read hostile bytes: everything it sends is parsed with
 * bounds checks (engine/bytes.h) and fuzzed (fuzz/vigild_wire_fuzzer.c).
 * All integers are little-endian.
 */
#ifndef VIGIL_ONACCESS_WIRE_H
#define VIGIL_ONACCESS_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Largest message either way; a worker cuts findings to fit. */
#define VG_WIRE_MAX 65536
/* Most findings kept in a reply. */
#define VG_REPLY_MAX_FINDINGS 128
/* Longest name sent with a job (a path). */
#define VG_WIRE_MAX_NAME 4096

/* Job flags. */
#define VG_JOB_ALLMATCH 0x1u /* (informational: findings always all kept) */

/* How a job ended, as the front ends see it. */
typedef enum vg_reply_status {
	VG_REPLY_SCANNED = 0,  /* the worker scanned it: verdict and findings */
	VG_REPLY_ERROR = 1,    /* the scan failed: error and message */
	VG_REPLY_CRASH = 2,    /* the worker died during this scan */
	VG_REPLY_HUNG = 3,     /* the worker ran past WorkerHangTimeout and was killed */
	VG_REPLY_DEADLINE = 4, /* provisional: the caller's deadline came first */
	VG_REPLY_ABORTED = 5   /* vigild is stopping */
} vg_reply_status;

typedef struct vg_reply_finding {
	const char *stage, *name, *layer, *detail;
	int verdict; /* vigil_verdict */
	double score;
} vg_reply_finding;

/* A decoded reply; strings point into text[]. */
typedef struct vg_reply {
	uint64_t job_id;
	vg_reply_status status;
	int verdict;     /* vigil_verdict */
	int error;       /* vigil_error when status is VG_REPLY_ERROR */
	int cached;      /* verdict came from the worker's cache */
	int truncated;   /* the worker dropped findings to fit VG_WIRE_MAX */
	uint64_t size, time_us, bytes_scanned;
	char sha256[65]; /* "" when unknown */
	const char *type;
	const char *message; /* error text, "" when none */
	size_t nfindings;
	vg_reply_finding findings[VG_REPLY_MAX_FINDINGS];
	size_t text_used;
	char text[VG_WIRE_MAX + 8 * VG_REPLY_MAX_FINDINGS + 64];
} vg_reply;

/* A job as the worker receives it. */
typedef struct vg_wire_job {
	uint64_t job_id;
	uint32_t flags;
	char name[VG_WIRE_MAX_NAME + 1];
} vg_wire_job;

/* Encodes a job into buf (VG_WIRE_MAX bytes); returns its length or 0. */
size_t vg_wire_job_encode(uint8_t *buf, uint64_t job_id, uint32_t flags,
                          const char *name);
/* Decodes a job; 0 or -1 for a malformed message. */
int vg_wire_job_decode(const uint8_t *buf, size_t len, vg_wire_job *job);

/* Encodes a reply into buf (VG_WIRE_MAX bytes), dropping findings that
 * do not fit; returns the length. */
size_t vg_wire_reply_encode(uint8_t *buf, const vg_reply *r);
/* Decodes a reply from a worker into r; 0, or -1 for a malformed one. */
int vg_wire_reply_decode(const uint8_t *buf, size_t len, vg_reply *r);

/* Resets r to an empty reply with this status, ready for
 * vg_reply_add_finding. */
void vg_reply_init(vg_reply *r, uint64_t job_id, vg_reply_status status);
/* Copies a string into r->text; returns the copy ("" when full). */
const char *vg_reply_strdup(vg_reply *r, const char *s, size_t len);
/* A copy of src whose strings point into its own text[] (strings
 * outside src->text, static ones, are kept as they are). */
void vg_reply_copy(vg_reply *dst, const vg_reply *src);
/* Adds a finding (strings copied); -1 when full. */
int vg_reply_add_finding(vg_reply *r, const char *stage, const char *name,
                         const char *layer, int verdict, double score,
                         const char *detail);

/* The engine process's messages to vigild (zygote protocol). */
#define VG_ZY_READY 'R' /* u64 signature count, u64 bundle version, str16 message */
#define VG_ZY_FAILED 'E' /* str16 reason */
#define VG_ZY_WORKER 'W' /* u32 pid; SCM_RIGHTS: socket, pidfd */
#define VG_ZY_DIED 'D'   /* u32 pid, i32 wait status */
#define VG_ZY_SPAWN 'S'  /* vigild -> engine process: fork a worker */

typedef struct vg_zy_msg {
	char kind;
	uint64_t count;
	uint64_t version; /* READY: the bundle version loaded, 0: none */
	uint32_t pid;
	int32_t status;
	char text[1024];
} vg_zy_msg;

size_t vg_zy_encode(uint8_t *buf, size_t cap, const vg_zy_msg *m);
int vg_zy_decode(const uint8_t *buf, size_t len, vg_zy_msg *m);

#endif /* VIGIL_ONACCESS_WIRE_H */
