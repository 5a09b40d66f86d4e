/*
 * conf.c - the vigil.* directives. c-icap calls each action while it
 * reads c-icap.conf, after the service's init and before its post_init.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <c_icap/c-icap.h>
#include <c_icap/cfg_param.h>
#include <c_icap/debug.h>

#include "icap/conf.h"

struct vg_icap_conf vg_conf;

void vg_conf_defaults(void)
{
	memset(&vg_conf, 0, sizeof vg_conf);
	vg_conf.max_object_size = 100LL << 20;
	vg_conf.max_mem_object = 4LL << 20;
	vg_conf.decode_content = 1;
	vg_conf.scan_uploads = 1;
	vg_conf.preview_size = 1024;
	vg_conf.allow204 = 1;
	vg_conf.early_release_hold = 64LL << 10;
}

/* A directive that may repeat and takes one or more paths. */
static int cfg_paths(const char *directive, const char **argv, void *setdata)
{
	struct vg_paths *p = setdata;
	if (!argv || !argv[0]) {
		ci_debug_printf(1, "srv_vigil: %s needs a path\n", directive);
		return 0;
	}
	for (int i = 0; argv[i]; i++) {
		if (p->n == VG_CONF_MAX_PATHS) {
			ci_debug_printf(1, "srv_vigil: more than %d %s paths\n",
			                VG_CONF_MAX_PATHS, directive);
			return 0;
		}
		if (!(p->v[p->n] = strdup(argv[i])))
			return 0;
		p->n++;
	}
	return 1;
}

/* A size with c-icap's K/M/G suffixes, stored as long long. */
static int cfg_size(const char *directive, const char **argv, void *setdata)
{
	ci_off_t v = 0;
	if (!ci_cfg_size_off(directive, argv, &v) || v < 0) {
		ci_debug_printf(1, "srv_vigil: %s: bad size\n", directive);
		return 0;
	}
	*(long long *)setdata = (long long)v;
	return 1;
}

static int cfg_count(const char *directive, const char **argv, void *setdata)
{
	char *end;
	long long v;
	if (!argv || !argv[0])
		return 0;
	v = strtoll(argv[0], &end, 10);
	if (*end || v < 0) {
		ci_debug_printf(1, "srv_vigil: %s: bad number %s\n", directive,
		                argv[0]);
		return 0;
	}
	*(long long *)setdata = v;
	return 1;
}

struct ci_conf_entry vg_conf_table[] = {
	{"Database", &vg_conf.databases, cfg_paths,
	 "Signature files or folders (repeatable)"},
	{"NoDefaultSignatures", &vg_conf.no_default_signatures, ci_cfg_onoff,
	 "Leave out the built-in test signatures"},
	{"DisableML", &vg_conf.no_ml, ci_cfg_onoff, "Do not use the ML model"},
	{"TrustedKeys", &vg_conf.trusted_keys, ci_cfg_set_str,
	 "Folder of public keys whose signed bundles load"},
	{"AllowUnsignedBundles", &vg_conf.allow_unsigned, ci_cfg_onoff,
	 "Load unsigned or untrusted bundles (development only)"},
	{"MaxScanSize", &vg_conf.max_scan_size, cfg_size,
	 "Bytes extracted from one object at most"},
	{"MaxFileSize", &vg_conf.max_file_size, cfg_size,
	 "Largest member scanned inside an object"},
	{"MaxRecursion", &vg_conf.max_recursion, cfg_count, "Nesting depth"},
	{"MaxFiles", &vg_conf.max_files, cfg_count, "Members per object"},
	{"MaxScanTime", &vg_conf.max_scan_time, cfg_count,
	 "Milliseconds per object"},
	{"MaxObjectSize", &vg_conf.max_object_size, cfg_size,
	 "Bodies are scanned up to this size"},
	{"MaxMemObject", &vg_conf.max_mem_object, cfg_size,
	 "Bodies larger than this go to a file in TmpDir"},
	{"DecodeContent", &vg_conf.decode_content, ci_cfg_onoff,
	 "Decode Content-Encoding before the scan"},
	{"ScanUploads", &vg_conf.scan_uploads, ci_cfg_onoff,
	 "Scan REQMOD request bodies"},
	{"PreviewSize", &vg_conf.preview_size, ci_cfg_set_int,
	 "Preview bytes asked for in OPTIONS"},
	{"Allow204", &vg_conf.allow204, ci_cfg_onoff,
	 "Answer 204 when the client allows it"},
	{"PassOverMaxObjectSize", &vg_conf.pass_oversize, ci_cfg_onoff,
	 "Pass objects larger than MaxObjectSize"},
	{"PassIncomplete", &vg_conf.pass_incomplete, ci_cfg_onoff,
	 "Pass INCOMPLETE verdicts"},
	{"PassOnError", &vg_conf.pass_on_error, ci_cfg_onoff,
	 "Pass objects a scan error stopped"},
	{"BlockSuspicious", &vg_conf.block_suspicious, ci_cfg_onoff,
	 "Block SUSPICIOUS verdicts"},
	{"EarlyRelease", &vg_conf.early_release, cfg_size,
	 "Start sending after this many bytes (0: off)"},
	{"EarlyReleaseHold", &vg_conf.early_release_hold, cfg_size,
	 "Bytes kept back until the verdict in early release"},
	{"BlockedDomains", &vg_conf.blocked_domains, cfg_paths,
	 "Domain block list files"},
	{"AllowedDomains", &vg_conf.allowed_domains, cfg_paths,
	 "Domain allow list files"},
	{"BlockedURLs", &vg_conf.blocked_urls, cfg_paths,
	 "URL regular expression block list files"},
	{"AllowedURLs", &vg_conf.allowed_urls, cfg_paths,
	 "URL regular expression allow list files"},
	{NULL, NULL, NULL, NULL}
};

int vg_conf_check(char *err, size_t errlen)
{
	if (vg_conf.max_object_size <= 0) {
		snprintf(err, errlen, "vigil.MaxObjectSize must be positive");
		return -1;
	}
	if (vg_conf.preview_size < 0) {
		snprintf(err, errlen, "vigil.PreviewSize must not be negative");
		return -1;
	}
	if (vg_conf.max_mem_object > vg_conf.max_object_size)
		vg_conf.max_mem_object = vg_conf.max_object_size;
	if (vg_conf.early_release &&
	    vg_conf.early_release_hold > vg_conf.early_release)
		vg_conf.early_release_hold = vg_conf.early_release;
	return 0;
}
