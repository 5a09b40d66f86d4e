/*
 * scan.h - one body through decoding and libvigil, and the policy that
 * turns the outcome into pass or block.
 */
#ifndef VIGIL_ICAP_SCAN_H
#define VIGIL_ICAP_SCAN_H

#include <vigil/vigil.h>

#include "icap/body.h"
#include "icap/conf.h"
#include "icap/decode.h"
#include "icap/slot.h"

struct vg_outcome {
	vigil_verdict verdict; /* most severe finding, INCOMPLETE for limits */
	int error;             /* the scan could not be done: errmsg says why */
	int oversize;          /* the body passed MaxObjectSize */
	int incomplete_other;  /* INCOMPLETE for a reason besides the size */
	char threat[256];      /* name of the deciding finding, or "" */
	char layer[256];       /* where it was found ("" top level) */
	char reason[256];      /* why INCOMPLETE, or the error */
	uint64_t bytes;        /* bytes scanned (decoded) */
};

/*
 * Scans body (the bytes as received) with the slot's engine. encs lists
 * the Content-Encoding codings in the order applied (nenc may be 0);
 * nenc < 0 means an unknown coding: the raw bytes are scanned and the
 * outcome is INCOMPLETE. name is the file name for YARA (may be NULL).
 */
void vg_scan_body(struct vg_slot *slot, struct vg_body *body,
                  const enum vg_enc *encs, int nenc, const char *name,
                  const char *tmpdir, size_t mem_limit,
                  struct vg_outcome *out);

/* 1 when policy blocks the outcome, 0 when it passes it. */
int vg_policy_blocks(const struct vg_icap_conf *c, const struct vg_outcome *o);

/* "CLEAN", "SUSPICIOUS", ... or "ERROR". */
const char *vg_outcome_verdict_name(const struct vg_outcome *o);

#endif
