/*
 * update_fetch.c - downloads a bundle with libcurl for `vigil update`.
 *
 * A partial file left by a download that was cut (or killed) is resumed
 * with a Range request guarded by If-Range, so a copy that changed on
 * the server meanwhile starts over instead of being spliced; its
 * validator is written before the first byte of body. The size cap is
 * checked on every write, and a transfer slower than one byte a second
 * for ReceiveTimeout seconds is given up.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/update_fetch.h"
#include "cli/update_install.h"

int vg_fetch_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void vg_fetch_cleanup(void)
{
	curl_global_cleanup();
}

int vg_validator_write(const char *path, const char *url,
                       const vg_validator *v)
{
	char text[8192];
	int n = snprintf(text, sizeof text, "%s\n%s\n%" PRId64 "\n", url,
	                 v->etag, v->modified);

	if (n < 0 || (size_t)n >= sizeof text) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return vg_cli_write_atomic(path, text, (size_t)n, 0644);
}

int vg_validator_read(const char *path, const char *url, vg_validator *v)
{
	char text[8192], *nl1, *nl2;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	v->etag[0] = '\0';
	v->modified = -1;
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	if (!(nl1 = strchr(text, '\n')) || !(nl2 = strchr(nl1 + 1, '\n')))
		return -1;
	*nl1 = *nl2 = '\0';
	if ((url && strcmp(text, url) != 0) || strlen(nl1 + 1) >= VG_ETAG_MAX)
		return -1;
	strcpy(v->etag, nl1 + 1);
	v->modified = strtoll(nl2 + 1, NULL, 10);
	return 0;
}

/* The transfer in progress. */
typedef struct xfer {
	const vg_fetch_req *q;
	vg_fetch_res *r;
	CURL *curl;
	int fd;
	uint64_t offset;        /* bytes of the part before this transfer */
	uint64_t written;       /* bytes in the part now */
	int started;            /* the body began: the part is set up */
	int too_large;
	int io_error;
	int64_t range_start;    /* from Content-Range, or -1 */
} xfer;

/* Copies a header's value (after "Name:") into out, trimmed. */
static void header_value(const char *line, size_t n, size_t name_len,
                         char *out, size_t outlen)
{
	const char *v = line + name_len, *end = line + n;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	if ((size_t)(end - v) >= outlen)
		end = v; /* too long to be a real validator: none */
	memcpy(out, v, (size_t)(end - v));
	out[end - v] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ud)
{
	xfer *x = ud;
	size_t n = size * nmemb;
	char val[VG_ETAG_MAX];

	/* a new response (redirect, 100) starts with its status line */
	if (n >= 5 && !strncmp(line, "HTTP/", 5)) {
		x->r->got.etag[0] = '\0';
		x->range_start = -1;
	} else if (n > 5 && !strncasecmp(line, "ETag:", 5)) {
		header_value(line, n, 5, x->r->got.etag, sizeof x->r->got.etag);
	} else if (n > 14 && !strncasecmp(line, "Content-Range:", 14)) {
		header_value(line, n, 14, val, sizeof val);
		unsigned long long start;
		if (sscanf(val, "bytes %llu-", &start) == 1)
			x->range_start = (int64_t)start;
	}
	return n;
}

/* At the first byte of body: keep the part (206 at our offset) or
 * start it over (200), and record the validator before any byte. */
static int start_body(xfer *x)
{
	long code = 0;
	curl_off_t ft = -1;

	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(x->curl, CURLINFO_FILETIME_T, &ft);
	x->r->got.modified = ft >= 0 ? (int64_t)ft : -1;
	if (code == 206 && x->offset > 0 && x->range_start == (int64_t)x->offset) {
		x->r->resumed_from = x->offset;
	} else if (code == 200) {
		if (ftruncate(x->fd, 0) != 0)
			return -1;
		x->offset = x->written = 0;
		if (vg_validator_write(x->q->part_meta, x->q->url, &x->r->got) != 0)
			return -1;
	} else {
		snprintf(x->r->err, sizeof x->r->err, "unexpected HTTP status %ld",
		         code);
		return -1;
	}
	if (lseek(x->fd, (off_t)x->offset, SEEK_SET) < 0)
		return -1;
	x->started = 1;
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	xfer *x = ud;
	size_t n = size * nmemb, done = 0;

	if (!x->started && start_body(x) != 0) {
		x->io_error = !x->r->err[0];
		return 0;
	}
	if (x->written + n > x->q->max_size) {
		x->too_large = 1;
		return 0;
	}
	while (done < n) {
		ssize_t w = write(x->fd, data + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			x->io_error = 1;
			return 0;
		}
		done += (size_t)w;
	}
	x->written += n;
	x->r->bytes += n;
	return n;
}

/* Sets up the request: conditional, or a resumed range. */
static struct curl_slist *request_headers(xfer *x, vg_validator *part)
{
	const vg_fetch_req *q = x->q;
	struct curl_slist *h = NULL, *nh;
	char line[VG_ETAG_MAX + 32];

	if (x->offset > 0) {
		/* If-Range: the rest only if the server's copy is the one
		 * the part began with; else the whole file (200) */
		if (part->etag[0])
			snprintf(line, sizeof line, "If-Range: %s", part->etag);
		else {
			time_t t = (time_t)part->modified;
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(line, sizeof line,
			         "If-Range: %a, %d %b %Y %H:%M:%S GMT", &tm);
		}
		if (!(nh = curl_slist_append(h, line)))
			return NULL;
		h = nh;
		/* CURLOPT_RANGE, not RESUME_FROM: a 200 (the copy changed)
		 * is an answer here, not an error */
		snprintf(line, sizeof line, "%" PRIu64 "-", x->offset);
		curl_easy_setopt(x->curl, CURLOPT_RANGE, line);
	} else if (q->have && q->have->etag[0]) {
		snprintf(line, sizeof line, "If-None-Match: %s", q->have->etag);
		if (!(nh = curl_slist_append(h, line)))
			return NULL;
		h = nh;
	} else if (q->have && q->have->modified >= 0) {
		curl_easy_setopt(x->curl, CURLOPT_TIMECONDITION,
		                 (long)CURL_TIMECOND_IFMODSINCE);
		curl_easy_setopt(x->curl, CURLOPT_TIMEVALUE_LARGE,
		                 (curl_off_t)q->have->modified);
	}
	if (!(nh = curl_slist_append(h, "Accept-Encoding: identity"))) {
		curl_slist_free_all(h);
		return NULL;
	}
	return nh;
}

/* How much of a part can be resumed: its size, when it has a validator
 * and is below the cap; else 0 (start over). The validator may come
 * from another mirror: If-Range makes a server whose copy differs send
 * it whole, and the signature check catches any server that splices. */
static uint64_t resumable(const vg_fetch_req *q, int fd, vg_validator *part)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || st.st_size <= 0 ||
	    (uint64_t)st.st_size >= q->max_size ||
	    vg_validator_read(q->part_meta, NULL, part) != 0 ||
	    (!part->etag[0] && part->modified < 0))
		return 0;
	return (uint64_t)st.st_size;
}

vg_fetch_status vg_fetch(const vg_fetch_req *q, vg_fetch_res *r)
{
	xfer x = { .q = q, .r = r, .range_start = -1 };
	vg_validator part;
	struct curl_slist *headers;
	char curl_err[CURL_ERROR_SIZE] = "";
	vg_fetch_status st = VG_FETCH_FAILED;
	long code = 0;
	CURLcode rc;

	memset(r, 0, sizeof *r);
	r->got.modified = -1;
	if ((x.fd = open(q->part, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		snprintf(r->err, sizeof r->err, "%s: %s", q->part, strerror(errno));
		return VG_FETCH_FAILED;
	}
	x.offset = x.written = resumable(q, x.fd, &part);
	if (!(x.curl = curl_easy_init())) {
		snprintf(r->err, sizeof r->err, "libcurl cannot start");
		close(x.fd);
		return VG_FETCH_FAILED;
	}
	if (!(headers = request_headers(&x, &part))) {
		snprintf(r->err, sizeof r->err, "out of memory");
		goto out;
	}
	curl_easy_setopt(x.curl, CURLOPT_URL, q->url);
	curl_easy_setopt(x.curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x.curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x.curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(x.curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(x.curl, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(x.curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x.curl, CURLOPT_FILETIME, 1L);
	curl_easy_setopt(x.curl, CURLOPT_USERAGENT, "vigil-update/" PACKAGE_VERSION);
	curl_easy_setopt(x.curl, CURLOPT_CONNECTTIMEOUT, (long)q->connect_timeout);
	curl_easy_setopt(x.curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(x.curl, CURLOPT_LOW_SPEED_TIME, (long)q->receive_timeout);
	curl_easy_setopt(x.curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)q->max_size);
	curl_easy_setopt(x.curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(x.curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x.curl, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(x.curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x.curl, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(x.curl, CURLOPT_ERRORBUFFER, curl_err);
	rc = curl_easy_perform(x.curl);
	curl_easy_getinfo(x.curl, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK && code == 304) {
		st = VG_FETCH_NOT_MODIFIED;
	} else if (rc == CURLE_OK && !x.started) {
		/* an empty body: nothing a bundle could be */
		snprintf(r->err, sizeof r->err, "empty response (HTTP %ld)", code);
	} else if (rc == CURLE_OK) {
		if (fsync(x.fd) == 0)
			st = VG_FETCH_DONE;
		else
			snprintf(r->err, sizeof r->err, "%s: %s", q->part,
			         strerror(errno));
	} else if (x.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(r->err, sizeof r->err, "larger than MaxBundleSize "
		         "(%" PRIu64 " bytes)", q->max_size);
		if (ftruncate(x.fd, 0) != 0)
			unlink(q->part);
	} else if (x.io_error) {
		snprintf(r->err, sizeof r->err, "%s: %s", q->part, strerror(errno));
	} else if (!r->err[0]) {
		snprintf(r->err, sizeof r->err, "%s", curl_err[0] ? curl_err
		         : curl_easy_strerror(rc));
		/* a range the server cannot give: start over next time */
		if (code == 416 && ftruncate(x.fd, 0) != 0)
			unlink(q->part);
	}
	/* what was received stays for the next attempt, made durable */
	if (st == VG_FETCH_FAILED)
		fsync(x.fd);
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(x.curl);
	close(x.fd);
	return st;
}
