/*
 * conf.h - srv_vigil's settings: the vigil.* directives of c-icap.conf
 * (documented in doc/srv_vigil.8), with their defaults.
 */
#ifndef VIGIL_ICAP_CONF_H
#define VIGIL_ICAP_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <c_icap/c-icap.h>
#include <c_icap/cfg_param.h>

#define VG_CONF_MAX_PATHS 32

struct vg_paths {
	char *v[VG_CONF_MAX_PATHS];
	int n;
};

struct vg_icap_conf {
	/* signatures */
	struct vg_paths databases;   /* Database: files or folders */
	int no_default_signatures;   /* NoDefaultSignatures */
	int no_ml;                   /* DisableML */
	char *trusted_keys;          /* TrustedKeys: bundle trust store, NULL: built-in */
	int allow_unsigned;          /* AllowUnsignedBundles (development) */
	/* engine limits, 0: the engine's default (clamd.conf names) */
	long long max_scan_size;     /* MaxScanSize: bytes extracted per object */
	long long max_file_size;     /* MaxFileSize: one member */
	long long max_recursion;     /* MaxRecursion */
	long long max_files;         /* MaxFiles */
	long long max_scan_time;     /* MaxScanTime, milliseconds */
	/* bodies */
	long long max_object_size;   /* MaxObjectSize, default 100M */
	long long max_mem_object;    /* MaxMemObject, default 4M */
	int decode_content;          /* DecodeContent, default on */
	int scan_uploads;            /* ScanUploads (REQMOD bodies), default on */
	int preview_size;            /* PreviewSize, default 1024 */
	int allow204;                /* Allow204, default on */
	/* policies: blocking is the default for all but SUSPICIOUS */
	int pass_oversize;           /* PassOverMaxObjectSize */
	int pass_incomplete;         /* PassIncomplete */
	int pass_on_error;           /* PassOnError */
	int block_suspicious;        /* BlockSuspicious */
	long long early_release;     /* EarlyRelease: bytes before sending, 0 off */
	long long early_release_hold;/* EarlyReleaseHold: tail kept back */
	/* web protection */
	struct vg_paths blocked_domains, allowed_domains; /* BlockedDomains, AllowedDomains */
	struct vg_paths blocked_urls, allowed_urls;       /* BlockedURLs, AllowedURLs (PCRE2) */
	/* from c-icap */
	char *tmpdir;                /* c-icap's TmpDir */
};

extern struct vg_icap_conf vg_conf;

/* The c-icap configuration table (service directives "vigil.Name"). */
extern struct ci_conf_entry vg_conf_table[];

/* Sets the defaults; called when the service loads, before the directives. */
void vg_conf_defaults(void);

/* Checks the values after the directives; 0 or -1 with a message. */
int vg_conf_check(char *err, size_t errlen);

#endif
