/*
 * engine.c - engine life cycle: limits, options, loading, freezing.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/vg.h"
#include "engine/allocator.h"
#include "engine/bundle.h"
#include "worker/worker.h"
#include "engine/cache.h"

/* Defaults for every limit, in vigil_limit order (see vigil.h). */
static const uint64_t default_limits[VIGIL_LIMIT_COUNT] = {
	[VIGIL_LIMIT_MAX_FILESIZE] = 2ull << 30,
	[VIGIL_LIMIT_YARA_TIMEOUT_MS] = 10000,
	[VIGIL_LIMIT_CACHE_ENTRIES] = 262144,
	[VIGIL_LIMIT_MAX_DEPTH] = 16,
	[VIGIL_LIMIT_MAX_EXTRACTED] = 400ull * 1000 * 1000,
	[VIGIL_LIMIT_MAX_MEMBERS] = 10000,
	[VIGIL_LIMIT_MAX_MEMBER_SIZE] = 100ull * 1000 * 1000,
	[VIGIL_LIMIT_MAX_RATIO] = 100,
	[VIGIL_LIMIT_RATIO_MIN_SIZE] = 1000 * 1000,
	[VIGIL_LIMIT_MAX_SCAN_MS] = 120000,
	[VIGIL_LIMIT_MAX_WORKER_MEMORY] = 512ull << 20,
};

/* YARA score thresholds (doc/yara.md): THOR's "alert" and "warning"
 * levels on the 0-100 rule score, over 100. */
#define YARA_MALICIOUS_DEFAULT 0.80
#define YARA_SUSPICIOUS_DEFAULT 0.60

static int engine_ok(const vigil_engine *e)
{
	return e && e->magic == VG_ENGINE_MAGIC;
}

vigil_error vg_engine_fail(vigil_engine *e, vigil_error err,
                           const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->errmsg, sizeof e->errmsg, fmt, ap);
	va_end(ap);
	return err;
}

vigil_error vigil_engine_new(vigil_engine **out)
{
	vigil_engine *e;

	if (!out)
		return VIGIL_EINVAL;
	*out = NULL;
	e = calloc(1, sizeof *e);
	if (!e)
		return VIGIL_ENOMEM;
	e->magic = VG_ENGINE_MAGIC;
	memcpy(e->limits, default_limits, sizeof e->limits);
	e->load_verdict = VIGIL_MALICIOUS;
	*out = e;
	return VIGIL_OK;
}

void vigil_engine_free(vigil_engine *e)
{
	if (!engine_ok(e))
		return;
	for (int i = 0; i < VG_STAGE_COUNT; i++)
		if (vg_stages[i]->engine_free)
			vg_stages[i]->engine_free(e);
	/* after the stages: their hash sets point into the mappings */
	vg_bundle_maps_free(e);
	free(e->trust_dir);
	vg_cache_free(e->cache);
	vg_pool_free(e->pool);
	e->magic = 0;
	free(e);
}

vigil_error vigil_engine_set_limit(vigil_engine *e, vigil_limit limit,
                                   uint64_t value)
{
	if (!engine_ok(e) || (unsigned)limit >= VIGIL_LIMIT_COUNT)
		return VIGIL_EINVAL;
	if (e->frozen)
		return vg_engine_fail(e, VIGIL_EFROZEN,
		                      "limits cannot change after freeze");
	e->limits[limit] = value;
	return VIGIL_OK;
}

uint64_t vigil_engine_get_limit(const vigil_engine *e, vigil_limit limit)
{
	if (!engine_ok(e) || (unsigned)limit >= VIGIL_LIMIT_COUNT)
		return 0;
	return e->limits[limit];
}

vigil_error vigil_engine_set_option(vigil_engine *e, vigil_option option,
                                    int value)
{
	if (!engine_ok(e) || (unsigned)option >= VIGIL_OPTION_COUNT)
		return VIGIL_EINVAL;
	if (e->frozen)
		return vg_engine_fail(e, VIGIL_EFROZEN,
		                      "options cannot change after freeze");
	e->options[option] = value != 0;
	return VIGIL_OK;
}

vigil_error vigil_engine_set_threshold(vigil_engine *e, vigil_threshold which,
                                       double value)
{
	if (!engine_ok(e))
		return VIGIL_EINVAL;
	if ((unsigned)which >= VIGIL_THRESHOLD_COUNT || !(value >= 0 && value <= 1))
		return vg_engine_fail(e, VIGIL_EINVAL,
		                      "threshold must be a score in [0, 1]");
	if (e->frozen)
		return vg_engine_fail(e, VIGIL_EFROZEN,
		                      "thresholds cannot change after freeze");
	e->thresholds[which] = value;
	e->threshold_set[which] = 1;
	return VIGIL_OK;
}

double vigil_engine_get_threshold(const vigil_engine *e,
                                  vigil_threshold which)
{
	if (!engine_ok(e) || (unsigned)which >= VIGIL_THRESHOLD_COUNT)
		return -1;
	if (e->threshold_set[which])
		return e->thresholds[which];
	switch (which) {
	case VIGIL_THRESHOLD_YARA_MALICIOUS: return YARA_MALICIOUS_DEFAULT;
	case VIGIL_THRESHOLD_YARA_SUSPICIOUS: return YARA_SUSPICIOUS_DEFAULT;
	default: return vg_ml_threshold_default(e, which);
	}
}

void vigil_engine_set_load_callback(vigil_engine *e, vigil_load_error_cb cb,
                                    void *userdata)
{
	if (!engine_ok(e))
		return;
	e->load_cb = cb;
	e->load_cb_userdata = userdata;
}

/* The stage that loads files ending in path's extension, or NULL. */
static const vg_stage *stage_for(const char *path)
{
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');

	if (!dot || (slash && dot < slash))
		return NULL;
	for (int i = 0; i < VG_STAGE_COUNT; i++) {
		const char *const *ext = vg_stages[i]->extensions;
		for (; ext && *ext; ext++)
			if (strcasecmp(dot, *ext) == 0)
				return vg_stages[i];
	}
	return NULL;
}

/* 1 for the errors that concern one signature file, which the load
 * callback may skip; not for out of memory or vigil's own failures. */
static int file_error(vigil_error err)
{
	switch (err) {
	case VIGIL_EDATABASE: case VIGIL_EFORMAT: case VIGIL_EMODEL:
	case VIGIL_ENOENT: case VIGIL_EACCES: case VIGIL_EIO:
	case VIGIL_ENOTREG: case VIGIL_ETOOLARGE:
		return 1;
	default:
		return 0;
	}
}

/* err for path, unless the load callback skips the file. */
static vigil_error file_failed(vigil_engine *e, const char *path,
                               vigil_error err)
{
	if (err == VIGIL_OK || !e->load_cb || !file_error(err))
		return err;
	if (e->load_cb(path, err, e->errmsg, e->load_cb_userdata) != VIGIL_CONTINUE)
		return err;
	e->errmsg[0] = '\0';
	return VIGIL_OK;
}

/* 1 when path ends in .vgb, or (for a file named on its own) starts
 * with the bundle magic. */
static int is_bundle(const char *path, int strict)
{
	const char *dot = strrchr(path, '.');
	uint8_t head[8];
	ssize_t got;
	int fd;

	if (dot && !strchr(dot, '/') && strcasecmp(dot, ".vgb") == 0)
		return 1;
	if (!strict)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return 0;
	got = read(fd, head, sizeof head);
	close(fd);
	return got == (ssize_t)sizeof head && vg_bundle_has_magic(head, 8);
}

/*
 * Loads one signature file. strict: the file was named, so an unknown
 * type is an error, and so is a file that loads but holds no signature
 * (an empty rule set that loads quietly scans everything CLEAN). In a
 * folder, a file of nothing but comments is left be (published
 * collections ship rules commented out); the folder as a whole must
 * yield something (vigil_engine_load). A stage with no count, the ML
 * model, is judged by its own loader.
 */
static vigil_error load_file(vigil_engine *e, const char *path, int strict)
{
	const vg_stage *st = stage_for(path);
	uint64_t before;
	vigil_error err;

	if (is_bundle(path, strict && !st))
		return vg_bundle_load(e, path, 0);
	if (!st) {
		if (!strict)
			return VIGIL_OK;
		err = vg_engine_fail(e, VIGIL_EFORMAT,
		                     "%s: unknown signature file type", path);
		return file_failed(e, path, err);
	}
	before = st->count ? st->count(e) : 0;
	err = st->load(e, path);
	if (err == VIGIL_OK && strict && st->count && st->count(e) <= before)
		err = vg_engine_fail(e, VIGIL_EDATABASE,
		                     "%s: no signatures in this file", path);
	return file_failed(e, path, err);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted so the load order does not depend on
 * the file system's; hidden ones (".git") left out. */
static vigil_error list_dir(vigil_engine *e, const char *path, char ***out,
                            size_t *count)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	vigil_error err = VIGIL_OK;

	*out = NULL;
	*count = 0;
	if (!d)
		return file_failed(e, path,
		                   vg_engine_fail(e, vg_error_from_errno(errno),
		                                  "%s: %s", path, strerror(errno)));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **nn = realloc(names, ncap * sizeof *nn);
			if (!nn) { err = VIGIL_ENOMEM; break; }
			names = nn;
			cap = ncap;
		}
		if (!(names[n] = malloc(strlen(path) + strlen(de->d_name) + 2))) {
			err = VIGIL_ENOMEM;
			break;
		}
		sprintf(names[n++], "%s/%s", path, de->d_name);
	}
	closedir(d);
	if (!err && n > 1)
		qsort(names, n, sizeof *names, name_cmp);
	*out = names;
	*count = n;
	if (err == VIGIL_ENOMEM)
		return vg_engine_fail(e, err, "%s: out of memory", path);
	return err;
}

/*
 * Loads a directory's signature files, and its subdirectories' down to
 * VG_LOAD_DEPTH levels below it, in name order. Rule collections keep
 * their files in folders by family or platform (two or three levels in
 * the published ones); a bound keeps a mistaken -d on a large tree
 * short. Symbolic links to files are followed, links to directories are
 * not (no loops). *found counts the signature files loaded.
 */
#define VG_LOAD_DEPTH 8

static vigil_error load_dir(vigil_engine *e, const char *path, int depth,
                            size_t *found)
{
	char **names;
	size_t n;
	vigil_error err = list_dir(e, path, &names, &n);

	for (size_t i = 0; i < n; i++) {
		struct stat st, lst;
		if (!err && stat(names[i], &st) == 0) {
			if (S_ISREG(st.st_mode) &&
			    (stage_for(names[i]) || is_bundle(names[i], 0))) {
				err = load_file(e, names[i], 0);
				(*found)++;
			} else if (S_ISDIR(st.st_mode) && depth < VG_LOAD_DEPTH &&
			           lstat(names[i], &lst) == 0 &&
			           S_ISDIR(lst.st_mode)) {
				err = load_dir(e, names[i], depth + 1, found);
			}
		}
		free(names[i]);
	}
	free(names);
	return err;
}

vigil_error vigil_engine_load(vigil_engine *e, const char *path)
{
	return vigil_engine_load_as(e, path, VIGIL_MALICIOUS);
}

vigil_error vigil_engine_load_as(vigil_engine *e, const char *path,
                                 vigil_verdict default_verdict)
{
	struct stat st;
	size_t found = 0;
	uint64_t before;
	vigil_error err;

	if (!engine_ok(e) || !path)
		return VIGIL_EINVAL;
	if (default_verdict != VIGIL_CLEAN && default_verdict != VIGIL_SUSPICIOUS &&
	    default_verdict != VIGIL_MALICIOUS)
		return vg_engine_fail(e, VIGIL_EINVAL,
		                      "a default verdict is CLEAN, SUSPICIOUS or "
		                      "MALICIOUS");
	if (e->frozen)
		return vg_engine_fail(e, VIGIL_EFROZEN,
		                      "cannot load %s: engine is frozen", path);
	if (stat(path, &st) != 0) {
		err = vg_engine_fail(e, vg_error_from_errno(errno), "%s: %s", path,
		                     strerror(errno));
		return file_failed(e, path, err);
	}
	e->load_verdict = default_verdict;
	if (!S_ISDIR(st.st_mode)) {
		err = load_file(e, path, 1);
	} else {
		before = vigil_engine_signature_count(e);
		err = load_dir(e, path, 0, &found);
		/* a folder that yields nothing is as wrong as an empty file */
		if (err == VIGIL_OK && !found)
			err = vg_engine_fail(e, VIGIL_EDATABASE,
			                     "%s: no signature files in this folder "
			                     "or its subfolders", path);
		else if (err == VIGIL_OK && vigil_engine_signature_count(e) <= before)
			err = vg_engine_fail(e, VIGIL_EDATABASE,
			                     "%s: no signatures in the files of this "
			                     "folder or its subfolders", path);
	}
	e->load_verdict = VIGIL_MALICIOUS;
	return err;
}

uint64_t vigil_engine_signature_count(const vigil_engine *e)
{
	uint64_t n = 0;

	if (!engine_ok(e))
		return 0;
	for (int i = 0; i < VG_STAGE_COUNT; i++)
		if (vg_stages[i]->count)
			n += vg_stages[i]->count(e);
	return n;
}

vigil_error vigil_engine_freeze(vigil_engine *e)
{
	static atomic_uint_fast64_t generations;
	vigil_error err;

	if (!engine_ok(e))
		return VIGIL_EINVAL;
	if (e->frozen)
		return vg_engine_fail(e, VIGIL_EFROZEN, "engine already frozen");
	for (int i = 0; i < VG_STAGE_COUNT; i++) {
		if (!vg_stages[i]->freeze)
			continue;
		err = vg_stages[i]->freeze(e);
		if (err != VIGIL_OK)
			return err;
	}
	err = vg_cache_new(e->limits[VIGIL_LIMIT_CACHE_ENTRIES], &e->cache);
	if (err != VIGIL_OK)
		return vg_engine_fail(e, err, "cannot allocate verdict cache");
	/* no worker starts before the first container needs one */
	if (!e->options[VIGIL_OPT_NO_ISOLATION] && !vg_worker_process &&
	    (err = vg_pool_new(e, &e->pool)) != VIGIL_OK)
		return err == VIGIL_ENOMEM ?
		       vg_engine_fail(e, err, "out of memory") : err;
	/* Every frozen engine is its own signature generation. */
	e->generation = atomic_fetch_add(&generations, 1) + 1;
	e->frozen = 1;
	vg_heap_trim();
	e->errmsg[0] = '\0';
	return VIGIL_OK;
}

const char *vigil_engine_last_error(const vigil_engine *e)
{
	return engine_ok(e) ? e->errmsg : "invalid engine";
}
