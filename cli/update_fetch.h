/*
 * update_fetch.h - one HTTP(S) download of a bundle for `vigil update`
 * (libcurl): conditional on the ETag or date of the installed copy,
 * resumed from a partial file when the server can, capped in size and
 * bounded in time.
 */
#ifndef VIGIL_CLI_UPDATE_FETCH_H
#define VIGIL_CLI_UPDATE_FETCH_H

#include <stdint.h>

#define VG_ETAG_MAX 256

typedef enum vg_fetch_status {
	VG_FETCH_DONE,          /* the whole file is in the part file */
	VG_FETCH_NOT_MODIFIED,  /* 304: the installed copy is current */
	VG_FETCH_FAILED         /* see err; the part file may hold a prefix */
} vg_fetch_status;

/* What identifies a server's copy: compared on resume and next time. */
typedef struct vg_validator {
	char etag[VG_ETAG_MAX];   /* "" when the server sent none */
	int64_t modified;         /* Last-Modified, Unix time; -1 if none */
} vg_validator;

typedef struct vg_fetch_req {
	const char *url;
	const char *part;         /* the body goes here (resumed if present) */
	const char *part_meta;    /* the validator of the part's server copy */
	const vg_validator *have; /* the installed copy's, for a 304; or NULL */
	uint64_t max_size, connect_timeout, receive_timeout;
} vg_fetch_req;

typedef struct vg_fetch_res {
	vg_validator got;         /* of the copy downloaded */
	uint64_t bytes;           /* bytes received in this call */
	uint64_t resumed_from;    /* offset the download resumed at, or 0 */
	char err[512];
} vg_fetch_res;

/* libcurl's process-wide set-up; 0 or -1. */
int vg_fetch_init(void);
void vg_fetch_cleanup(void);

vg_fetch_status vg_fetch(const vg_fetch_req *q, vg_fetch_res *r);

/* A validator as "url\netag\nmodified\n" text and back; read returns 0
 * when the file names url (any URL when url is NULL), else -1. */
int vg_validator_write(const char *path, const char *url,
                       const vg_validator *v);
int vg_validator_read(const char *path, const char *url, vg_validator *v);

#endif
