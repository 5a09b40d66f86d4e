/*
 * output.c - reports, counts and the summary of `vigil scan` (see
 * output.h). JSON is built with jansson, never by hand.
 */
#include "config.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/output.h"

struct vg_out {
	vg_out_opts opts;
	pthread_mutex_t lock;
	vg_stats st;
	int progress_shown;   /* a progress line is on the terminal now */
};

vg_out *vg_out_new(const vg_out_opts *opts)
{
	vg_out *o = calloc(1, sizeof *o);

	if (!o)
		return NULL;
	o->opts = *opts;
	pthread_mutex_init(&o->lock, NULL);
	return o;
}

void vg_out_free(vg_out *o)
{
	if (!o)
		return;
	pthread_mutex_destroy(&o->lock);
	free(o);
}

/* Called with the lock held, before anything else is printed. */
static void wipe_progress(vg_out *o)
{
	if (o->progress_shown) {
		fputs("\r\033[K", stderr);
		o->progress_shown = 0;
	}
}

/* ---- JSON helpers ---------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, past U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * A JSON string from bytes that may not be UTF-8 (file names on Linux
 * are any bytes): invalid bytes become U+FFFD. *lossy is set when that
 * happened. NULL only when out of memory.
 */
static json_t *safe_string(const char *s, int *lossy)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), w = 0;
	json_t *j;
	char *buf;

	if (lossy)
		*lossy = 0;
	if ((j = json_stringn(s, n)))
		return j;
	if (!(buf = malloc(3 * n + 1)))
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq(p + i, n - i);
		if (len && p[i]) {
			memcpy(buf + w, p + i, len);
			w += len;
			i += len;
		} else {
			memcpy(buf + w, "\xef\xbf\xbd", 3);
			w += 3;
			i++;
		}
	}
	j = json_stringn(buf, w);
	free(buf);
	if (lossy)
		*lossy = 1;
	return j;
}

/* {"path": ...} plus "path_hex" when the path is not valid UTF-8. */
static json_t *object_for_path(const char *path)
{
	json_t *obj = json_object();
	int lossy;

	if (!obj)
		return NULL;
	json_object_set_new(obj, "path", safe_string(path, &lossy));
	if (lossy) {
		size_t n = strlen(path);
		char *hex = malloc(2 * n + 1);
		if (hex) {
			for (size_t i = 0; i < n; i++)
				snprintf(hex + 2 * i, 3, "%02x", (unsigned char)path[i]);
			json_object_set_new(obj, "path_hex", json_string(hex));
			free(hex);
		}
	}
	return obj;
}

/* Prints obj as one line and frees it; called with the lock held. */
static void emit(json_t *obj)
{
	if (!obj) {
		vg_cli_warn("out of memory building a JSON report");
		return;
	}
	if (json_dumpf(obj, stdout, JSON_COMPACT) == 0)
		putchar('\n');
	json_decref(obj);
}

static json_t *finding_json(const vigil_finding *f)
{
	return json_pack("{s:o, s:o, s:o, s:s, s:f, s:o, s:o}",
	                 "stage", safe_string(vigil_finding_stage(f), NULL),
	                 "name", safe_string(vigil_finding_name(f), NULL),
	                 "layer", safe_string(vigil_finding_layer(f), NULL),
	                 "verdict", vigil_verdict_name(vigil_finding_verdict(f)),
	                 "score", vigil_finding_score(f),
	                 "detail", safe_string(vigil_finding_detail(f), NULL),
	                 "reason", safe_string(vigil_finding_reason(f), NULL));
}

static void result_json(const char *path, const vigil_result *r)
{
	json_t *obj = object_for_path(path), *findings = json_array();
	size_t n = vigil_result_finding_count(r);

	const char *sha = vigil_result_sha256(r), *type = vigil_result_type(r);

	if (!obj || !findings) {
		json_decref(obj);
		json_decref(findings);
		emit(NULL);
		return;
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(findings, finding_json(vigil_result_finding(r, i)));
	if (json_object_update_new(obj, json_pack(
	        "{s:s, s:o, s:s, s:I, s:s, s:b, s:I, s:I}",
	        "verdict", vigil_verdict_name(vigil_result_verdict(r)),
	        "findings", findings,
	        "sha256", sha ? sha : "",
	        "size", (json_int_t)vigil_result_size(r),
	        "type", type ? type : "",
	        "cached", vigil_result_cached(r),
	        "time_us", (json_int_t)vigil_result_time_us(r),
	        "bytes_scanned", (json_int_t)vigil_result_bytes_scanned(r))) == 0) {
		emit(obj);
		return;
	}
	json_decref(obj);
	emit(NULL);
}

/* ---- text ------------------------------------------------------ */

static void finding_line(const vg_out *o, const char *path,
                         const vigil_finding *f, const char *tag)
{
	const char *layer = vigil_finding_layer(f);
	const char *reason = vigil_finding_reason(f);
	const char *detail = vigil_finding_detail(f);

	printf("%s%s%s: %s %s\n", path, *layer ? "!" : "", layer,
	       vigil_finding_name(f), tag);
	/* Indented lines of their own keep clamscan-style "path: NAME
	 * FOUND" lines as they are. --verbose says why the verdict and what
	 * the signature describes. Otherwise only a score below 1, a
	 * judgement (the ML model, a YARA rule's score) rather than an
	 * exact signature, says why: the reason, else the detail (the ML
	 * stage's starts with the score); a cloud finding gives the
	 * service's reason. */
	if (o->opts.verbose) {
		if (*reason)
			printf("    %s\n", reason);
		if (*detail)
			printf("    %s\n", detail);
	} else if (strcmp(vigil_finding_stage(f), "cloud") == 0 && *detail) {
		printf("    %s\n", detail);
	} else if (vigil_finding_score(f) < 1.0 && (*reason || *detail)) {
		printf("    %s\n", *reason ? reason : detail);
	}
}

/*
 * Hits print as "path[!layer]: NAME FOUND", limits as
 * "path[!layer]: Limit.X INCOMPLETE"; a file with neither is "OK".
 * A model's finding is followed by an indented line with its score and
 * explanation, a cloud finding by the service's reason.
 * Informational findings (verdict CLEAN) print as
 * "path[!layer]: NAME INFO" with --verbose only (and are in --json).
 */
static void result_text(const vg_out *o, const char *path,
                        const vigil_result *r)
{
	size_t n = vigil_result_finding_count(r), lines = 0;

	for (size_t i = 0; i < n; i++) {
		const vigil_finding *f = vigil_result_finding(r, i);
		vigil_verdict v = vigil_finding_verdict(f);
		if (v >= VIGIL_SUSPICIOUS) {
			finding_line(o, path, f, "FOUND");
			lines++;
		} else if (v == VIGIL_INCOMPLETE && !o->opts.infected_only) {
			finding_line(o, path, f, "INCOMPLETE");
			lines++;
		} else if (v == VIGIL_CLEAN && o->opts.verbose) {
			finding_line(o, path, f, "INFO");
		}
	}
	if (!lines && !o->opts.infected_only)
		printf("%s: OK\n", path);
}

/* ---- the calls ------------------------------------------------- */

void vg_out_result(vg_out *o, const char *path, const vigil_result *r)
{
	vigil_verdict v = vigil_result_verdict(r);
	int hit = v >= VIGIL_SUSPICIOUS;

	pthread_mutex_lock(&o->lock);
	o->st.files++;
	o->st.bytes_read += vigil_result_size(r);
	o->st.bytes_scanned += vigil_result_bytes_scanned(r);
	o->st.cached += vigil_result_cached(r) != 0;
	if (v == VIGIL_MALICIOUS)
		o->st.malicious++;
	else if (v == VIGIL_SUSPICIOUS)
		o->st.suspicious++;
	else if (v == VIGIL_INCOMPLETE)
		o->st.incomplete++;
	if (hit || !o->opts.infected_only) {
		wipe_progress(o);
		if (o->opts.json)
			result_json(path, r);
		else
			result_text(o, path, r);
	}
	pthread_mutex_unlock(&o->lock);
}

void vg_out_error(vg_out *o, const char *path, vigil_error code,
                  const char *message)
{
	pthread_mutex_lock(&o->lock);
	o->st.errors++;
	wipe_progress(o);
	if (o->opts.json) {
		json_t *obj = object_for_path(path);
		if (obj && json_object_update_new(obj, json_pack("{s:o, s:i}",
		        "error", safe_string(message, NULL), "code", (int)code)) != 0) {
			json_decref(obj);
			obj = NULL;
		}
		emit(obj);
		/* in order with the reports, when both go to one terminal */
		fflush(stdout);
	}
	fprintf(stderr, "vigil: %s: %s\n", path, message);
	pthread_mutex_unlock(&o->lock);
}

void vg_out_sig_error(vg_out *o, const char *path, vigil_error code,
                      const char *message)
{
	pthread_mutex_lock(&o->lock);
	o->st.sig_errors++;
	wipe_progress(o);
	if (o->opts.json) {
		json_t *obj = object_for_path(path);
		if (obj && json_object_update_new(obj, json_pack("{s:o, s:i, s:b}",
		        "error", safe_string(message, NULL), "code", (int)code,
		        "signature_file", 1)) != 0) {
			json_decref(obj);
			obj = NULL;
		}
		emit(obj);
		fflush(stdout);
	}
	/* libvigil's message names the file (and line) itself */
	fprintf(stderr, "vigil: %s\n", message);
	pthread_mutex_unlock(&o->lock);
}

void vg_out_skipped(vg_out *o, const char *path, const char *reason)
{
	pthread_mutex_lock(&o->lock);
	o->st.skipped++;
	if (!o->opts.infected_only) {
		wipe_progress(o);
		if (o->opts.json) {
			json_t *obj = object_for_path(path);
			if (obj && json_object_set_new(obj, "skipped",
			                               json_string(reason)) != 0) {
				json_decref(obj);
				obj = NULL;
			}
			emit(obj);
		} else {
			printf("%s: SKIPPED (%s)\n", path, reason);
		}
	}
	pthread_mutex_unlock(&o->lock);
}

void vg_out_dir(vg_out *o)
{
	pthread_mutex_lock(&o->lock);
	o->st.dirs++;
	pthread_mutex_unlock(&o->lock);
}

void vg_out_stats(vg_out *o, vg_stats *snapshot)
{
	pthread_mutex_lock(&o->lock);
	*snapshot = o->st;
	pthread_mutex_unlock(&o->lock);
}

void vg_out_progress(vg_out *o, const char *line)
{
	pthread_mutex_lock(&o->lock);
	/* what the workers printed goes out before the line is drawn */
	fflush(stdout);
	if (line) {
		fprintf(stderr, "\r\033[K%s", line);
		o->progress_shown = 1;
	} else {
		wipe_progress(o);
	}
	pthread_mutex_unlock(&o->lock);
}

int vg_out_exit_code(vg_out *o)
{
	int code;

	pthread_mutex_lock(&o->lock);
	/* a threat is never hidden behind an error; an error outranks a
	 * limit, since a file that could not be read was not scanned at all */
	if (o->st.malicious || o->st.suspicious)
		code = VG_EXIT_FOUND;
	else if (o->st.errors || o->st.sig_errors)
		code = VG_EXIT_ERROR;
	else if (o->st.incomplete)
		code = VG_EXIT_INCOMPLETE;
	else
		code = VG_EXIT_CLEAN;
	pthread_mutex_unlock(&o->lock);
	return code;
}

#define MB (1024.0 * 1024.0)

static void summary_text(const vg_stats *s, double seconds,
                         uint64_t signatures)
{
	double rate = seconds > 0 ? s->bytes_read / MB / seconds : 0;
	unsigned long whole = (unsigned long)seconds;

	printf("\n----------- SCAN SUMMARY -----------\n");
	printf("Known signatures: %llu\n", (unsigned long long)signatures);
	printf("Engine version: %s\n", vigil_version());
	printf("Scanned directories: %llu\n", (unsigned long long)s->dirs);
	printf("Scanned files: %llu\n", (unsigned long long)s->files);
	printf("Infected files: %llu (%llu malicious, %llu suspicious)\n",
	       (unsigned long long)(s->malicious + s->suspicious),
	       (unsigned long long)s->malicious,
	       (unsigned long long)s->suspicious);
	printf("Incomplete files: %llu\n", (unsigned long long)s->incomplete);
	printf("Skipped files: %llu\n", (unsigned long long)s->skipped);
	printf("Errors: %llu\n", (unsigned long long)s->errors);
	if (s->sig_errors)
		printf("Signature files not loaded: %llu\n",
		       (unsigned long long)s->sig_errors);
	printf("Data scanned: %.2f MB\n", s->bytes_scanned / MB);
	printf("Data read: %.2f MB\n", s->bytes_read / MB);
	printf("Rate: %.2f MB/s, %.0f files/s\n", rate,
	       seconds > 0 ? s->files / seconds : 0);
	printf("Time: %.3f sec (%lu m %lu s)\n", seconds, whole / 60, whole % 60);
}

static void summary_json(const vg_stats *s, double seconds,
                         uint64_t signatures, int exit_code)
{
	emit(json_pack("{s:b, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
	               " s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:i}",
	               "summary", 1,
	               "signatures", (json_int_t)signatures,
	               "engine_version", vigil_version(),
	               "directories", (json_int_t)s->dirs,
	               "files", (json_int_t)s->files,
	               "found", (json_int_t)(s->malicious + s->suspicious),
	               "malicious", (json_int_t)s->malicious,
	               "suspicious", (json_int_t)s->suspicious,
	               "incomplete", (json_int_t)s->incomplete,
	               "skipped", (json_int_t)s->skipped,
	               "errors", (json_int_t)s->errors,
	               "signature_errors", (json_int_t)s->sig_errors,
	               "cached", (json_int_t)s->cached,
	               "bytes_read", (json_int_t)s->bytes_read,
	               "bytes_scanned", (json_int_t)s->bytes_scanned,
	               "time_s", seconds,
	               "mb_per_s", seconds > 0 ? s->bytes_read / MB / seconds : 0.0,
	               "exit_code", exit_code));
}

void vg_out_summary(vg_out *o, double seconds, uint64_t signatures)
{
	vg_stats s;
	int code = vg_out_exit_code(o);

	vg_out_stats(o, &s);
	pthread_mutex_lock(&o->lock);
	wipe_progress(o);
	if (o->opts.summary) {
		if (o->opts.json)
			summary_json(&s, seconds, signatures, code);
		else
			summary_text(&s, seconds, signatures);
	}
	fflush(stdout);
	pthread_mutex_unlock(&o->lock);
}

/* A file over --max-filesize: a limit kept it from being read, so it is
 * INCOMPLETE (never CLEAN), reported the way a scanned file that hit a
 * limit is, with "skipped" saying why in JSON. */
void vg_out_limit_skipped(vg_out *o, const char *path, const char *limit,
                          const char *reason)
{
	pthread_mutex_lock(&o->lock);
	o->st.incomplete++;
	o->st.skipped++;
	if (!o->opts.infected_only) {
		wipe_progress(o);
		if (o->opts.json) {
			json_t *obj = object_for_path(path);
			if (obj && json_object_update_new(obj, json_pack(
			        "{s:s, s:[{s:s, s:s, s:s, s:s, s:f, s:s}], s:s}",
			        "verdict", "INCOMPLETE",
			        "findings", "stage", "limit", "name", limit,
			        "layer", "", "verdict", "INCOMPLETE", "score", 0.0,
			        "detail", reason,
			        "skipped", reason)) != 0) {
				json_decref(obj);
				obj = NULL;
			}
			emit(obj);
		} else {
			printf("%s: %s INCOMPLETE\n", path, limit);
		}
	}
	pthread_mutex_unlock(&o->lock);
}
