/*
 * yara_rules.c - loading YARA rules: sources split by rule through three
 * YR_COMPILERs (MZ, not-MZ and rest, yara_gate.h), compiled files through
 * yr_rules_load_stream, and libyara's process-wide set-up shared by
 * every engine.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/allocator.h"
#include "engine/bundle.h"
#include "signatures/yara_externals.h"
#include "signatures/yara_gate.h"
#include "signatures/yara_rules.h"

/* The first size of a compiler's arena buffers (compiler_new). */
#define VG_YARA_ARENA_START ((size_t)256 << 10)

/* Rule files are read whole to classify them; none is near this big. */
#define MAX_SOURCE_BYTES ((size_t)256 << 20)

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

static void shared_release(YR_RULES *rules);

/* Adds a set; on failure the rules are dropped (destroyed if owned, a
 * shared reference released otherwise). dflt is the verdict of its rules
 * that state no severity (vigil_engine_load_as). */
static vigil_error add_set_ref(vigil_engine *e, vg_yara *y, YR_RULES *rules,
                               int gate, vigil_verdict dflt, int owned)
{
	if (y->nsets == y->sets_cap) {
		size_t ncap = y->sets_cap ? y->sets_cap * 2 : 4;
		vg_yara_set *ns = realloc(y->sets, ncap * sizeof *ns);
		if (!ns) {
			if (owned)
				yr_rules_destroy(rules);
			else
				shared_release(rules);
			return vg_engine_fail(e, VIGIL_ENOMEM, "out of memory");
		}
		y->sets = ns;
		y->sets_cap = ncap;
	}
	y->sets[y->nsets++] = (vg_yara_set){
		.rules = rules,
		.externals = declared_externals(rules),
		.gate = gate,
		.dflt = dflt,
		.shared = !owned,
	};
	return VIGIL_OK;
}

static vigil_error add_set(vigil_engine *e, vg_yara *y, YR_RULES *rules,
                           int gate, vigil_verdict dflt)
{
	return add_set_ref(e, y, rules, gate, dflt, 1);
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

static vigil_error compiler_new(vigil_engine *e, vg_yara *y, int kind)
{
	YR_COMPILER *c;

	if (yr_compiler_create(&c) != ERROR_SUCCESS)
		return vg_engine_fail(e, VIGIL_ENOMEM, "cannot create a YARA compiler");
	/* libyara starts each of the arena's dozen buffers at 1 MiB, zeroed
	 * as it grows; most of them (namespaces, externals, metas of a
	 * small set...) hold far less, and vigil has up to three
	 * compilers. Smaller first buffers grow by doubling like the
	 * others (arenas loaded from files start at 10 KiB). */
	if (c->arena)
		c->arena->initial_buffer_size = VG_YARA_ARENA_START;
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
	y->compilers[kind] = c;
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

/* The whole text of a source file, read once: what is classified is
 * what is compiled. */
static vigil_error read_source(vigil_engine *e, const char *path,
                               char **text, size_t *len)
{
	size_t cap = 0, n = 0;
	char *buf = NULL;
	FILE *f;

	if (!(f = fopen(path, "re")))
		return vg_engine_fail(e, vg_error_from_errno(errno), "%s: %s", path,
		                      strerror(errno));
	for (;;) {
		size_t got;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64 * 1024;
			char *nb;
			if (cap >= MAX_SOURCE_BYTES) {
				free(buf);
				fclose(f);
				return vg_engine_fail(e, VIGIL_EDATABASE,
				                      "%s: rule file larger than %zu MiB",
				                      path, MAX_SOURCE_BYTES >> 20);
			}
			if (!(nb = realloc(buf, ncap))) {
				free(buf);
				fclose(f);
				return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory",
				                      path);
			}
			buf = nb;
			cap = ncap;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		int err = errno;
		free(buf);
		fclose(f);
		return vg_engine_fail(e, vg_error_from_errno(err), "%s: %s", path,
		                      strerror(err));
	}
	fclose(f);
	*text = buf;
	*len = n;
	return VIGIL_OK;
}

/* The texts of a source for each compiler (vg_yara_gate_split), and
 * their lengths; a source whose namespace is shared compiles whole
 * into the rest. The not-MZ text is as split: pe is rewritten out at
 * freeze (not_mz_build). */
static vigil_error texts_of(vigil_engine *e, const vg_yara_source *src,
                            char *text, size_t len,
                            char *texts[VG_YARA_NKINDS],
                            size_t lens[VG_YARA_NKINDS])
{
	for (int k = 0; k < VG_YARA_NKINDS; k++)
		lens[k] = len;
	if (src->whole) {
		for (int k = 0; k < VG_YARA_NKINDS; k++)
			texts[k] = NULL;
		if (!(texts[VG_YARA_REST] = strndup(text, len)) && len)
			return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory",
			                      src->path);
		if (!texts[VG_YARA_REST] && !(texts[VG_YARA_REST] = strdup("")))
			return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory",
			                      src->path);
		return VIGIL_OK;
	}
	if (vg_yara_gate_split(text, len, texts) < 0)
		return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory",
		                      src->path);
	return VIGIL_OK;
}

static unsigned kinds_of(char *const texts[VG_YARA_NKINDS])
{
	unsigned kinds = 0;

	for (int k = 0; k < VG_YARA_NKINDS; k++)
		if (texts[k])
			kinds |= 1u << k;
	return kinds;
}

static void free_texts(char *texts[VG_YARA_NKINDS])
{
	for (int k = 0; k < VG_YARA_NKINDS; k++) {
		free(texts[k]);
		texts[k] = NULL;
	}
}

/* Compiles text (len bytes, as long as the file) of src into the
 * compiler of a kind. */
static vigil_error compile_text(vigil_engine *e, vg_yara *y,
                                vg_yara_source *src, int kind, char *text,
                                size_t len)
{
	YR_COMPILER *c = y->compilers[kind];
	compile_msg m = { .errors = 0 };
	uint32_t first = c->next_rule_idx;
	int nerr;

	yr_compiler_set_callback(c, on_compile_msg, &m);
	if (len == 0) {
		nerr = yr_compiler_add_string(c, "", src->ns);
	} else {
		/* a stream over the text keeps the path in error messages */
		FILE *f = fmemopen(text, len, "r");
		if (!f) {
			yr_compiler_set_callback(c, ignore_compile_msg, NULL);
			return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory",
			                      src->path);
		}
		nerr = yr_compiler_add_file(c, f, src->ns, src->path);
		fclose(f);
	}
	yr_compiler_set_callback(c, ignore_compile_msg, NULL);
	if (nerr == 0) {
		/* rules are numbered in compile order: the file's severity
		 * default applies to this range (freeze_kind) */
		src->first_rule[kind] = first;
		src->nrules[kind] = c->next_rule_idx - first;
		return VIGIL_OK;
	}
	/* After an error the compiler cannot take more rules: drop it and
	 * let the next source rebuild it from the files that compiled. */
	nerr = c->last_error;
	yr_compiler_destroy(c);
	y->compilers[kind] = NULL;
	if (nerr == ERROR_INSUFFICIENT_MEMORY)
		return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory",
		                      src->path);
	return vg_engine_fail(e, VIGIL_EDATABASE, "%s",
	                      m.errors ? m.text : "YARA compile error");
}

/* Compiles the part of a source accepted before that goes to a kind,
 * when that compiler is rebuilt. The file must still split the same. */
static vigil_error recompile(vigil_engine *e, vg_yara *y,
                             vg_yara_source *src, int kind)
{
	char *texts[VG_YARA_NKINDS];
	size_t lens[VG_YARA_NKINDS];
	vigil_error err;
	char *text;
	size_t len;

	if ((err = read_source(e, src->path, &text, &len)) != VIGIL_OK)
		return err;
	err = texts_of(e, src, text, len, texts, lens);
	free(text);
	if (err != VIGIL_OK)
		return err;
	if (kinds_of(texts) != src->split)
		err = vg_engine_fail(e, VIGIL_EDATABASE,
		                     "%s: changed while the rules were loading",
		                     src->path);
	else
		err = compile_text(e, y, src, kind, texts[kind], lens[kind]);
	free_texts(texts);
	return err;
}

/*
 * The not-MZ compiler, at freeze, from the kept texts: each with pe
 * rewritten out (vg_yara_gate_unpe) when that applies and compiles. A
 * rewrite of the wrong type fails to compile and leaves the compiler
 * unusable: that source then keeps its text as written and the
 * compiler is built again. No trial compiler per rewrite: only a
 * failure pays (none in signature-base's DEFAULT-SET).
 */
static vigil_error not_mz_build(vigil_engine *e, vg_yara *y)
{
	vigil_error err;

again:
	if ((err = compiler_new(e, y, VG_YARA_NOT_MZ)) != VIGIL_OK)
		return err;
	for (size_t i = 0; i < y->nsources; i++) {
		vg_yara_source *src = &y->sources[i];
		char *out = NULL;
		size_t outlen = 0;
		int rc = 0;

		if (!(src->kinds & (1u << VG_YARA_NOT_MZ)) || !src->not_mz)
			continue;
		if (!src->keep_pe) {
			rc = vg_yara_gate_unpe(src->not_mz, src->not_mz_len, &out,
			                       &outlen);
			if (rc < 0)
				return vg_engine_fail(e, VIGIL_ENOMEM,
				                      "%s: out of memory", src->path);
			if (rc > 0 && memchr(out, '\0', outlen)) {
				free(out);
				out = NULL;
				rc = 0;
			}
			if (rc == 0)
				src->keep_pe = 1; /* nothing to rewrite */
		}
		err = compile_text(e, y, src, VG_YARA_NOT_MZ,
		                   rc > 0 ? out : src->not_mz,
		                   rc > 0 ? outlen : src->not_mz_len);
		free(out);
		if (err == VIGIL_OK)
			continue;
		if (rc > 0 && err == VIGIL_EDATABASE) {
			/* the rewrite, not the rules (they compiled into the MZ
			 * set as written): keep pe for this source */
			src->keep_pe = 1;
			e->errmsg[0] = '\0';
			goto again;
		}
		return err;
	}
	return VIGIL_OK;
}

/* Makes the compiler of a kind, holding every source of that kind
 * accepted so far. */
static vigil_error compiler_ready(vigil_engine *e, vg_yara *y, int kind)
{
	vigil_error err;

	if (y->compilers[kind])
		return VIGIL_OK;
	if (kind == VG_YARA_NOT_MZ)
		return not_mz_build(e, y);
	if ((err = compiler_new(e, y, kind)) != VIGIL_OK)
		return err;
	for (size_t i = 0; i < y->nsources; i++) {
		if (!(y->sources[i].kinds & (1u << kind)))
			continue;
		if ((err = recompile(e, y, &y->sources[i], kind)) != VIGIL_OK)
			return err;
	}
	return VIGIL_OK;
}

/*
 * Files sharing a namespace (same base name) share private and global
 * rules, so they must share a compiler: such files are not split and
 * all go whole to the rest (the files of that namespace accepted
 * before too, whose compilers are then rebuilt). 1 when src is one.
 */
static int settle_namespace(vg_yara *y, const char *ns)
{
	int shared = 0, moved = 0;

	for (size_t i = 0; i < y->nsources; i++) {
		vg_yara_source *o = &y->sources[i];
		if (strcmp(o->ns, ns) != 0)
			continue;
		shared = 1;
		if (!o->whole) {
			/* none of its kinds is a set yet: sets are made at
			 * freeze, after which nothing loads */
			o->whole = 1;
			o->kinds = o->split = 1u << VG_YARA_REST;
			free(o->not_mz);
			o->not_mz = NULL;
			moved = 1;
		}
	}
	if (moved) {
		for (int k = 0; k < VG_YARA_NKINDS; k++) {
			if (y->compilers[k])
				yr_compiler_destroy(y->compilers[k]);
			y->compilers[k] = NULL;
		}
	}
	return shared;
}

vigil_error vg_yara_add_source(vigil_engine *e, vg_yara *y, const char *path)
{
	vg_yara_source src = { .dflt = e->load_verdict };
	char *texts[VG_YARA_NKINDS] = { NULL };
	size_t lens[VG_YARA_NKINDS];
	vigil_error err;
	char *text = NULL;
	size_t len;

	if (y->nsources == y->sources_cap) {
		size_t ncap = y->sources_cap ? y->sources_cap * 2 : 64;
		vg_yara_source *nn = realloc(y->sources, ncap * sizeof *nn);
		if (!nn)
			return vg_engine_fail(e, VIGIL_ENOMEM, "out of memory");
		y->sources = nn;
		y->sources_cap = ncap;
	}
	if ((err = read_source(e, path, &text, &len)) != VIGIL_OK)
		return err;
	src.path = strdup(path);
	src.ns = namespace_of(path);
	if (!src.path || !src.ns) {
		err = vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	src.whole = settle_namespace(y, src.ns);
	if ((err = texts_of(e, &src, text, len, texts, lens)) != VIGIL_OK)
		goto out;
	src.kinds = src.split = kinds_of(texts);
	for (int k = 0; k < VG_YARA_NKINDS && err == VIGIL_OK; k++) {
		/* the not-MZ text waits for freeze: its rules are in the MZ
		 * text too, which compiles now */
		if (!texts[k] || k == VG_YARA_NOT_MZ)
			continue;
		err = compiler_ready(e, y, k);
		if (err == VIGIL_OK)
			err = compile_text(e, y, &src, k, texts[k], lens[k]);
	}
	if (err != VIGIL_OK) {
		/* parts compiled into other compilers must go: rebuilt
		 * without this file when next needed */
		for (int k = 0; k < VG_YARA_NKINDS; k++) {
			if (!texts[k] || !y->compilers[k])
				continue;
			yr_compiler_destroy(y->compilers[k]);
			y->compilers[k] = NULL;
		}
		goto out;
	}
	src.not_mz = texts[VG_YARA_NOT_MZ];
	src.not_mz_len = lens[VG_YARA_NOT_MZ];
	texts[VG_YARA_NOT_MZ] = NULL;
	y->sources[y->nsources++] = src;
	src.path = src.ns = NULL;
out:
	free_texts(texts);
	free(text);
	free(src.path);
	free(src.ns);
	return err;
}

/* ------------------------------------------------------------------ */
/* Compiled rules                                                      */
/* ------------------------------------------------------------------ */

static size_t stream_read(void *ptr, size_t size, size_t count, void *f)
{
	return fread(ptr, size, count, f);
}

/* Loads compiled rules from a stream as a set; what names the source
 * in messages. */
static vigil_error load_stream(vigil_engine *e, vg_yara *y, YR_STREAM *stream,
                               const char *what, int gate)
{
	YR_RULES *rules = NULL;
	int rc = yr_rules_load_stream(stream, &rules);

	switch (rc) {
	case ERROR_SUCCESS:
		return add_set(e, y, rules, gate, e->load_verdict);
	case ERROR_INSUFFICIENT_MEMORY:
		return vg_engine_fail(e, VIGIL_ENOMEM, "%s: out of memory", what);
	case ERROR_UNSUPPORTED_FILE_VERSION:
		return vg_engine_fail(e, VIGIL_EDATABASE,
		                      "%s: compiled by another YARA version "
		                      "(this is libyara %s); recompile with yarac",
		                      what, YR_VERSION);
	default:
		return vg_engine_fail(e, VIGIL_EDATABASE,
		                      "%s: not a compiled YARA rules file "
		                      "(yara error %d)", what, rc);
	}
}

vigil_error vg_yara_add_compiled(vigil_engine *e, vg_yara *y,
                                 const char *path)
{
	YR_STREAM stream = { .read = stream_read };
	vigil_error err;
	FILE *f;

	if (!(f = fopen(path, "re")))
		return vg_engine_fail(e, vg_error_from_errno(errno), "%s: %s", path,
		                      strerror(errno));
	stream.user_data = f;
	err = load_stream(e, y, &stream, path, 0);
	fclose(f);
	return err;
}

/* Bytes in memory read as a stream. */
typedef struct mem_stream {
	const uint8_t *data;
	size_t size, pos;
} mem_stream;

static size_t mem_read(void *ptr, size_t size, size_t count, void *ud)
{
	mem_stream *m = ud;
	size_t left = m->size - m->pos, n;

	if (size == 0 || count == 0)
		return 0;
	n = left / size < count ? left / size : count;
	memcpy(ptr, m->data + m->pos, n * size);
	m->pos += n * size;
	return n;
}

/*
 * Compiled rule sets loaded from bundles, shared by digest between the
 * engines of the process, freed with their last engine.
 */
typedef struct shared_rules {
	uint8_t digest[32];
	YR_RULES *rules;
	unsigned refs;
	struct shared_rules *next;
} shared_rules;

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static shared_rules *shared_list;

/* Takes a reference on the rules of a digest, or NULL. */
static YR_RULES *shared_get(const uint8_t digest[32])
{
	YR_RULES *r = NULL;

	pthread_mutex_lock(&shared_lock);
	for (shared_rules *s = shared_list; s; s = s->next)
		if (!memcmp(s->digest, digest, 32)) {
			s->refs++;
			r = s->rules;
			break;
		}
	pthread_mutex_unlock(&shared_lock);
	return r;
}

/* Adds rules just loaded with one reference; -1 on ENOMEM. */
static int shared_put(const uint8_t digest[32], YR_RULES *rules)
{
	shared_rules *s = calloc(1, sizeof *s);

	if (!s)
		return -1;
	memcpy(s->digest, digest, 32);
	s->rules = rules;
	s->refs = 1;
	pthread_mutex_lock(&shared_lock);
	s->next = shared_list;
	shared_list = s;
	pthread_mutex_unlock(&shared_lock);
	return 0;
}

/* Drops a reference; the last one destroys the rules. */
static void shared_release(YR_RULES *rules)
{
	shared_rules **pp, *s = NULL;

	pthread_mutex_lock(&shared_lock);
	for (pp = &shared_list; *pp; pp = &(*pp)->next)
		if ((*pp)->rules == rules) {
			s = *pp;
			if (--s->refs == 0)
				*pp = s->next;
			else
				s = NULL;
			break;
		}
	pthread_mutex_unlock(&shared_lock);
	if (s) {
		yr_rules_destroy(s->rules);
		free(s);
	}
}

vigil_error vg_yara_add_image(vigil_engine *e, vg_yara *y,
                              const uint8_t *data, size_t size,
                              const char *what, int gate,
                              const uint8_t digest[32])
{
	mem_stream m = { data, size, 0 };
	YR_STREAM stream = { .user_data = &m, .read = mem_read };
	YR_RULES *rules = shared_get(digest);
	vigil_error err;

	if (!rules) {
		if ((err = load_stream(e, y, &stream, what, gate)) != VIGIL_OK)
			return err;
		/* load_stream added the set last: hand its rules to the cache */
		rules = y->sets[y->nsets - 1].rules;
		if (shared_put(digest, rules) == 0)
			y->sets[y->nsets - 1].shared = 1;
		return VIGIL_OK;
	}
	return add_set_ref(e, y, rules, gate, e->load_verdict, 0);
}

/* Writes into a bundle part. */
static size_t part_write(const void *ptr, size_t size, size_t count, void *w)
{
	if (vg_bundle_part_write(w, ptr, size * count) != VIGIL_OK)
		return 0;
	return count;
}

vigil_error vg_yara_save(const vg_yara *y, vg_bundle_writer *w)
{
	YR_STREAM stream = { .user_data = w, .write = part_write };
	vigil_error err;
	char name[48];

	if (!y)
		return VIGIL_OK;
	for (size_t i = 0; i < y->nsets; i++) {
		const vg_yara_set *set = &y->sets[i];
		snprintf(name, sizeof name, "rules-%zu%s", i + 1,
		         set->gate == VG_GATE_MZ ? "-mz"
		         : set->gate == VG_GATE_NOT_MZ ? "-not-mz" : "");
		if ((err = vg_bundle_part_begin(w, VG_PART_YARA,
		                                set->gate == VG_GATE_MZ
		                                ? VG_PART_MZ_ONLY
		                                : set->gate == VG_GATE_NOT_MZ
		                                ? VG_PART_NOT_MZ : 0,
		                                name)))
			return err;
		if (yr_rules_save_stream(set->rules, &stream) != ERROR_SUCCESS)
			return VIGIL_EIO;
		if ((err = vg_bundle_part_end(w, set->rules->num_rules)))
			return err;
	}
	return VIGIL_OK;
}

/* ------------------------------------------------------------------ */
/* Freeze, count, free                                                 */
/* ------------------------------------------------------------------ */

/* Reads the severity of every rule of set (yara_severity.h); dflts
 * holds each rule's file default, or is NULL for the set's own. */
static vigil_error severity_table(vigil_engine *e, vg_yara_set *set,
                                  const uint8_t *dflts)
{
	double tmal = vigil_engine_get_threshold(e, VIGIL_THRESHOLD_YARA_MALICIOUS);
	double tsus = vigil_engine_get_threshold(e, VIGIL_THRESHOLD_YARA_SUSPICIOUS);
	uint32_t n = set->rules->num_rules;

	if (!(set->sev = calloc(n ? n : 1, sizeof *set->sev)))
		return vg_engine_fail(e, VIGIL_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n; i++)
		vg_yara_severity(&set->rules->rules_table[i],
		                 dflts ? (vigil_verdict)dflts[i] : set->dflt,
		                 tmal, tsus, &set->sev[i]);
	return VIGIL_OK;
}

/* Each rule's file default, for the sources of a kind compiled into
 * nrules rules; NULL on ENOMEM. */
static uint8_t *source_defaults(const vg_yara *y, int kind, uint32_t nrules)
{
	uint8_t *d = malloc(nrules ? nrules : 1);

	if (!d)
		return NULL;
	memset(d, VIGIL_MALICIOUS, nrules);
	for (size_t i = 0; i < y->nsources; i++) {
		const vg_yara_source *src = &y->sources[i];
		if (!(src->kinds & (1u << kind)))
			continue;
		for (uint32_t r = src->first_rule[kind];
		     r < src->first_rule[kind] + src->nrules[kind] && r < nrules;
		     r++)
			d[r] = (uint8_t)src->dflt;
	}
	return d;
}

/*
 * Rules as yr_compiler_get_rules makes them keep the compiler's arena:
 * a dozen buffers of at least 1 MiB each, grown by doubling and zeroed
 * as they grow, most of it past what they hold (a set of a few rules
 * holds about 12 MiB). Nothing reads or writes a buffer past its used
 * bytes once the rules are built (scanning only reads them), so those
 * pages go back to the system: they read as zeroes if ever touched
 * again, which is what most of them hold. No copy, no relocation: the
 * pages are dropped where they are.
 */
static void drop_arena_slack(YR_RULES *rules)
{
	long page = sysconf(_SC_PAGESIZE);
	YR_ARENA *a = rules->arena;

	if (page <= 0 || !a)
		return;
	for (uint32_t i = 0; i < a->num_buffers && i < YR_MAX_ARENA_BUFFERS; i++) {
		const YR_ARENA_BUFFER *b = &a->buffers[i];
		uintptr_t from, to;

		if (!b->data || b->size <= b->used)
			continue;
		from = ((uintptr_t)b->data + b->used + (uintptr_t)page - 1) &
		       ~((uintptr_t)page - 1);
		to = ((uintptr_t)b->data + b->size) & ~((uintptr_t)page - 1);
		if (to > from)
			(void)madvise((void *)from, to - from, MADV_DONTNEED);
	}
}

/* Turns the sources of a kind, if any, into a set. */
static vigil_error freeze_kind(vigil_engine *e, vg_yara *y, int kind)
{
	vigil_error err;
	YR_RULES *rules;
	uint8_t *dflts;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < y->nsources; i++)
		n += (y->sources[i].kinds & (1u << kind)) != 0;
	if (n == 0)
		return VIGIL_OK;
	if ((err = compiler_ready(e, y, kind)) != VIGIL_OK)
		return err;
	rc = yr_compiler_get_rules(y->compilers[kind], &rules);
	yr_compiler_destroy(y->compilers[kind]);
	y->compilers[kind] = NULL;
	if (rc != ERROR_SUCCESS)
		return vg_engine_fail(e, VIGIL_ENOMEM,
		                      "cannot build YARA rules (yara error %d)", rc);
	drop_arena_slack(rules);
	if ((err = add_set(e, y, rules,
	                   kind == VG_YARA_MZ ? VG_GATE_MZ
	                   : kind == VG_YARA_NOT_MZ ? VG_GATE_NOT_MZ : 0,
	                   VIGIL_MALICIOUS))
	    != VIGIL_OK)
		return err;
	if (!(dflts = source_defaults(y, kind, rules->num_rules)))
		return vg_engine_fail(e, VIGIL_ENOMEM, "out of memory");
	err = severity_table(e, &y->sets[y->nsets - 1], dflts);
	free(dflts);
	if (err != VIGIL_OK)
		return err;
	for (size_t i = 0; i < y->nsources; i++) {
		y->sources[i].kinds &= ~(1u << kind); /* in a set now */
		if (kind == VG_YARA_NOT_MZ) {
			free(y->sources[i].not_mz);
			y->sources[i].not_mz = NULL;
		}
	}
	return VIGIL_OK;
}

static void free_sources(vg_yara *y)
{
	for (size_t i = 0; i < y->nsources; i++) {
		free(y->sources[i].path);
		free(y->sources[i].ns);
		free(y->sources[i].not_mz);
	}
	y->nsources = 0;
}

vigil_error vg_yara_freeze(vigil_engine *e, vg_yara *y)
{
	vigil_error err;

	/* compiled files' sets, as loaded */
	for (size_t i = 0; i < y->nsets; i++)
		if (!y->sets[i].sev &&
		    (err = severity_table(e, &y->sets[i], NULL)) != VIGIL_OK)
			return err;
	/* the MZ set first (the largest), each compiler's freed memory
	 * handed back before the next set is built; the not-MZ compiler,
	 * which does not exist before, last, when the other two compilers
	 * are gone */
	static const int order[VG_YARA_NKINDS] = { VG_YARA_MZ, VG_YARA_REST,
	                                           VG_YARA_NOT_MZ };
	for (int k = 0; k < VG_YARA_NKINDS; k++) {
		if ((err = freeze_kind(e, y, order[k])) != VIGIL_OK)
			return err;
		vg_heap_trim();
	}
	/* the sources now live in the sets */
	free_sources(y);
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
	/* a not-MZ set's rules are all in an MZ set too */
	for (size_t i = 0; i < y->nsets; i++)
		if (y->sets[i].gate != VG_GATE_NOT_MZ)
			n += y->sets[i].rules->num_rules;
	for (int k = 0; k < VG_YARA_NKINDS; k++)
		if (y->compilers[k] && k != VG_YARA_NOT_MZ)
			n += y->compilers[k]->next_rule_idx;
	return n;
}

void vg_yara_free(vg_yara *y)
{
	if (!y)
		return;
	for (int k = 0; k < VG_YARA_NKINDS; k++)
		if (y->compilers[k])
			yr_compiler_destroy(y->compilers[k]);
	free_sources(y);
	free(y->sources);
	for (size_t i = 0; i < y->nsets; i++) {
		if (y->sets[i].shared)
			shared_release(y->sets[i].rules);
		else
			yr_rules_destroy(y->sets[i].rules);
		free(y->sets[i].sev);
	}
	free(y->sets);
	if (y->lib_ref)
		lib_release();
	free(y);
}
