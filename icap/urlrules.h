/*
 * urlrules.h - web protection rules for REQMOD: domain block and allow
 * lists (a domain and all its subdomains, or "=host" for that host
 * only) and PCRE2 regular expressions over the URL, read from text
 * files, one rule a line, "#" starts a comment. An allow rule wins over
 * every block rule.
 *
 * The files are configuration, but they are parsed like untrusted input:
 * a bad line is an error naming file and line, never a crash.
 */
#ifndef VIGIL_ICAP_URLRULES_H
#define VIGIL_ICAP_URLRULES_H

#include <stddef.h>

enum vg_url_list { VG_URL_BLOCK = 0, VG_URL_ALLOW = 1 };
enum vg_url_kind { VG_URL_DOMAINS = 0, VG_URL_REGEX = 1 };
enum vg_url_verdict { VG_URL_NONE = 0, VG_URL_BLOCKED, VG_URL_ALLOWED };

struct vg_urlrules;

struct vg_urlrules *vg_urlrules_new(void);
void vg_urlrules_free(struct vg_urlrules *r);

/*
 * Adds the rules in text (len bytes, need not end in NUL). name is used
 * in error messages ("blocked.txt:12: bad domain"). Returns 0, or -1 with
 * the message in err.
 */
int vg_urlrules_add_text(struct vg_urlrules *r, enum vg_url_kind kind,
                         enum vg_url_list list, const char *text, size_t len,
                         const char *name, char *err, size_t errlen);

/* Reads a rules file (at most 64 MiB) and adds it as above. */
int vg_urlrules_add_file(struct vg_urlrules *r, enum vg_url_kind kind,
                         enum vg_url_list list, const char *path, char *err,
                         size_t errlen);

/* Sorts the domain lists; call once after the last add. */
void vg_urlrules_freeze(struct vg_urlrules *r);

/* Number of rules of all kinds. */
size_t vg_urlrules_count(const struct vg_urlrules *r);

/*
 * Checks a request: host (any case, may carry a port or a trailing dot)
 * and the full URL. *rule (may be NULL) gets the rule that decided,
 * valid while r lives. Thread-safe after freeze.
 */
enum vg_url_verdict vg_urlrules_check(const struct vg_urlrules *r,
                                      const char *host, const char *url,
                                      const char **rule);

/*
 * Copies the host of a URL ("http://u@Host.Example:80/x" -> "host.example",
 * "host:443" for CONNECT) into out, lower-cased, without port or final
 * dot. Returns 0, or -1 when there is no host or it does not fit.
 */
int vg_url_host(const char *url, char *out, size_t outlen);

#endif
