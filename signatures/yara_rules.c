/*
 * yara_rules.c - loading YARA rules: sources through one YR_COMPILER,
 * compiled files through yr_rules_load_stream, and libyara's process-wide
 * set-up shared by every engine.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signatures/yara_externals.h"
#include "signatures/yara_rules.h"

/*
 * libyara keeps process-wide state (yr_initialize / yr_finalize) behind a
 * plain counter that is not safe to touch from two threads. Every engine
 * holding YARA rules takes one reference here; the first initializes the
 * library and the last finalizes it.
 */
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned lib_users;

static int lib_acquire(void)
{
	int rc = ERROR_SUCCESS;

	pthread_mutex_lock(&lib_lock);
	if (lib_users == 0)
		rc = yr_initialize();
	if (rc == ERROR_SUCCESS)
		lib_users++;
	pthread_mutex_unlock(&lib_lock);
	return rc == ERROR_SUCCESS;
}

static void lib_release(void)
{
	pthread_mutex_lock(&lib_lock);
	if (lib_users && --lib_users == 0)
		yr_finalize();
	pthread_mutex_unlock(&lib_lock);
}

vg_yara *vg_yara_get(vigil_engine *e)
{
	vg_yara *y = e->stage_state[VG_STAGE_yara];

	if (y)
		return y;
	if (!(y = calloc(1, sizeof *y)))
		return NULL;
	if (!lib_acquire()) {
		free(y);
		return NULL;
	}
	y->lib_ref = 1;
	e->stage_state[VG_STAGE_yara] = y;
	return y;
}

/* Which of vigil's externals a set declares as strings. */
static unsigned declared_externals(const YR_RULES *rules)
{
	const YR_EXTERNAL_VARIABLE *ev = rules->ext_vars_table;
	unsigned mask = 0;

	for (; !EXTERNAL_VARIABLE_IS_NULL(ev); ev++) {
		if (ev->type != EXTERNAL_VARIABLE_TYPE_STRING &&
		    ev->type != EXTERNAL_VARIABLE_TYPE_MALLOC_STRING)
			continue;
		for (unsigned i = 0; i < VG_YX_COUNT; i++)
			if (strcmp(ev->identifier, vg_yx_names[i]) == 0)
				mask |= 1u << i;
	}
	return mask;
}

static vigil_error add_set(vigil_engine *e, vg_yara *y, YR_RULES *rules)
{
	if (y->nsets == y->sets_cap) {
		size_t ncap = y->sets_cap ? y->sets_cap * 2 : 4;
		vg_yara_set *ns = realloc(y->sets, ncap * sizeof *ns);
		if (!ns) {
			yr_rules_destroy(rules);
			return vg_engine_fail(e, VIGIL_ENOMEM, "out of memory");
		}
		y->sets = ns;
		y->sets_cap = ncap;
	}
	y->sets[y->nsets++] = (vg_yara_set){
		.rules = rules,
		.externals = declared_externals(rules),
	};
	return VIGIL_OK;
}

/* ------------------------------------------------------------------ */
/* Sources                                                             */
/* ------------------------------------------------------------------ */

/* The first error of one yr_compiler_add_file call. */
typedef struct compile_msg {
	char text[VG_ERRMSG_MAX];
	int errors;
} compile_msg;

static void on_compile_msg(int level, const char *file, int line,
                           const YR_RULE *rule, const char *message,
                           void *user_data)
{
	compile_msg *m = user_data;

	(void)rule;
	/* Warnings (slow rules and the like) do not stop a load. */
	if (level != YARA_ERROR_LEVEL_ERROR || m->errors++)
		return;
	snprintf(m->text, sizeof m->text, "%s:%d: %s", file ? file : "(rules)",
	         line, message);
}

/* Between files: the last file's compile_msg is gone. */
static void ignore_compile_msg(int level, const char *file, int line,
                               const YR_RULE *rule, const char *message,
                               void *user_data)
{
	(void)level; (void)file; (void)line; (void)rule; (void)message;
	(void)user_data;
}

static vigil_error compiler_new(vigil_engine *e, vg_yara *y)
{
	YR_COMPILER *c;

	if (yr_compiler_create(&c) != ERROR_SUCCESS)
		return vg_engine_fail(e, VIGIL_ENOMEM, "cannot create a YARA compiler");
	/* Declared with empty defaults so rules that read them compile;
	 * the scanner sets the real values per object. */
	for (unsigned i = 0; i < VG_YX_COUNT; i++) {
		if (yr_compiler_define_string_variable(c, vg_yx_names[i], "")
		    != ERROR_SUCCESS) {
			yr_compiler_destroy(c);
			return vg_engine_fail(e, VIGIL_ENOMEM,
			                      "cannot declare YARA externals");
		}
	}
	y->compiler = c;
	return VIGIL_OK;
}

/* "dir/apt_x.yar" -> "apt_x": the namespace of a source file. */
static char *namespace_of(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *dot;
	size_t n;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	return strndup(base, n);
}

static vigil_error compile_file(vigil_engine *e, vg_yara *y, const char *path)
{
	compile_msg m = { .errors = 0 };
	char *ns;
	FILE *f;
	int nerr;

	if (!(f = fopen(path, "re")))
		return vg_engine_fail(e, vg_error_from_errno(errno), "%s: %s", path,
		                      strerror(errno));
	if (!(ns = namespace_of(path))) {
		fclose(f);
		return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory", path);
	}
	yr_compiler_set_callback(y->compiler, on_compile_msg, &m);
	nerr = yr_compiler_add_file(y->compiler, f, ns, path);
	yr_compiler_set_callback(y->compiler, ignore_compile_msg, NULL);
	free(ns);
	fclose(f);
	if (nerr == 0)
		return VIGIL_OK;
	/* After an error the compiler cannot take more rules: drop it and
	 * let the next source rebuild it from the files that compiled. */
	nerr = y->compiler->last_error;
	yr_compiler_destroy(y->compiler);
	y->compiler = NULL;
	if (nerr == ERROR_INSUFFICIENT_MEMORY)
		return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory", path);
	return vg_engine_fail(e, VIGIL_EDATABASE, "%s",
	                      m.errors ? m.text : "YARA compile error");
}

/* Makes a compiler holding every source accepted so far. */
static vigil_error compiler_ready(vigil_engine *e, vg_yara *y)
{
	vigil_error err;

	if (y->compiler)
		return VIGIL_OK;
	if ((err = compiler_new(e, y)) != VIGIL_OK)
		return err;
	for (size_t i = 0; i < y->nsources; i++)
		if ((err = compile_file(e, y, y->sources[i])) != VIGIL_OK)
			return err;
	return VIGIL_OK;
}

vigil_error vg_yara_add_source(vigil_engine *e, vg_yara *y, const char *path)
{
	vigil_error err;
	char *copy;

	if (y->nsources == y->sources_cap) {
		size_t ncap = y->sources_cap ? y->sources_cap * 2 : 64;
		char **nn = realloc(y->sources, ncap * sizeof *nn);
		if (!nn)
			return vg_engine_fail(e, VIGIL_ENOMEM, "out of memory");
		y->sources = nn;
		y->sources_cap = ncap;
	}
	if (!(copy = strdup(path)))
		return vg_engine_fail(e, VIGIL_ENOMEM, "out of memory");
	err = compiler_ready(e, y);
	if (err == VIGIL_OK)
		err = compile_file(e, y, path);
	if (err != VIGIL_OK) {
		free(copy);
		return err;
	}
	y->sources[y->nsources++] = copy;
	return VIGIL_OK;
}

/* ------------------------------------------------------------------ */
/* Compiled rules                                                      */
/* ------------------------------------------------------------------ */

static size_t stream_read(void *ptr, size_t size, size_t count, void *f)
{
	return fread(ptr, size, count, f);
}

vigil_error vg_yara_add_compiled(vigil_engine *e, vg_yara *y,
                                 const char *path)
{
	YR_STREAM stream = { .read = stream_read };
	YR_RULES *rules = NULL;
	FILE *f;
	int rc;

	if (!(f = fopen(path, "re")))
		return vg_engine_fail(e, vg_error_from_errno(errno), "%s: %s", path,
		                      strerror(errno));
	stream.user_data = f;
	rc = yr_rules_load_stream(&stream, &rules);
	fclose(f);
	switch (rc) {
	case ERROR_SUCCESS:
		return add_set(e, y, rules);
	case ERROR_INSUFFICIENT_MEMORY:
		return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory", path);
	case ERROR_UNSUPPORTED_FILE_VERSION:
		return vg_engine_fail(e, VIGIL_EDATABASE,
		                      "%s: compiled by another YARA version "
		                      "(this is libyara %s); recompile with yarac",
		                      path, YR_VERSION);
	default:
		return vg_engine_fail(e, VIGIL_EDATABASE,
		                      "%s: not a compiled YARA rules file "
		                      "(yara error %d)", path, rc);
	}
}

/* ------------------------------------------------------------------ */
/* Freeze, count, free                                                 */
/* ------------------------------------------------------------------ */

vigil_error vg_yara_freeze(vigil_engine *e, vg_yara *y)
{
	vigil_error err;

	if (y->nsources) {
		YR_RULES *rules;
		int rc;
		if ((err = compiler_ready(e, y)) != VIGIL_OK)
			return err;
		rc = yr_compiler_get_rules(y->compiler, &rules);
		yr_compiler_destroy(y->compiler);
		y->compiler = NULL;
		if (rc != ERROR_SUCCESS)
			return vg_engine_fail(e, VIGIL_ENOMEM,
			                      "cannot build YARA rules (yara error %d)",
			                      rc);
		if ((err = add_set(e, y, rules)) != VIGIL_OK)
			return err;
		/* the sources now live in the set; free the file list */
		for (size_t i = 0; i < y->nsources; i++)
			free(y->sources[i]);
		y->nsources = 0;
	}
	/* Rules that may read the name or owner make the cache key on them
	 * (engine/vg.h); a set declaring none of them cannot read them. */
	for (size_t i = 0; i < y->nsets; i++)
		if (y->sets[i].externals)
			e->cache_keys_name = 1;
	return VIGIL_OK;
}

uint64_t vg_yara_count(const vg_yara *y)
{
	uint64_t n = 0;

	if (!y)
		return 0;
	for (size_t i = 0; i < y->nsets; i++)
		n += y->sets[i].rules->num_rules;
	if (y->compiler)
		n += y->compiler->next_rule_idx;
	return n;
}

void vg_yara_free(vg_yara *y)
{
	if (!y)
		return;
	if (y->compiler)
		yr_compiler_destroy(y->compiler);
	for (size_t i = 0; i < y->nsources; i++)
		free(y->sources[i]);
	free(y->sources);
	for (size_t i = 0; i < y->nsets; i++)
		yr_rules_destroy(y->sets[i].rules);
	free(y->sets);
	if (y->lib_ref)
		lib_release();
	free(y);
}
