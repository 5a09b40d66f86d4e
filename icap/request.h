/*
 * request.h - what srv_vigil keeps per ICAP request.
 */
#ifndef VIGIL_ICAP_REQUEST_H
#define VIGIL_ICAP_REQUEST_H

#include <c_icap/c-icap.h>
#include <c_icap/body.h>
#include <c_icap/request.h>

#include "icap/body.h"
#include "icap/decode.h"
#include "icap/scan.h"
#include "icap/slot.h"

#define VG_URL_LOG 1024

struct vg_req {
	struct vg_slot *slot;   /* engine reference held for the request */
	struct vg_body body;    /* the body as received */
	int scanning;           /* body kept for a verdict */
	int eof;                /* all body bytes received */
	int decided;            /* verdict reached */
	int pass;               /* decided and passed: send everything */
	int stream;             /* over MaxObjectSize in pass mode: stream on */
	int abort;              /* blocked after sending began: cut the reply */
	int store_failed;       /* a write to the body store failed */
	int store_errno;
	uint64_t received;      /* body bytes received */
	uint64_t sent;          /* body bytes handed to c-icap */
	uint64_t released;      /* early release: bytes that may be sent */
	ci_membuf_t *page;      /* the 403 page, when blocked */
	enum vg_enc encs[VG_ENC_MAX];
	int nenc;               /* -1: unknown coding */
	struct vg_outcome out;
	char url[VG_URL_LOG];
	char name[256];         /* file name from the URL, for YARA */
	const char *rule;       /* URL rule that blocked (slot's storage) */
};

#endif
