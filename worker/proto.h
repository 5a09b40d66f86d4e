/*
 * proto.h - the messages between a caller (libvigil in the scanning
 * process) and an unpacking worker (vigil-unpackd). See doc/design.md,
 * "Isolation", for who sends what and why.
 *
 * One message is one record on a SOCK_SEQPACKET socket pair, at most
 * VG_MSG_MAX bytes: a u32 type, then the message's fields in a fixed
 * order, little-endian; a string is a u32 length and that many bytes
 * (no NUL inside). Descriptors (the object, each member) travel beside
 * a message as SCM_RIGHTS.
 *
 * The caller reads a worker's messages as hostile bytes: a worker runs
 * third-party parsers over hostile input and may be anyone's by now.
 * vg_msg_decode checks every length against the record and every value
 * against its range; anything else is a protocol error, and the caller
 * kills the worker.
 */
#ifndef VIGIL_WORKER_PROTO_H
#define VIGIL_WORKER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/vigil.h"

#define VG_MSG_MAX 81920
/* Longest string field: names and layer paths longer than this are cut
 * by the sender (the layer path of a finding keeps its tail). */
#define VG_MSG_STR_MAX 4000
/* Objects and members up to this size travel inside their JOB or
 * MEMBER record instead of in a memfd: most members of a tree's
 * archives are small, and a memfd costs ten system calls and a page
 * each way. */
#define VG_MSG_INLINE_MAX 65536
/* Signature database paths in a CONFIG message. */
#define VG_MSG_MAX_DBS 64
#define VG_MSG_PATH_MAX 1024

typedef enum vg_msg_type {
	/* caller -> worker */
	VG_MSG_CONFIG = 1,   /* once, first: limits, options, databases */
	VG_MSG_JOB = 2,      /* one layer to unpack; its bytes as a fd */
	VG_MSG_ACK = 3,      /* members were scanned: what they added, stop */
	/* worker -> caller */
	VG_MSG_READY = 16,   /* the worker is confined and waits for jobs */
	VG_MSG_MEMBER = 17,  /* a member; its bytes as a sealed memfd */
	VG_MSG_FINDING = 18, /* a finding about the layer or a member */
	VG_MSG_DONE = 19,    /* the job ended */
	VG_MSG_DYING = 20,   /* sent from a fatal signal: why it dies */
} vg_msg_type;

/* What a job runs on the layer. */
typedef enum vg_job_kind {
	VG_JOB_UNPACK = 1,      /* an unpacker, by its index in the registry */
	VG_JOB_CLAMAV_PASS = 2, /* the ClamAV stage's pass, with its flags */
} vg_job_kind;

/* Why a worker is dying, from its own fatal-signal handler. */
typedef enum vg_dying_kind {
	VG_DYING_CRASH = 1,
	VG_DYING_MEMORY = 2,    /* it died at its address-space limit */
} vg_dying_kind;

typedef struct vg_msg_config {
	uint64_t limits[VIGIL_LIMIT_COUNT];
	uint32_t options;           /* bit i: vigil_option i */
	uint32_t clamav;            /* 1: set up libclamav */
	uint32_t ndbs;
	char dbs[VG_MSG_MAX_DBS][VG_MSG_PATH_MAX];
	char tmpdir[VG_MSG_PATH_MAX]; /* the worker's private temporary folder */
} vg_msg_config;

typedef struct vg_msg_job {
	uint32_t kind;              /* vg_job_kind */
	uint32_t arg;               /* unpacker index, or ClamAV pass flags */
	uint32_t type;              /* vg_filetype */
	uint32_t depth;
	uint32_t stop;
	uint64_t size;
	uint64_t smallest;          /* smallest container above the layer */
	uint64_t top_size;          /* size of the top-level object */
	uint64_t members, extracted;/* the object's budget so far */
	uint64_t ms_left;           /* until the object's deadline; 0: none */
	char name[VG_MSG_STR_MAX + 1];
	char layer_path[VG_MSG_STR_MAX + 1];
	/* the bytes when they travel in the record (size of them), else
	 * NULL and a memfd comes beside; points into the record */
	const uint8_t *data;
} vg_msg_job;

/* Members in flight: the worker sends up to VG_ACK_WINDOW members
 * before it waits for an ACK; the caller acknowledges them VG_ACK_EVERY
 * at a time (at once on a stop), one record instead of one each. */
#define VG_ACK_WINDOW 32
#define VG_ACK_EVERY 8

typedef struct vg_msg_ack {
	uint32_t stop;
	uint32_t count;             /* members acknowledged, 1..VG_ACK_WINDOW */
	uint64_t members, extracted;/* what they added below themselves */
} vg_msg_ack;

/* The worker's budget and stop flag travel with MEMBER and DONE: a
 * member it inflated and threw away (over a limit) still counts. */
typedef struct vg_msg_member {
	uint64_t size;
	uint64_t members, extracted;
	uint32_t stop;
	char name[VG_MSG_STR_MAX + 1];
	const uint8_t *data;        /* as in vg_msg_job */
} vg_msg_member;

typedef struct vg_msg_finding {
	uint32_t verdict;
	double score;
	char stage[32];
	char name[VG_MSG_STR_MAX + 1];
	char layer[VG_MSG_STR_MAX + 1];
	char detail[VG_MSG_STR_MAX + 1];
	char reason[VG_MSG_STR_MAX + 1];
} vg_msg_finding;

typedef struct vg_msg_done {
	uint32_t err;               /* vigil_error of the job */
	uint32_t retire;            /* the worker exits after this job */
	uint32_t stop;
	uint64_t members, extracted;
} vg_msg_done;

typedef struct vg_msg_dying {
	uint32_t kind;              /* vg_dying_kind */
	uint32_t signo;
} vg_msg_dying;

/* Any decoded message; type says which member is set. */
typedef struct vg_msg {
	uint32_t type;
	union {
		vg_msg_config config;
		vg_msg_job job;
		vg_msg_ack ack;
		vg_msg_member member;
		vg_msg_finding finding;
		vg_msg_done done;
		vg_msg_dying dying;
	} u;
} vg_msg;

/* A record being written: buf, then tail (a JOB's or MEMBER's inline
 * bytes, the last field, sent from where they are rather than copied).
 * overflow is set (and nothing more written) when a field does not
 * fit. */
typedef struct vg_msg_out {
	uint8_t buf[VG_MSG_MAX];
	size_t len;
	const uint8_t *tail;
	size_t tail_len;
	int overflow;
} vg_msg_out;

/* Encodes m into out. -1 when it does not fit (a bug of the sender). */
int vg_msg_encode(const vg_msg *m, vg_msg_out *out);

/*
 * Decodes one record. 0 and m filled, or -1 for anything malformed: an
 * unknown type, a field past the end, bytes left over, a string too
 * long or holding a NUL, a value out of range. Every string in m is
 * NUL-terminated.
 */
int vg_msg_decode(const uint8_t *rec, size_t len, vg_msg *m);

/* Sends one record with up to one descriptor (fd < 0: none); never
 * raises SIGPIPE. nonblock: fail with EAGAIN rather than wait. 0 or -1. */
int vg_msg_send(int sock, const vg_msg *m, int fd, int nonblock);

/*
 * Receives one record into buf (VG_MSG_MAX bytes) and decodes it into
 * m; *fd gets a descriptor that came with it, or -1. 1 on a message,
 * 0 at end of file, -1 on an error or a malformed record (with any
 * descriptor closed).
 */
int vg_msg_recv(int sock, uint8_t *buf, vg_msg *m, int *fd);

#endif /* VIGIL_WORKER_PROTO_H */
