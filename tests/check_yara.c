/*
 * check_yara.c - the YARA stage: matches, namespaces, findings, the
 * external variables (and the verdict cache that must respect them),
 * compile errors, time limits, compiled rules, stopping, threads, and
 * the split of rule files into MZ-gated ones and the rest.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yara.h>

#include "vigil/vigil.h"
#include "engine/vg.h"
#include "signatures/yara_externals.h"
#include "signatures/yara_gate.h"
#include "signatures/yara_rules.h"

static char tmpdir[256];

static void setup(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/check_yara.XXXXXX", t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Writes text to tmpdir/name; returns the path (static, one at a time). */
static const char *write_file(const char *name, const void *data, size_t n)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	ck_assert_uint_eq(fwrite(data, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static const char *write_text(const char *name, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return write_file(name, buf, strlen(buf));
}

/* An engine with the built-ins off and the named rule files loaded. */
static vigil_engine *engine_with(const char *const *paths)
{
	vigil_engine *e = NULL;
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_option(e, VIGIL_OPT_NO_DEFAULT_SIGNATURES, 1), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_option(e, VIGIL_OPT_NO_ML, 1), VIGIL_OK);
	for (; *paths; paths++) {
		vigil_error err = vigil_engine_load(e, *paths);
		ck_assert_msg(err == VIGIL_OK, "load %s: %s", *paths,
		              vigil_engine_last_error(e));
	}
	return e;
}

static vigil_engine *frozen_with_rule(const char *file, const char *rule)
{
	char path[512];
	snprintf(path, sizeof path, "%s", write_text(file, "%s", rule));
	const char *paths[] = { path, NULL };
	vigil_engine *e = engine_with(paths);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	return e;
}

/* The first finding named name, or NULL. */
static const vigil_finding *find(const vigil_result *r, const char *name)
{
	for (size_t i = 0; i < vigil_result_finding_count(r); i++)
		if (strcmp(vigil_finding_name(vigil_result_finding(r, i)), name) == 0)
			return vigil_result_finding(r, i);
	return NULL;
}

static vigil_result *scan_mem(vigil_scanner *s, const char *data,
                              const char *name)
{
	vigil_result *r = NULL;
	ck_assert_int_eq(vigil_scan_mem(s, data, strlen(data), name, &r), VIGIL_OK);
	return r;
}

START_TEST(test_match_and_detail)
{
	vigil_engine *e = frozen_with_rule("basic.yar",
		"rule Hello : tag1 tag2 {\n"
		"  meta: author = \"me\" description = \"Detects hello\"\n"
		"  strings: $a = \"hello world\"\n"
		"  condition: $a\n}\n"
		"rule NoMeta { strings: $a = \"hello world\" condition: $a }\n");
	vigil_scanner *s = NULL;
	vigil_result *r;
	const vigil_finding *f;

	ck_assert_uint_eq(vigil_engine_signature_count(e), 2);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	r = scan_mem(s, "xx hello world xx", "a.bin");
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_MALICIOUS);
	ck_assert_ptr_nonnull(f = find(r, "basic:Hello"));
	ck_assert_str_eq(vigil_finding_stage(f), "yara");
	ck_assert_str_eq(vigil_finding_detail(f), "Detects hello [tags: tag1 tag2]");
	ck_assert_str_eq(vigil_finding_layer(f), "");
	ck_assert(vigil_finding_score(f) == 1.0);
	ck_assert_int_eq(vigil_finding_verdict(f), VIGIL_MALICIOUS);
	ck_assert_ptr_nonnull(f = find(r, "basic:NoMeta"));
	ck_assert_str_eq(vigil_finding_detail(f), "");
	vigil_result_free(r);

	r = scan_mem(s, "hello there, world", "a.bin");
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_CLEAN);
	ck_assert_uint_eq(vigil_result_finding_count(r), 0);
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_namespaces)
{
	char a[512], b[512];
	snprintf(a, sizeof a, "%s", write_text("first.yar",
		"rule Same { strings: $a = \"needle\" condition: $a }\n"));
	snprintf(b, sizeof b, "%s", write_text("second.yara",
		"rule Same { strings: $a = \"needle\" condition: $a }\n"));
	const char *paths[] = { a, b, NULL };
	vigil_engine *e = engine_with(paths);
	vigil_scanner *s = NULL;
	vigil_result *r;

	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	r = scan_mem(s, "a needle here", NULL);
	ck_assert_uint_eq(vigil_result_finding_count(r), 2);
	ck_assert_ptr_nonnull(find(r, "first:Same"));
	ck_assert_ptr_nonnull(find(r, "second:Same"));
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_externals_mem)
{
	vigil_engine *e = frozen_with_rule("ext.yar",
		"rule ByName { condition: filename == \"x.txt\" }\n"
		"rule ByPath { condition: filepath == \"dir/x.txt\" }\n"
		"rule ByExt { condition: extension == \".exe\" }\n"
		"rule ByType { condition: filetype == \"EXE\" }\n"
		"rule Unknown { condition: filetype == \"UNKNOWN\" and filesize == 3 }\n");
	vigil_scanner *s = NULL;
	vigil_result *r;
	unsigned char pe[0x100] = { 'M', 'Z' };

	ck_assert_int_eq(e->cache_keys_name, 1);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	r = scan_mem(s, "abc", "dir/x.txt");
	ck_assert_ptr_nonnull(find(r, "ext:ByName"));
	ck_assert_ptr_nonnull(find(r, "ext:ByPath"));
	ck_assert_ptr_null(find(r, "ext:ByExt"));
	vigil_result_free(r);

	/* same bytes, another name: the cache must not answer for x.txt */
	r = scan_mem(s, "abc", "dir/y.txt");
	ck_assert_ptr_null(find(r, "ext:ByName"));
	ck_assert_ptr_null(find(r, "ext:ByPath"));
	ck_assert_ptr_nonnull(find(r, "ext:Unknown"));
	vigil_result_free(r);

	r = scan_mem(s, "abc", "SETUP.EXE");
	ck_assert_ptr_nonnull(find(r, "ext:ByExt"));
	ck_assert_ptr_null(find(r, "ext:ByType"));
	vigil_result_free(r);

	/* a minimal PE header: MZ, e_lfanew -> "PE\0\0" */
	pe[0x3c] = 0x80;
	memcpy(pe + 0x80, "PE\0\0", 4);
	ck_assert_int_eq(vigil_scan_mem(s, pe, sizeof pe, "p.dll", &r), VIGIL_OK);
	ck_assert_ptr_nonnull(find(r, "ext:ByType"));
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

/* Through vigil_scan_path: x.txt and y.txt hold the same bytes, so only
 * a cache keyed on the name keeps y.txt from x.txt's verdict. */
START_TEST(test_externals_path_and_cache)
{
	struct passwd *pw = getpwuid(getuid());
	char rule[512], x[512], y[512];
	vigil_engine *e;
	vigil_scanner *s = NULL;
	vigil_result *r;

	ck_assert_ptr_nonnull(pw);
	snprintf(rule, sizeof rule,
	         "rule X { condition: filename == \"x.txt\" }\n"
	         "rule Owner { condition: owner == \"%s\" and filename == \"y.txt\" }\n",
	         pw->pw_name);
	e = frozen_with_rule("path.yar", rule);
	snprintf(x, sizeof x, "%s", write_text("x.txt", "same bytes"));
	snprintf(y, sizeof y, "%s", write_text("y.txt", "same bytes"));
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	for (int pass = 0; pass < 2; pass++) {
		ck_assert_int_eq(vigil_scan_path(s, x, &r), VIGIL_OK);
		ck_assert_int_eq(vigil_result_verdict(r), VIGIL_MALICIOUS);
		ck_assert_ptr_nonnull(find(r, "path:X"));
		ck_assert_int_eq(vigil_result_cached(r), pass == 1);
		vigil_result_free(r);
		ck_assert_int_eq(vigil_scan_path(s, y, &r), VIGIL_OK);
		ck_assert_ptr_null(find(r, "path:X"));
		ck_assert_ptr_nonnull(find(r, "path:Owner"));
		vigil_result_free(r);
	}
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

/* Archive members take filename/filepath/extension from the member. */
START_TEST(test_externals_member)
{
	vigil_engine *e = frozen_with_rule("member.yar",
		"rule M { condition: filename == \"m.EXE\" and extension == \".exe\""
		" and filepath == \"a.zip!d/m.EXE\" and owner == \"alice\" }\n");
	vigil_scanner *s = NULL;
	vg_ctx ctx = { 0 };
	const vg_stage *st = vg_stages[VG_STAGE_yara];
	vg_layer top = { .name = "a.zip", .path = "a.zip", .layer_path = "" };
	vg_layer m = {
		.data = (const uint8_t *)"xyz", .size = 3, .type = VG_FT_TEXT,
		.name = "m.EXE", .path = "a.zip!d/m.EXE", .layer_path = "d/m.EXE",
		.depth = 1, .fd = -1, .parent = &top, .owner = "alice",
	};

	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	ctx.scanner = s;
	ctx.engine = e;
	ck_assert_ptr_nonnull(ctx.result = vg_result_new());
	ck_assert_int_eq(st->scan(&ctx, &m, s->stage_state[VG_STAGE_yara]), VIGIL_OK);
	ck_assert_uint_eq(ctx.result->nfindings, 1);
	ck_assert_str_eq(ctx.result->findings[0].name, "member:M");
	ck_assert_str_eq(ctx.result->findings[0].layer, "d/m.EXE");
	m.name = "m.txt";
	ck_assert_int_eq(st->scan(&ctx, &m, s->stage_state[VG_STAGE_yara]), VIGIL_OK);
	ck_assert_uint_eq(ctx.result->nfindings, 1);
	vigil_result_free(ctx.result);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_extension_and_filetype)
{
	char buf[32];
	ck_assert_uint_eq(vg_yx_extension("SETUP.EXE", buf, sizeof buf), 4);
	ck_assert_str_eq(buf, ".exe");
	vg_yx_extension("a.tar.GZ", buf, sizeof buf);
	ck_assert_str_eq(buf, ".gz");
	vg_yx_extension("Makefile", buf, sizeof buf);
	ck_assert_str_eq(buf, "");
	vg_yx_extension(".bashrc", buf, sizeof buf);
	ck_assert_str_eq(buf, "");
	vg_yx_extension("..x.Js", buf, sizeof buf);
	ck_assert_str_eq(buf, ".js");
	vg_yx_extension("a.", buf, sizeof buf);
	ck_assert_str_eq(buf, ".");
	ck_assert_uint_eq(vg_yx_extension("a.long", buf, 3), (size_t)-1);
	ck_assert_str_eq(vg_yx_filetype(VG_FT_PE), "EXE");
	ck_assert_str_eq(vg_yx_filetype(VG_FT_ELF), "ELF");
	ck_assert_str_eq(vg_yx_filetype(VG_FT_MACHO), "MACH-O");
	ck_assert_str_eq(vg_yx_filetype(VG_FT_RTF), "RTF");
	ck_assert_str_eq(vg_yx_filetype(VG_FT_UNKNOWN), "UNKNOWN");
	ck_assert_str_eq(vg_yx_filetype(VG_FT_XZ), "XZ");
}
END_TEST

START_TEST(test_compile_error)
{
	char bad[512], good[512];
	snprintf(bad, sizeof bad, "%s", write_text("bad.yar",
		"rule Ok { condition: true }\n\n"
		"rule Broken { condition: $missing }\n"));
	snprintf(good, sizeof good, "%s", write_text("good.yar",
		"rule Good { strings: $a = \"good\" condition: $a }\n"));
	const char *first[] = { good, NULL };
	vigil_engine *e = engine_with(first);
	vigil_scanner *s = NULL;
	vigil_result *r;
	char want[600];

	ck_assert_int_eq(vigil_engine_load(e, bad), VIGIL_EDATABASE);
	snprintf(want, sizeof want, "%s:3: ", bad);
	ck_assert_msg(strstr(vigil_engine_last_error(e), want),
	              "error '%s' lacks '%s'", vigil_engine_last_error(e), want);
	ck_assert_ptr_nonnull(strstr(vigil_engine_last_error(e), "$missing"));
	/* the engine keeps what compiled before and takes more after */
	snprintf(good, sizeof good, "%s", write_text("more.yar",
		"rule More { strings: $a = \"more\" condition: $a }\n"));
	ck_assert_int_eq(vigil_engine_load(e, good), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	r = scan_mem(s, "good and more", NULL);
	ck_assert_ptr_nonnull(find(r, "good:Good"));
	ck_assert_ptr_nonnull(find(r, "more:More"));
	ck_assert_ptr_null(find(r, "bad:Ok"));
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);

	/* a syntax error names its line too */
	snprintf(bad, sizeof bad, "%s", write_text("syntax.yar",
		"rule A {\n condition:\n  true and and\n}\n"));
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_load(e, bad), VIGIL_EDATABASE);
	snprintf(want, sizeof want, "%s:3: ", bad);
	ck_assert_ptr_nonnull(strstr(vigil_engine_last_error(e), want));
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	vigil_engine_free(e);
}
END_TEST

/* The verdict and reason of finding name in r. */
static void want_finding(const vigil_result *r, const char *name,
                         vigil_verdict v, double score, const char *reason)
{
	const vigil_finding *f = find(r, name);

	ck_assert_msg(f != NULL, "no finding %s", name);
	ck_assert_msg(vigil_finding_verdict(f) == v, "%s: verdict %s", name,
	              vigil_verdict_name(vigil_finding_verdict(f)));
	ck_assert_double_eq_tol(vigil_finding_score(f), score, 1e-9);
	ck_assert_str_eq(vigil_finding_reason(f), reason);
}

START_TEST(test_severity)
{
	char info[512], gated[512], plain[512];
	vigil_engine *e;
	vigil_scanner *s = NULL;
	vigil_result *r;

	snprintf(plain, sizeof plain, "%s", write_text("plain.yar",
		"rule P { strings: $a = \"sev\" condition: $a }\n"
		"rule S20 { meta: score = 20 strings: $a = \"sev\" condition: $a }\n"
		"rule S85 { meta: score = 85 strings: $a = \"sev\" condition: $a }\n"
		"rule Hunt : Hunting packer { strings: $a = \"sev\" condition: $a }\n"
		"rule W { meta: severity = \"Critical\" strings: $a = \"sev\" "
		"condition: $a }\n"
		"rule N { meta: severity = 65 score = \"x\" strings: $a = \"sev\" "
		"condition: $a }\n"));
	/* informational files before and between, one of them MZ-gated:
	 * each rule keeps its own file's default */
	snprintf(info, sizeof info, "%s", write_text("info.yar",
		"rule I { strings: $a = \"sev\" condition: $a }\n"
		"rule I80 { meta: score = 80 strings: $a = \"sev\" condition: $a }\n"));
	snprintf(gated, sizeof gated, "%s", write_text("gated.yar",
		"rule G { strings: $a = \"sev\" condition: uint16(0) == 0x5a4d "
		"and $a }\n"));
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_option(e, VIGIL_OPT_NO_DEFAULT_SIGNATURES, 1), VIGIL_OK);
	ck_assert_double_eq(vigil_engine_get_threshold(e, VIGIL_THRESHOLD_YARA_MALICIOUS), 0.80);
	ck_assert_double_eq(vigil_engine_get_threshold(e, VIGIL_THRESHOLD_YARA_SUSPICIOUS), 0.60);
	ck_assert_int_eq(vigil_engine_load_as(e, info, VIGIL_INCOMPLETE), VIGIL_EINVAL);
	ck_assert_int_eq(vigil_engine_load_as(e, info, VIGIL_CLEAN), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_load_as(e, gated, VIGIL_SUSPICIOUS), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_load(e, plain), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	for (int pass = 0; pass < 2; pass++) {
		/* the second time from the verdict cache, reasons included */
		r = scan_mem(s, "MZ sev", "x.exe");
		ck_assert_int_eq(vigil_result_cached(r), pass);
		ck_assert_int_eq(vigil_result_verdict(r), VIGIL_MALICIOUS);
		want_finding(r, "plain:P", VIGIL_MALICIOUS, 1,
		             "the rule states no severity: MALICIOUS by default");
		want_finding(r, "plain:S20", VIGIL_CLEAN, 0.2,
		             "score 20: informational, below 60");
		want_finding(r, "plain:S85", VIGIL_MALICIOUS, 0.85,
		             "score 85: MALICIOUS, at or above 80");
		want_finding(r, "plain:Hunt", VIGIL_SUSPICIOUS, 1,
		             "tag Hunting: SUSPICIOUS");
		want_finding(r, "plain:W", VIGIL_MALICIOUS, 1,
		             "severity \"Critical\": MALICIOUS");
		want_finding(r, "plain:N", VIGIL_SUSPICIOUS, 0.65,
		             "severity 65: SUSPICIOUS, at or above 60");
		want_finding(r, "info:I", VIGIL_CLEAN, 1, "rule file loaded as "
		             "informational; the rule states no severity");
		want_finding(r, "info:I80", VIGIL_MALICIOUS, 0.8,
		             "score 80: MALICIOUS, at or above 80");
		want_finding(r, "gated:G", VIGIL_SUSPICIOUS, 1, "rule file loaded "
		             "as SUSPICIOUS; the rule states no severity");
		vigil_result_free(r);
	}
	vigil_scanner_free(s);
	vigil_engine_free(e);

	/* thresholds move the score bands; only informational matches
	 * leave the result CLEAN */
	const char *paths[] = { plain, NULL };
	e = engine_with(paths);
	ck_assert_int_eq(vigil_engine_set_threshold(e, VIGIL_THRESHOLD_YARA_MALICIOUS, 0.9), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_threshold(e, VIGIL_THRESHOLD_YARA_SUSPICIOUS, 0.1), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	r = scan_mem(s, "sev", NULL);
	want_finding(r, "plain:S20", VIGIL_SUSPICIOUS, 0.2,
	             "score 20: SUSPICIOUS, at or above 10");
	want_finding(r, "plain:S85", VIGIL_SUSPICIOUS, 0.85,
	             "score 85: SUSPICIOUS, at or above 10");
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);

	e = frozen_with_rule("onlyinfo.yar",
		"rule A : info { strings: $a = \"sev\" condition: $a }\n"
		"rule B { meta: score = 0 strings: $a = \"sev\" condition: $a }\n");
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	r = scan_mem(s, "sev", NULL);
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_CLEAN);
	ck_assert_uint_eq(vigil_result_finding_count(r), 2);
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

typedef struct load_errors {
	int n, answer;
	char paths[4][512];
	vigil_error errs[4];
} load_errors;

static int on_load_error(const char *path, vigil_error err,
                         const char *message, void *userdata)
{
	load_errors *le = userdata;

	ck_assert_ptr_nonnull(strstr(message, path));
	if (le->n < 4) {
		snprintf(le->paths[le->n], sizeof le->paths[0], "%s", path);
		le->errs[le->n] = err;
	}
	le->n++;
	return le->answer;
}

START_TEST(test_load_callback)
{
	char dir[512], path[600];
	load_errors le = { .answer = VIGIL_CONTINUE };
	vigil_engine *e;
	vigil_scanner *s = NULL;
	vigil_result *r;

	snprintf(dir, sizeof dir, "%s/set", tmpdir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	write_text("set/a_good.yar", "rule Good { strings: $a = \"cb\" condition: $a }\n");
	write_text("set/b_bad.yar", "rule Bad { strings: $a = \"cb\" condition: is__elf }\n");
	write_text("set/c_good.yar", "rule Good2 { strings: $a = \"cb\" condition: $a }\n");
	/* a good line, then a bad one: the good line must not stay */
	write_text("set/d_bad.hdb", "%s:2:Half\nnot a line\n",
	           "8ea3ba6d2da2d7f8d8eb22ab0e7c5d28");

	/* no callback: the first bad file ends the load */
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_load(e, dir), VIGIL_EDATABASE);
	vigil_engine_free(e);

	/* skipping: every bad file named, the good ones loaded */
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_option(e, VIGIL_OPT_NO_DEFAULT_SIGNATURES, 1), VIGIL_OK);
	vigil_engine_set_load_callback(e, on_load_error, &le);
	ck_assert_int_eq(vigil_engine_load(e, dir), VIGIL_OK);
	ck_assert_int_eq(le.n, 2);
	snprintf(path, sizeof path, "%s/b_bad.yar", dir);
	ck_assert_str_eq(le.paths[0], path);
	ck_assert_int_eq(le.errs[0], VIGIL_EDATABASE);
	snprintf(path, sizeof path, "%s/d_bad.hdb", dir);
	ck_assert_str_eq(le.paths[1], path);
	snprintf(path, sizeof path, "%s/missing.yar", tmpdir);
	ck_assert_int_eq(vigil_engine_load(e, path), VIGIL_OK);
	ck_assert_int_eq(le.n, 3);
	ck_assert_int_eq(le.errs[2], VIGIL_ENOENT);
	ck_assert_uint_eq(vigil_engine_signature_count(e), 2);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	r = scan_mem(s, "cb", NULL);
	ck_assert_uint_eq(vigil_result_finding_count(r), 2);
	ck_assert_ptr_nonnull(find(r, "a_good:Good"));
	ck_assert_ptr_nonnull(find(r, "c_good:Good2"));
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);

	/* VIGIL_STOP fails the call with the file's error */
	le = (load_errors){ .answer = VIGIL_STOP };
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	vigil_engine_set_load_callback(e, on_load_error, &le);
	ck_assert_int_eq(vigil_engine_load(e, dir), VIGIL_EDATABASE);
	ck_assert_int_eq(le.n, 1);
	vigil_engine_free(e);
}
END_TEST

/* Writes src compiled by libyara itself to tmpdir/name, with the listed
 * externals declared (NULL-terminated, may be empty). */
static const char *write_yarc(const char *name, const char *ns,
                              const char *src, const char *const *ext)
{
	static char path[512];
	YR_COMPILER *c = NULL;
	YR_RULES *rules = NULL;

	ck_assert_int_eq(yr_initialize(), ERROR_SUCCESS);
	ck_assert_int_eq(yr_compiler_create(&c), ERROR_SUCCESS);
	for (; ext && *ext; ext++)
		ck_assert_int_eq(yr_compiler_define_string_variable(c, *ext, ""),
		                 ERROR_SUCCESS);
	ck_assert_int_eq(yr_compiler_add_string(c, src, ns), 0);
	ck_assert_int_eq(yr_compiler_get_rules(c, &rules), ERROR_SUCCESS);
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	ck_assert_int_eq(yr_rules_save(rules, path), ERROR_SUCCESS);
	yr_rules_destroy(rules);
	yr_compiler_destroy(c);
	yr_finalize();
	return path;
}

START_TEST(test_compiled_rules)
{
	static const char *const name_only[] = { "filename", NULL };
	char plain[512], withext[512], src[512];
	vigil_engine *e;
	vigil_scanner *s = NULL;
	vigil_result *r;

	snprintf(plain, sizeof plain, "%s", write_yarc("plain.yarc", "cns",
		"rule Compiled : t { meta: description = \"from yarc\""
		" strings: $a = \"compiled\" condition: $a }", NULL));
	{
		/* no externals declared: the cache need not key on names */
		const char *paths[] = { plain, NULL };
		e = engine_with(paths);
		ck_assert_uint_eq(vigil_engine_signature_count(e), 1);
		ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
		ck_assert_int_eq(e->cache_keys_name, 0);
		ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
		r = scan_mem(s, "a compiled rule", "x");
		ck_assert_str_eq(vigil_finding_detail(find(r, "cns:Compiled")),
		                 "from yarc [tags: t]");
		vigil_result_free(r);
		vigil_scanner_free(s);
		vigil_engine_free(e);
	}

	/* a .yarc declaring only filename, mixed with a source set */
	snprintf(withext, sizeof withext, "%s", write_yarc("named.yarc", "default",
		"rule Named { condition: filename == \"n.bin\" }", name_only));
	snprintf(src, sizeof src, "%s", write_text("src.yar",
		"rule Src { strings: $a = \"compiled\" condition: $a }\n"));
	const char *paths[] = { plain, withext, src, NULL };
	e = engine_with(paths);
	ck_assert_uint_eq(vigil_engine_signature_count(e), 3);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_int_eq(e->cache_keys_name, 1);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	r = scan_mem(s, "compiled", "dir/n.bin");
	ck_assert_uint_eq(vigil_result_finding_count(r), 3);
	ck_assert_ptr_nonnull(find(r, "cns:Compiled"));
	ck_assert_ptr_nonnull(find(r, "default:Named"));
	ck_assert_ptr_nonnull(find(r, "src:Src"));
	vigil_result_free(r);
	r = scan_mem(s, "compiled", "dir/m.bin");
	ck_assert_uint_eq(vigil_result_finding_count(r), 2);
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);

	/* not a compiled rules file */
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_load(e, write_text("junk.yarc", "not yara")),
	                 VIGIL_EDATABASE);
	ck_assert_ptr_nonnull(strstr(vigil_engine_last_error(e), "junk.yarc"));
	vigil_engine_free(e);
}
END_TEST

/*
 * A rule that loops over every byte pair runs far past a 1 s limit on
 * 64 KiB: the set's result is unknown, so the verdict is INCOMPLETE, and
 * findings from the other sets stay.
 */
START_TEST(test_timeout_incomplete)
{
	char slow[512], fast[512];
	snprintf(slow, sizeof slow, "%s", write_text("slow.yar",
		"rule Slow { condition: for all i in (0..filesize) :"
		" ( for all j in (0..filesize) : ( uint8(j) != 256 ) ) }\n"));
	snprintf(fast, sizeof fast, "%s", write_yarc("fast.yarc", "fast",
		"rule Mark { strings: $a = \"FASTMARK\" condition: $a }", NULL));
	const char *paths[] = { fast, slow, NULL };
	vigil_engine *e = engine_with(paths);
	vigil_scanner *s = NULL;
	vigil_result *r = NULL;
	size_t n = 64 * 1024;
	char *buf = calloc(1, n);
	uint64_t t0;

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(vigil_engine_set_limit(e, VIGIL_LIMIT_YARA_TIMEOUT_MS, 1), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);

	t0 = vg_now_us();
	ck_assert_int_eq(vigil_scan_mem(s, buf, n, "b", &r), VIGIL_OK);
	ck_assert_uint_lt(vg_now_us() - t0, 10u * 1000 * 1000);
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_INCOMPLETE);
	ck_assert_ptr_nonnull(find(r, "Limit.YaraTimeout"));
	ck_assert_str_eq(vigil_finding_stage(find(r, "Limit.YaraTimeout")), "limit");
	vigil_result_free(r);

	memcpy(buf + 100, "FASTMARK", 8);
	ck_assert_int_eq(vigil_scan_mem(s, buf, n, "b", &r), VIGIL_OK);
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_MALICIOUS);
	ck_assert_ptr_nonnull(find(r, "fast:Mark"));
	ck_assert_ptr_nonnull(find(r, "Limit.YaraTimeout"));
	vigil_result_free(r);
	free(buf);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

static int stop_at_first(const vigil_finding *f, void *userdata)
{
	(*(int *)userdata)++;
	return VIGIL_STOP;
}

START_TEST(test_callback_stop)
{
	vigil_engine *e = frozen_with_rule("many.yar",
		"rule A { condition: true }\nrule B { condition: true }\n"
		"rule C { condition: true }\n");
	vigil_scanner *s = NULL;
	vigil_result *r;
	int calls = 0;

	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	vigil_scanner_set_callback(s, stop_at_first, &calls);
	r = scan_mem(s, "anything", NULL);
	ck_assert_int_eq(calls, 1);
	ck_assert_uint_eq(vigil_result_finding_count(r), 1);
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

/* Engines made and freed on several threads at once share libyara's
 * process-wide set-up safely. */
static void *engine_cycle(void *arg)
{
	const char *path = arg;
	for (int i = 0; i < 5; i++) {
		vigil_engine *e = NULL;
		vigil_scanner *s = NULL;
		vigil_result *r = NULL;
		if (vigil_engine_new(&e) || vigil_engine_load(e, path) ||
		    vigil_engine_freeze(e) || vigil_scanner_new(e, &s) ||
		    vigil_scan_mem(s, "thread text", 11, NULL, &r) ||
		    vigil_result_verdict(r) != VIGIL_MALICIOUS)
			return (void *)1;
		vigil_result_free(r);
		vigil_scanner_free(s);
		vigil_engine_free(e);
	}
	return NULL;
}

START_TEST(test_threads)
{
	char path[512];
	pthread_t t[4];
	snprintf(path, sizeof path, "%s", write_text("thr.yar",
		"rule T { strings: $a = \"thread\" condition: $a }\n"));
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, engine_cycle, path), 0);
	for (int i = 0; i < 4; i++) {
		void *rv;
		ck_assert_int_eq(pthread_join(t[i], &rv), 0);
		ck_assert_ptr_null(rv);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* The MZ gate                                                         */
/* ------------------------------------------------------------------ */

static int gated(const char *src)
{
	return vg_yara_gate_mz(src, strlen(src));
}

START_TEST(test_gate_classifier)
{
	/* gated: the MZ test is a term of the top-level `and` chain */
	ck_assert_int_eq(gated("rule a { condition: uint16(0) == 0x5a4d }"), 1);
	ck_assert_int_eq(gated(
		"import \"pe\"\n"
		"rule a : t1 t2 {\n"
		"  meta: d = \"x\" n = -1 ok = true\n"
		"  strings: $a = \"x\" wide ascii $h = { 4D 5A [2-4] ( 90 | ?? ) }\n"
		"    $r = /a\\/b\"c/is $x = \"y\" xor(1-2)\n"
		"  condition: filesize < 1MB and uint16(0)==0x5A4D and\n"
		"    ( $a or $h or $r ) and pe.number_of_sections > 1 or $x and false\n"
		"}\n"), 0); /* a top-level `or` at the end */
	ck_assert_int_eq(gated(
		"rule a { strings: $a = \"x\" $b = \"y\"\n"
		"  condition: filesize < 1MB and uint16(0)==0x5A4D and\n"
		"    ( $a or $b ) }"), 1);
	ck_assert_int_eq(gated("rule a { condition: uint16be ( 0 ) == 0x4D5A and true }"), 1);
	/* a bracketed chain holding the test is a gated term too */
	ck_assert_int_eq(gated("rule a { condition: (uint16(0) == 0x5a4d and "
	                       "uint32(uint32(0x3c)) == 0x4550) and true }"), 1);
	ck_assert_int_eq(gated("rule a { condition: ((uint16(0) == 0x5a4d)) }"), 1);
	ck_assert_int_eq(gated("rule a { condition: (uint16(0) == 0x5a4d or true) and true }"), 0);
	ck_assert_int_eq(gated("rule a { condition: (uint16(0) == 0x5a4d and true) == true }"), 0);
	/* a pe member or function the module leaves undefined on objects
	 * not starting "MZ", as a term of the chain */
	ck_assert_int_eq(gated("import \"pe\" rule a { strings: $a = \"x\" "
	                       "condition: $a and pe.timestamp > 5 }"), 1);
	ck_assert_int_eq(gated("import \"pe\" rule a { strings: $a = \"x\" "
	                       "condition: $a and not pe.number_of_signatures > 0 }"), 1);
	ck_assert_int_eq(gated("import \"pe\" rule a { condition: "
	                       "pe.imphash() == \"ab\" and true }"), 1);
	ck_assert_int_eq(gated("import \"pe\" rule a { condition: true and "
	                       "pe.sections[2].raw_data_size == (1 or 0) }"), 1);
	/* defined there: is_pe, constants; or a quantifier, `or`, `defined` */
	ck_assert_int_eq(gated("import \"pe\" rule a { condition: true and not pe.is_pe }"), 0);
	ck_assert_int_eq(gated("import \"pe\" rule a { condition: true and pe.DLL == 0x2000 }"), 0);
	ck_assert_int_eq(gated("import \"pe\" rule a { condition: true and pe.section_index(\".t\") == 0 }"), 0);
	ck_assert_int_eq(gated("import \"pe\" rule a { condition: true and pe.timestamp of them }"), 0);
	ck_assert_int_eq(gated("import \"pe\" rule a { condition: pe.timestamp > 5 or true }"), 0);
	ck_assert_int_eq(gated("import \"pe\" rule a { condition: true and defined pe.timestamp }"), 0);
	ck_assert_int_eq(gated("import \"pe\" rule a { strings: $a = \"x\" condition: $a at pe.entry_point and true }"), 0);
	/* a top-level `or` anywhere */
	ck_assert_int_eq(gated("rule a { condition: uint16(0) == 0x5a4d or true }"), 0);
	ck_assert_int_eq(gated("rule a { condition: true or uint16(0) == 0x5a4d }"), 0);
	/* `not`, and tests that are not exactly the MZ test */
	ck_assert_int_eq(gated("rule a { condition: not uint16(0) == 0x5a4d }"), 0);
	ck_assert_int_eq(gated("rule a { condition: not uint16(0) == 0x5a4d and true }"), 0);
	ck_assert_int_eq(gated("rule a { condition: true and not uint16(0) == 0x5a4d }"), 0);
	ck_assert_int_eq(gated("rule a { condition: uint16(0) != 0x5a4d }"), 0);
	ck_assert_int_eq(gated("rule a { condition: uint16(0) == 0x5a4d + 1 }"), 0);
	ck_assert_int_eq(gated("rule a { condition: uint16(1) == 0x5a4d }"), 0);
	ck_assert_int_eq(gated("rule a { condition: uint16(0) == 0x4d5a }"), 0);
	ck_assert_int_eq(gated("rule a { condition: uint16be(0) == 0x5a4d }"), 0);
	ck_assert_int_eq(gated("rule a { condition: uint32(0) == 0x5a4d }"), 0);
	ck_assert_int_eq(gated("rule a { condition: 1 + uint16(0) == 0x5a4d }"), 0);
	/* the test's words in strings, regexes and comments do not count */
	ck_assert_int_eq(gated("rule a { condition: \"uint16(0) == 0x5a4d\" == \"\" }"), 0);
	ck_assert_int_eq(gated("rule a { strings: $a = \"uint16(0) == 0x5a4d and\" "
	                       "condition: $a }"), 0);
	ck_assert_int_eq(gated("rule a { condition: // uint16(0) == 0x5a4d and\n true }"), 0);
	ck_assert_int_eq(gated("rule a { condition: /* uint16(0) == 0x5a4d and */ true }"), 0);
	ck_assert_int_eq(gated("rule a { strings: $a = /uint16(0) == 0x5a4d/ "
	                       "condition: $a }"), 0);
	/* ... nor do `or`s and braces inside them */
	ck_assert_int_eq(gated("rule a { meta: d = \"a or b } or\" strings: "
	                       "$a = { 4D // } or\n 5A } $b = /x or }/ condition: "
	                       "uint16(0) == 0x5a4d /* or } */ and $a and $b }"), 0);
	ck_assert_int_eq(gated("rule a { meta: d = \"a or b } or\" strings: "
	                       "$a = { 4D // c\n 5A /* d */ } $b = /x or }/ "
	                       "condition: uint16(0) == 0x5a4d /* or } */ and $a "
	                       "and $b }"), 1);
	/* private and global rules count like the others */
	ck_assert_int_eq(gated("private rule p { condition: uint16(0) == 0x5a4d }\n"
	                       "global rule g { condition: uint16(0) == 0x5a4d and filesize > 2 }\n"
	                       "rule a { condition: p and uint16(0) == 0x5a4d }"), 1);
	ck_assert_int_eq(gated("global rule g { condition: filesize > 2 }\n"
	                       "rule a { condition: uint16(0) == 0x5a4d }"), 0);
	ck_assert_int_eq(gated("private rule p { condition: true }\n"
	                       "rule a { condition: p and uint16(0) == 0x5a4d }"), 0);
	/* one ungated rule sends the whole file to the rest */
	ck_assert_int_eq(gated("rule a { condition: uint16(0) == 0x5a4d }\n"
	                       "rule b { condition: filesize > 0 }"), 0);
	/* what the classifier does not know: the safe answer */
	ck_assert_int_eq(gated(""), 0);
	ck_assert_int_eq(gated("import \"pe\""), 0);
	ck_assert_int_eq(gated("include \"x.yar\"\n"
	                       "rule a { condition: uint16(0) == 0x5a4d }"), 0);
	ck_assert_int_eq(gated("rule a { condition: uint16(0) == 0x5a4d"), 0);
	ck_assert_int_eq(gated("rule a { condition: uint16(0) == 0x5a4d ) }"), 0);
	ck_assert_int_eq(gated("rule a { condition: (uint16(0) == 0x5a4d }"), 0);
	ck_assert_int_eq(gated("rule a { strings: $a = \"x\n\" "
	                       "condition: uint16(0) == 0x5a4d }"), 0);
	ck_assert_int_eq(gated("rule a { strings: $a = { 4D 5A condition: "
	                       "uint16(0) == 0x5a4d }"), 0);
	ck_assert_int_eq(gated("rule a { condition: uint16(0) == 0x5a4d /* }"), 0);
	/* the length bounds the text: the rule's end is past it */
	ck_assert_int_eq(vg_yara_gate_mz("rule a { condition: uint16(0) == 0x5a4d }",
	                                 40), 0);
	ck_assert_int_eq(vg_yara_is_mz((const unsigned char *)"MZ", 2), 1);
	ck_assert_int_eq(vg_yara_is_mz((const unsigned char *)"MZ", 1), 0);
	ck_assert_int_eq(vg_yara_is_mz((const unsigned char *)"ZM", 2), 0);
}
END_TEST

/* How many of the frozen engine's sets are MZ-only, and how many not. */
static void count_sets(vigil_engine *e, size_t *mz, size_t *rest)
{
	const vg_yara *y = e->stage_state[VG_STAGE_yara];

	*mz = *rest = 0;
	ck_assert_ptr_nonnull(y);
	for (size_t i = 0; i < y->nsets; i++)
		(*(y->sets[i].gate == VG_GATE_MZ ? mz : rest))++;
}

static const char gated_rules[] =
	"global rule g { condition: uint16(0) == 0x5a4d and filesize > 6 }\n"
	"private rule p { strings: $a = \"evil\" condition: uint16(0) == 0x5a4d and $a }\n"
	"rule Exe { condition: uint16(0) == 0x5a4d and p }\n";
static const char plain_rules[] =
	"rule Any { strings: $a = \"evil\" condition: $a }\n";

START_TEST(test_gate_split)
{
	char a[512], b[512];
	snprintf(a, sizeof a, "%s", write_text("gated.yar", "%s", gated_rules));
	snprintf(b, sizeof b, "%s", write_text("plain.yar", "%s", plain_rules));
	const char *paths[] = { a, b, NULL };
	vigil_engine *e = engine_with(paths);
	vigil_scanner *s = NULL;
	vigil_result *r;
	size_t mz, rest;

	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_uint_eq(vigil_engine_signature_count(e), 4);
	count_sets(e, &mz, &rest);
	ck_assert_uint_eq(mz, 1);
	ck_assert_uint_eq(rest, 1);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	/* an MZ object: both sets */
	r = scan_mem(s, "MZ evil", NULL);
	ck_assert_uint_eq(vigil_result_finding_count(r), 3);
	ck_assert_ptr_nonnull(find(r, "gated:g"));
	ck_assert_ptr_nonnull(find(r, "gated:Exe"));
	ck_assert_ptr_nonnull(find(r, "plain:Any"));
	vigil_result_free(r);
	/* the global rule (filesize > 6) still holds inside the gated set */
	r = scan_mem(s, "MZevil", NULL);
	ck_assert_uint_eq(vigil_result_finding_count(r), 1);
	ck_assert_ptr_nonnull(find(r, "plain:Any"));
	vigil_result_free(r);
	/* not MZ: the rest only, which still matches */
	r = scan_mem(s, "ZM evil", NULL);
	ck_assert_uint_eq(vigil_result_finding_count(r), 1);
	ck_assert_ptr_nonnull(find(r, "plain:Any"));
	vigil_result_free(r);
	r = scan_mem(s, "M", NULL);
	ck_assert_uint_eq(vigil_result_finding_count(r), 0);
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

/* One file split by rule: the gated rule goes to the MZ set, the rule
 * naming the pe module to the MZ set and to the not-MZ set, the plain
 * rule to the rest, which imports nothing; a file whose rule names
 * another rule stays whole. Each object matches every rule once. */
static size_t count_gate(vigil_engine *e, int gate)
{
	const vg_yara *y = e->stage_state[VG_STAGE_yara];
	size_t n = 0;

	for (size_t i = 0; i < y->nsets; i++)
		n += y->sets[i].gate == gate;
	return n;
}

START_TEST(test_gate_split_rules)
{
	char a[512], b[512];
	snprintf(a, sizeof a, "%s", write_text("mixed.yar",
		"import \"pe\"\n"
		"// a comment holding rule x { condition: true }\n"
		"rule Gated { strings: $a = \"evil\" condition:\n"
		"  uint16(0) == 0x5a4d and $a }\n"
		"rule Pe { strings: $a = \"evil\" condition:\n"
		"  $a and not pe.is_pe }\n"
		"private rule Plain { strings: $a = \"evil\" condition: $a }\n"
		"rule Line { condition: filesize == 0 and\n"
		"  undefined_thing }\n"));
	snprintf(b, sizeof b, "%s", write_text("refs.yar",
		"private rule P { strings: $a = \"bad\" condition: $a }\n"
		"rule R { condition: P and uint16(0) == 0x5a4d }\n"
		"rule Q { condition: P }\n"));
	const char *paths[] = { a, NULL };
	const char *paths2[] = { b, NULL };
	vigil_engine *e = NULL;
	vigil_scanner *s = NULL;
	vigil_result *r;

	/* the error names the line in the file, blanked rules or not */
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_load(e, paths[0]), VIGIL_EDATABASE);
	ck_assert_msg(strstr(vigil_engine_last_error(e), "mixed.yar:9:") != NULL,
	              "%s", vigil_engine_last_error(e));
	vigil_engine_free(e);

	snprintf(a, sizeof a, "%s", write_text("mixed.yar",
		"import \"pe\"\n"
		"rule Gated { strings: $a = \"evil\" condition:\n"
		"  uint16(0) == 0x5a4d and $a }\n"
		"rule Pe { strings: $a = \"evil\" condition:\n"
		"  $a and not pe.is_pe }\n"
		"rule Plain { strings: $a = \"evil\" condition: $a }\n"));
	e = engine_with(paths);
	ck_assert_int_eq(vigil_engine_load(e, paths2[0]), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_uint_eq(vigil_engine_signature_count(e), 6);
	ck_assert_uint_eq(count_gate(e, VG_GATE_MZ), 1);
	ck_assert_uint_eq(count_gate(e, VG_GATE_NOT_MZ), 1);
	ck_assert_uint_eq(count_gate(e, 0), 1);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	r = scan_mem(s, "MZ evil bad", NULL);
	ck_assert_uint_eq(vigil_result_finding_count(r), 5);
	ck_assert_ptr_nonnull(find(r, "mixed:Gated"));
	ck_assert_ptr_nonnull(find(r, "mixed:Pe")); /* MZ but not a PE */
	ck_assert_ptr_nonnull(find(r, "mixed:Plain"));
	ck_assert_ptr_nonnull(find(r, "refs:R"));
	ck_assert_ptr_nonnull(find(r, "refs:Q"));
	vigil_result_free(r);
	r = scan_mem(s, "ZM evil bad", NULL);
	ck_assert_uint_eq(vigil_result_finding_count(r), 3);
	ck_assert_ptr_nonnull(find(r, "mixed:Pe"));
	ck_assert_ptr_nonnull(find(r, "mixed:Plain"));
	ck_assert_ptr_nonnull(find(r, "refs:Q"));
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

/* Files of one namespace share a compiler: a gated file followed by an
 * ungated one of the same base name both go to the rest, and the gated
 * file's global rule keeps applying to the other file's rules. */
START_TEST(test_gate_namespace)
{
	char a[512], b[512], dir[300];
	snprintf(a, sizeof a, "%s", write_text("same.yar",
		"global rule g { condition: uint16(0) == 0x5a4d }\n"));
	snprintf(dir, sizeof dir, "%s/sub", tmpdir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(b, sizeof b, "%s", write_text("sub/same.yar", "%s", plain_rules));
	const char *paths[] = { a, b, NULL };
	vigil_engine *e = engine_with(paths);
	vigil_scanner *s = NULL;
	vigil_result *r;
	size_t mz, rest;

	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	count_sets(e, &mz, &rest);
	ck_assert_uint_eq(mz, 0);
	ck_assert_uint_eq(rest, 1);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	r = scan_mem(s, "ZM evil", NULL);
	ck_assert_uint_eq(vigil_result_finding_count(r), 0);
	vigil_result_free(r);
	r = scan_mem(s, "MZ evil", NULL);
	ck_assert_ptr_nonnull(find(r, "same:Any"));
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

/* The not-MZ texts compile at freeze, pe rewritten out; a rewrite of
 * the wrong type (a string compared with what replaced pe.imphash())
 * keeps that file's text as written, after a good rewrite compiled
 * into the same set, and both rules still match on both halves. */
START_TEST(test_gate_unpe_fallback)
{
	char a[512], b[512];
	snprintf(a, sizeof a, "%s", write_text("good.yar",
		"import \"pe\"\n"
		"rule Pe { strings: $a = \"evil\" condition:\n"
		"  $a and not pe.is_pe }\n"));
	snprintf(b, sizeof b, "%s", write_text("typed.yar",
		"import \"pe\"\n"
		"rule Typed { strings: $a = \"evil\" condition:\n"
		"  $a or \"abc\" == pe.imphash() }\n"));
	const char *paths[] = { a, b, NULL };
	vigil_engine *e = engine_with(paths);
	vigil_scanner *s = NULL;
	vigil_result *r;

	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_uint_eq(vigil_engine_signature_count(e), 2);
	ck_assert_uint_eq(count_gate(e, VG_GATE_NOT_MZ), 1);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	r = scan_mem(s, "ZM evil", NULL);
	ck_assert_uint_eq(vigil_result_finding_count(r), 2);
	ck_assert_ptr_nonnull(find(r, "good:Pe"));
	ck_assert_ptr_nonnull(find(r, "typed:Typed"));
	vigil_result_free(r);
	r = scan_mem(s, "MZ evil", NULL);
	ck_assert_uint_eq(vigil_result_finding_count(r), 2);
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

static Suite *yara_suite(void)
{
	Suite *s = suite_create("yara");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_match_and_detail);
	tcase_add_test(tc, test_namespaces);
	tcase_add_test(tc, test_externals_mem);
	tcase_add_test(tc, test_externals_path_and_cache);
	tcase_add_test(tc, test_externals_member);
	tcase_add_test(tc, test_extension_and_filetype);
	tcase_add_test(tc, test_compile_error);
	tcase_add_test(tc, test_severity);
	tcase_add_test(tc, test_load_callback);
	tcase_add_test(tc, test_compiled_rules);
	tcase_add_test(tc, test_timeout_incomplete);
	tcase_add_test(tc, test_callback_stop);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_gate_classifier);
	tcase_add_test(tc, test_gate_split);
	tcase_add_test(tc, test_gate_namespace);
	tcase_add_test(tc, test_gate_split_rules);
	tcase_add_test(tc, test_gate_unpe_fallback);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(yara_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
