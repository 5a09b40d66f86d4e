/*
 * reply.h - what srv_vigil answers besides the body: the 403 pages from
 * templates/vigil/<lang>/, the ICAP headers virus_scan also sends, and
 * the request attributes for c-icap's LogFormat (%{vigil:action}Sa ...).
 */
#ifndef VIGIL_ICAP_REPLY_H
#define VIGIL_ICAP_REPLY_H

#include "icap/request.h"

/* Replaces the HTTP message with a 403 page from template tmpl. */
void vg_reply_block_page(ci_request_t *req, struct vg_req *d,
                         const char *tmpl);

/* X-Infection-Found / X-Violations-Found for a blocked threat, and the
 * verdict header every scanned response carries. */
void vg_reply_icap_headers(ci_request_t *req, struct vg_req *d, int blocked);

/* Sets vigil:action, vigil:verdict, vigil:threat and logs detections. */
void vg_reply_log(ci_request_t *req, struct vg_req *d, const char *action);

#endif
