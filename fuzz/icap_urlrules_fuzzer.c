/*
 * icap_urlrules_fuzzer.c - srv_vigil's domain and URL rule files. The
 * first byte picks domains or regular expressions, block or allow; the
 * rest is a rules file. Whatever loads is then asked about a few fixed
 * URLs and about each line of the input taken as a URL.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "icap/urlrules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (64 * 1024)

static void ask(const struct vg_urlrules *r, const char *url)
{
	char host[300];
	const char *rule;
	enum vg_url_verdict v;

	if (vg_url_host(url, host, sizeof host) == 0 && strlen(host) >= sizeof host)
		abort();
	v = vg_urlrules_check(r, url, url, &rule);
	if (v != VG_URL_NONE && !rule)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const urls[] = {
		"http://example.com/", "http://a.b.example.com:8080/x?y#z",
		"https://user:pw@[::1]:443/", "example.com:443", "",
		"http://EXAMPLE.com./malware/x.exe",
	};
	struct vg_urlrules *r;
	char err[256], *text, *line;
	int rc;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	if (!(r = vg_urlrules_new()))
		return 0;
	rc = vg_urlrules_add_text(r, data[0] & 1 ? VG_URL_REGEX : VG_URL_DOMAINS,
	                          data[0] & 2 ? VG_URL_ALLOW : VG_URL_BLOCK,
	                          (const char *)data + 1, size - 1, "fuzz", err,
	                          sizeof err);
	if (rc != 0 && !err[0])
		abort();
	vg_urlrules_freeze(r);
	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
		ask(r, urls[i]);
	if ((text = malloc(size))) {
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
			ask(r, line);
		free(text);
	}
	vg_urlrules_free(r);
	return 0;
}
