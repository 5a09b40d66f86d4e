/*
 * srv_vigil.c - the c-icap service "vigil": RESPMOD and REQMOD scanning
 * with libvigil, URL rules for REQMOD, and the vigil:reload command.
 *
 * One request: the preview handler checks URL rules (REQMOD) and starts
 * keeping the body; service_io stores what arrives (memory, then a file
 * in TmpDir) and sends what may be sent; the end-of-data handler scans
 * and decides: 204, 200 with the body echoed, or a 403 page. Nothing is
 * sent before the verdict unless early release is on.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <c_icap/c-icap.h>
#include <c_icap/commands.h>
#include <c_icap/debug.h>
#include <c_icap/service.h>
#include <c_icap/simple_api.h>

#include "icap/conf.h"
#include "icap/reply.h"
#include "icap/request.h"

static int vg_init_service(ci_service_xdata_t *x, struct ci_server_conf *sc);
static int vg_post_init_service(ci_service_xdata_t *x,
                                struct ci_server_conf *sc);
static void vg_close_service(void);
static void *vg_init_request_data(ci_request_t *req);
static void vg_release_request_data(void *data);
static int vg_check_preview(char *preview, int len, ci_request_t *req);
static int vg_end_of_data(ci_request_t *req);
static int vg_service_io(char *wbuf, int *wlen, char *rbuf, int *rlen,
                         int iseof, ci_request_t *req);

CI_DECLARE_MOD_DATA ci_service_module_t service = {
	"vigil",
	"vigil antivirus service",
	ICAP_RESPMOD | ICAP_REQMOD,
	vg_init_service,
	vg_post_init_service,
	vg_close_service,
	vg_init_request_data,
	vg_release_request_data,
	vg_check_preview,
	vg_end_of_data,
	vg_service_io,
	vg_conf_table,
	NULL
};

static ci_service_xdata_t *vg_xdata;
static char vg_tmpdir[4096] = "/tmp";

/* ------------------------------------------------------------------ */
/* Service life cycle and reload                                       */

static void set_istag(struct vg_slot *s)
{
	if (vg_xdata && s)
		ci_service_set_istag(vg_xdata, vg_slot_istag(s));
}

/* vigil:reload, in the main process (for children started later) and
 * in each child: build a new engine, publish it, free the old one after
 * its last request. A failed load keeps the engine in service, and so
 * does a bundle older than the one serving (a replayed old bundle). */
static void cmd_reload(const char *name, int type, const char **argv)
{
	char err[512] = "";
	struct vg_slot *cur = vg_slot_acquire(), *s;
	uint64_t serving = cur ? vg_slot_bundle_version(cur) : 0;

	vg_slot_release(cur);
	if (!(s = vg_slot_load(&vg_conf, serving, err, sizeof err))) {
		/* ci_debug_printf is a block: keep the braces */
		if (serving) {
			ci_debug_printf(1, "srv_vigil: reload failed, keeping the "
			                   "loaded signatures: %s; bundle version %llu "
			                   "keeps serving\n", err,
			                (unsigned long long)serving);
		} else {
			ci_debug_printf(1, "srv_vigil: reload failed, keeping the "
			                   "loaded signatures: %s\n", err);
		}
		return;
	}
	vg_slot_publish(s);
	set_istag(s);
	ci_debug_printf(1, "srv_vigil: reloaded in %s %d: %llu signatures, "
	                   "bundle version %llu, ISTag %s\n",
	                type == CI_CMD_MONITOR_PROC ? "main process" : "child",
	                (int)getpid(),
	                (unsigned long long)vg_slot_signatures(s),
	                (unsigned long long)vg_slot_bundle_version(s),
	                vg_slot_istag(s));
}

static int vg_init_service(ci_service_xdata_t *x, struct ci_server_conf *sc)
{
	vg_xdata = x;
	vg_conf_defaults();
	if (sc && sc->TMPDIR)
		snprintf(vg_tmpdir, sizeof vg_tmpdir, "%s", sc->TMPDIR);
	ci_service_set_transfer_preview(x, "*");
	ci_service_set_xopts(x, CI_XCLIENTIP | CI_XAUTHENTICATEDUSER);
	ci_command_register_ctl_cmd("vigil:reload",
	                            CI_CMD_MONITOR_PROC | CI_CMD_CHILDS_PROC,
	                            cmd_reload);
	return CI_OK;
}

/* After the directives, before c-icap forks: children share the engine. */
static int vg_post_init_service(ci_service_xdata_t *x,
                                struct ci_server_conf *sc)
{
	char err[512] = "";
	struct vg_slot *s;

	vg_conf.tmpdir = vg_tmpdir;
	if (vg_conf_check(err, sizeof err) != 0) {
		ci_debug_printf(1, "srv_vigil: %s\n", err);
		return CI_ERROR;
	}
	ci_service_set_preview(x, vg_conf.preview_size);
	if (vg_conf.allow204)
		ci_service_enable_204(x);
	if (!(s = vg_slot_load(&vg_conf, 0, err, sizeof err))) {
		ci_debug_printf(1, "srv_vigil: cannot load signatures: %s\n", err);
		return CI_ERROR;
	}
	vg_slot_publish(s);
	set_istag(s);
	ci_debug_printf(1, "srv_vigil: vigil %s, %llu signatures, bundle version "
	                   "%llu, ISTag %s\n", vigil_version(),
	                (unsigned long long)vg_slot_signatures(s),
	                (unsigned long long)vg_slot_bundle_version(s),
	                vg_slot_istag(s));
	return CI_OK;
}

static void vg_close_service(void)
{
	vg_slot_shutdown();
}

/* ------------------------------------------------------------------ */
/* Per request                                                         */

/* The last path segment of the URL, without query: YARA's filename. */
static void url_file_name(const char *url, char *out, size_t outlen)
{
	const char *p = strstr(url, "://"), *end, *slash;
	size_t n;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "?#");
	for (slash = end; slash > p && slash[-1] != '/'; slash--)
		;
	n = (size_t)(end - slash);
	if (slash == p || n >= outlen)
		n = 0;
	memcpy(out, slash, n);
	out[n] = '\0';
}

static void *vg_init_request_data(ci_request_t *req)
{
	struct vg_req *d = calloc(1, sizeof *d);

	if (!d)
		return NULL;
	d->slot = vg_slot_acquire();
	vg_body_init(&d->body, (size_t)vg_conf.max_mem_object, vg_tmpdir, 0);
	if (!ci_http_request_url(req, d->url, sizeof d->url))
		d->url[0] = '\0';
	url_file_name(d->url, d->name, sizeof d->name);
	return d;
}

static void vg_release_request_data(void *data)
{
	struct vg_req *d = data;

	if (!d)
		return;
	vg_body_free(&d->body);
	if (d->page)
		ci_membuf_free(d->page);
	vg_slot_release(d->slot);
	free(d);
}

/* The Content-Encoding codings of the message being scanned. */
static void read_encoding(ci_request_t *req, struct vg_req *d)
{
	const char *ce, *why;

	d->nenc = 0;
	if (!vg_conf.decode_content)
		return;
	ce = ci_req_type(req) == ICAP_RESPMOD
	             ? ci_http_response_get_header(req, "Content-Encoding")
	             : ci_http_request_get_header(req, "Content-Encoding");
	if (ce)
		d->nenc = vg_enc_parse(ce, d->encs, VG_ENC_MAX, &why);
}

/* Blocks with the page for tmpl, before anything was sent. */
static void block(ci_request_t *req, struct vg_req *d, const char *tmpl)
{
	d->decided = 1;
	d->pass = 0;
	d->scanning = 0;
	vg_reply_block_page(req, d, tmpl);
	ci_req_unlock_data(req);
}

static const char *block_template(const struct vg_outcome *o)
{
	return o->verdict >= VIGIL_SUSPICIOUS ? "VIRUS_FOUND" : "SCAN_INCOMPLETE";
}

/* Scans what is stored and applies the policy. Returns 1 to block. */
static int judge(ci_request_t *req, struct vg_req *d)
{
	int blocks;

	/* all of it is in: write what is staged and map a file body, so the
	 * scan and the echo read it in place */
	if (!d->store_failed && d->eof && vg_body_seal(&d->body) != 0) {
		d->store_failed = 1;
		d->store_errno = errno;
	}
	if (d->store_failed) {
		d->out.error = 1;
		snprintf(d->out.reason, sizeof d->out.reason,
		         "cannot keep the body: %s", strerror(d->store_errno));
	} else {
		vg_scan_body(d->slot, &d->body, d->encs, d->nenc, d->name,
		             vg_tmpdir, (size_t)vg_conf.max_mem_object, &d->out);
	}
	if (d->out.oversize && !d->out.reason[0])
		snprintf(d->out.reason, sizeof d->out.reason,
		         "larger than MaxObjectSize (%lld bytes)",
		         vg_conf.max_object_size);
	blocks = vg_policy_blocks(&vg_conf, &d->out);
	d->decided = 1;
	vg_reply_icap_headers(req, d, blocks);
	return blocks;
}

/* REQMOD: URL rules. Returns 1 when the request was blocked. */
static int check_url(ci_request_t *req, struct vg_req *d)
{
	const char *host = ci_http_request_get_header(req, "Host");
	enum vg_url_verdict v;

	if (!d->slot)
		return 0;
	v = vg_urlrules_check(vg_slot_urlrules(d->slot), host, d->url, &d->rule);
	if (v == VG_URL_BLOCKED) {
		block(req, d, "URL_BLOCKED");
		ci_icap_add_xheader(req, "X-Vigil-Verdict: URL");
		vg_reply_log(req, d, "blocked");
		return 1;
	}
	d->rule = NULL; /* an allow rule lets the request through to the scan */
	return 0;
}

static int store(struct vg_req *d, const char *buf, size_t len)
{
	if (d->store_failed)
		return -1;
	if (vg_body_append(&d->body, buf, len) != 0) {
		d->store_failed = 1;
		d->store_errno = errno;
		return -1;
	}
	return 0;
}

static int vg_check_preview(char *preview, int len, ci_request_t *req)
{
	struct vg_req *d = ci_service_data(req);
	ci_off_t clen;

	if (!d)
		return CI_ERROR;
	if (ci_req_type(req) == ICAP_REQMOD && check_url(req, d))
		return CI_MOD_CONTINUE;
	if (!ci_req_hasbody(req) ||
	    (ci_req_type(req) == ICAP_REQMOD && !vg_conf.scan_uploads)) {
		vg_reply_log(req, d, "passed");
		return CI_MOD_ALLOW204;
	}
	read_encoding(req, d);
	clen = ci_http_content_length(req);
	if (clen > 0)
		vg_body_init(&d->body, (size_t)vg_conf.max_mem_object, vg_tmpdir,
		             (uint64_t)clen);
	d->scanning = 1;
	if (len > 0) {
		d->received = (uint64_t)len;
		store(d, preview, (size_t)len);
	}
	/* the whole body came as preview: decide now, 204 is allowed here */
	if (preview && ci_req_hasalldata(req)) {
		d->eof = 1;
		if (judge(req, d)) {
			block(req, d, block_template(&d->out));
			vg_reply_log(req, d, "blocked");
			return CI_MOD_CONTINUE;
		}
		vg_reply_log(req, d, "passed");
		if (vg_conf.allow204)
			return CI_MOD_ALLOW204;
		d->pass = 1;
		ci_req_unlock_data(req);
	}
	return CI_MOD_CONTINUE;
}

/* Over MaxObjectSize in pass mode: judge the part kept, then stream. */
static void oversize_pass(ci_request_t *req, struct vg_req *d)
{
	d->out.oversize = 1;
	if (judge(req, d)) {
		d->scanning = 0;
		if (ci_req_sent_data(req) || d->sent) {
			d->abort = 1; /* early release sent the head already */
			vg_reply_log(req, d, "truncated");
			return;
		}
		block(req, d, block_template(&d->out));
		vg_reply_log(req, d, "blocked");
		return;
	}
	d->stream = 1;
	d->pass = 1;
	ci_req_unlock_data(req);
}

/* Takes body bytes from the client. */
static void take(ci_request_t *req, struct vg_req *d, const char *buf,
                 size_t len)
{
	uint64_t limit = (uint64_t)vg_conf.max_object_size;

	d->received += len;
	if (!d->scanning && !d->stream)
		return; /* blocked or passed without a body: drop */
	if (d->stream) {
		store(d, buf, len);
		vg_body_discard_before(&d->body, d->sent);
		return;
	}
	if (d->body.size + len > limit) {
		size_t keep = (size_t)(limit - d->body.size);
		store(d, buf, keep);
		d->out.oversize = 1;
		if (vg_conf.pass_oversize) {
			oversize_pass(req, d);
			if (d->stream)
				store(d, buf + keep, len - keep);
		} else {
			d->scanning = 0; /* block at the end: drop the rest */
		}
		return;
	}
	store(d, buf, len);
	if (vg_conf.early_release && !d->decided &&
	    d->body.size > (uint64_t)vg_conf.early_release &&
	    !d->store_failed) {
		uint64_t r = d->body.size - (uint64_t)vg_conf.early_release_hold;
		if (r > d->released)
			d->released = r;
		ci_req_unlock_data(req);
	}
}

/* Gives c-icap up to len bytes to send; CI_EOF when all is sent. */
static int give(struct vg_req *d, char *buf, int len)
{
	uint64_t limit;
	ssize_t n;

	if (d->abort)
		return CI_ERROR;
	if (d->page) {
		n = ci_membuf_read(d->page, buf, len);
		return n > 0 ? (int)n : CI_EOF;
	}
	limit = d->pass ? d->body.size : d->released;
	if (d->sent >= limit) {
		if (d->pass && d->eof && d->sent >= d->body.size)
			return CI_EOF;
		return 0;
	}
	if ((n = vg_body_read(&d->body, d->sent, buf,
	                      (size_t)(limit - d->sent < (uint64_t)len
	                                       ? limit - d->sent
	                                       : (uint64_t)len))) < 0)
		return CI_ERROR;
	d->sent += (uint64_t)n;
	return (int)n;
}

static int vg_service_io(char *wbuf, int *wlen, char *rbuf, int *rlen,
                         int iseof, ci_request_t *req)
{
	struct vg_req *d = ci_service_data(req);

	if (!d)
		return CI_ERROR;
	if (rbuf && rlen && *rlen > 0)
		take(req, d, rbuf, (size_t)*rlen);
	if (iseof)
		d->eof = 1;
	if (wbuf && wlen) {
		*wlen = give(d, wbuf, *wlen);
		if (*wlen == CI_ERROR)
			return CI_ERROR;
	}
	return CI_OK;
}

static int vg_end_of_data(ci_request_t *req)
{
	struct vg_req *d = ci_service_data(req);

	if (!d)
		return CI_ERROR;
	d->eof = 1;
	if (d->abort)
		return CI_ERROR;
	if (d->decided)
		return CI_MOD_DONE; /* blocked page, or streaming a passed object */
	if (!judge(req, d)) {
		vg_reply_log(req, d, "passed");
		if (vg_conf.allow204 && ci_req_allow204(req) &&
		    !ci_req_sent_data(req))
			return CI_MOD_ALLOW204;
		d->pass = 1;
		ci_req_unlock_data(req);
		return CI_MOD_DONE;
	}
	if (!ci_req_sent_data(req) && d->sent == 0) {
		block(req, d, block_template(&d->out));
		vg_reply_log(req, d, "blocked");
		return CI_MOD_DONE;
	}
	/* early release sent the head already: cut the object short, and
	 * make the client see a broken transfer rather than a short file */
	vg_reply_log(req, d, "truncated");
	return CI_ERROR;
}
