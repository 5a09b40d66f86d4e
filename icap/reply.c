/*
 * reply.c - see reply.h. Values put into the HTML pages are escaped: the
 * URL and even a threat name come from the network.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <c_icap/c-icap.h>
#include <c_icap/debug.h>
#include <c_icap/simple_api.h>
#include <c_icap/txtTemplate.h>

#include "icap/reply.h"

/* Copies s into buf HTML-escaped; returns the bytes written. */
static int html(char *buf, int len, const char *s)
{
	int n = 0;
	if (len <= 0)
		return 0;
	for (; s && *s && n < len - 1; s++) {
		const char *rep = NULL;
		switch (*s) {
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '&': rep = "&amp;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		}
		if (rep) {
			int r = (int)strlen(rep);
			if (n + r >= len)
				break;
			memcpy(buf + n, rep, (size_t)r);
			n += r;
		} else {
			buf[n++] = *s;
		}
	}
	buf[n] = '\0';
	return n;
}

static struct vg_req *data_of(ci_request_t *req)
{
	return ci_service_data(req);
}

static int fmt_threat(ci_request_t *req, char *buf, int len, const char *p)
{
	struct vg_req *d = data_of(req);
	if (!d)
		return 0;
	if (d->rule)
		return html(buf, len, d->rule);
	return html(buf, len, d->out.threat[0] ? d->out.threat : "-");
}

static int fmt_engine(ci_request_t *req, char *buf, int len, const char *p)
{
	struct vg_req *d = data_of(req);
	char tmp[128];
	snprintf(tmp, sizeof tmp, "vigil %s (%llu signatures)", vigil_version(),
	         d && d->slot ? (unsigned long long)vg_slot_signatures(d->slot)
	                      : 0ULL);
	return html(buf, len, tmp);
}

static int fmt_verdict(ci_request_t *req, char *buf, int len, const char *p)
{
	struct vg_req *d = data_of(req);
	return html(buf, len, d ? vg_outcome_verdict_name(&d->out) : "-");
}

static int fmt_url(ci_request_t *req, char *buf, int len, const char *p)
{
	struct vg_req *d = data_of(req);
	return html(buf, len, d && d->url[0] ? d->url : "-");
}

static int fmt_reason(ci_request_t *req, char *buf, int len, const char *p)
{
	struct vg_req *d = data_of(req);
	return html(buf, len, d && d->out.reason[0] ? d->out.reason : "-");
}

/* Longest directives first: c-icap takes the first that matches. */
static struct ci_fmt_entry vg_format_table[] = {
	{"%VVN", "Threat name, or the URL rule that matched", fmt_threat},
	{"%VVV", "vigil version and signature count", fmt_engine},
	{"%VVR", "Verdict: MALICIOUS, SUSPICIOUS, INCOMPLETE, ERROR", fmt_verdict},
	{"%VU", "The HTTP URL", fmt_url},
	{"%VR", "Why the object could not be scanned", fmt_reason},
	{NULL, NULL, NULL}
};

void vg_reply_block_page(ci_request_t *req, struct vg_req *d,
                         const char *tmpl)
{
	char buf[256];
	const char *lang;

	if (ci_http_response_headers(req))
		ci_http_response_reset_headers(req);
	else
		ci_http_response_create(req, 1, 1);
	ci_http_response_add_header(req, "HTTP/1.1 403 Forbidden");
	ci_http_response_add_header(req, "Server: C-ICAP/vigil");
	ci_http_response_add_header(req, "Content-Type: text/html; charset=utf-8");
	ci_http_response_add_header(req, "Cache-Control: no-store");
	ci_http_response_add_header(req, "Connection: close");
	d->page = ci_txt_template_build_content(req, "vigil", tmpl,
	                                        vg_format_table);
	/* c-icap ends the page with NULs for C's sake: not for the browser */
	while (d->page && ci_membuf_size(d->page) > 0 &&
	       d->page->buf[ci_membuf_size(d->page) - 1] == '\0')
		ci_membuf_truncate(d->page, ci_membuf_size(d->page) - 1);
	lang = d->page ? ci_membuf_attr_get(d->page, "lang") : NULL;
	snprintf(buf, sizeof buf, "Content-Language: %s", lang ? lang : "en");
	ci_http_response_add_header(req, buf);
	if (d->page) {
		snprintf(buf, sizeof buf, "Content-Length: %d",
		         ci_membuf_size(d->page));
		ci_http_response_add_header(req, buf);
	}
}

/* Copies s for an ICAP header: control bytes and ';' become '_' (member
 * names inside archives come from the network). */
static const char *header_safe(char *out, size_t outlen, const char *s)
{
	size_t n = 0;
	for (; *s && n + 1 < outlen; s++)
		out[n++] = ((unsigned char)*s < 0x20 || *s == 0x7f || *s == ';')
		                   ? '_'
		                   : *s;
	out[n] = '\0';
	return out;
}

void vg_reply_icap_headers(ci_request_t *req, struct vg_req *d, int blocked)
{
	char head[1024], threat[256], layer[256];
	const struct vg_outcome *o = &d->out;

	snprintf(head, sizeof head, "X-Vigil-Verdict: %s",
	         vg_outcome_verdict_name(o));
	ci_icap_add_xheader(req, head);
	if (!o->threat[0] || o->verdict < VIGIL_SUSPICIOUS)
		return;
	header_safe(threat, sizeof threat, o->threat);
	header_safe(layer, sizeof layer,
	            o->layer[0] ? o->layer : (d->name[0] ? d->name : "-"));
	if (!blocked) {
		/* SUSPICIOUS let through: say so, for the proxy's logs */
		snprintf(head, sizeof head, "X-Vigil-Suspicious: Threat=%s;",
		         threat);
		ci_icap_add_xheader(req, head);
		return;
	}
	/* the headers c-icap's virus_scan sends; Resolution 2: blocked */
	snprintf(head, sizeof head,
	         "X-Infection-Found: Type=0; Resolution=2; Threat=%s;", threat);
	ci_icap_add_xheader(req, head);
	snprintf(head, sizeof head,
	         "X-Violations-Found: 1\r\n\t%s\r\n\t%s\r\n\t0\r\n\t2",
	         layer, threat);
	ci_icap_add_xheader(req, head);
}

void vg_reply_log(ci_request_t *req, struct vg_req *d, const char *action)
{
	const char *threat = d->rule ? d->rule
	                             : (d->out.threat[0] ? d->out.threat : "-");
	ci_request_set_str_attribute(req, "vigil:action", action);
	ci_request_set_str_attribute(req, "vigil:verdict",
	                             d->rule ? "URL" : vg_outcome_verdict_name(&d->out));
	ci_request_set_str_attribute(req, "vigil:threat", threat);
	if (strcmp(action, "passed") != 0 || d->out.verdict >= VIGIL_SUSPICIOUS)
		ci_debug_printf(1, "srv_vigil: %s %s: %s (%s) %s\n", action,
		                d->rule ? "URL" : vg_outcome_verdict_name(&d->out),
		                threat, d->out.reason[0] ? d->out.reason : "-",
		                d->url);
}
