/*
 * check_hashdb.c - hash sets and allowlists: the .hdb/.hsb/.fp/.sfp
 * formats, bad-line errors, sizes and "*", allowlist precedence, the
 * digests hook, and a million entries against the memory budget
 * (their speed: bench/hashdb_bench.c).
 */
#include "config.h"

#include <check.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/digest.h"
#include "engine/allocator.h"
#include "engine/vg.h"
#include "signatures/hashdb.h"
#include "vigil/vigil.h"

#define UNDER_SANITIZER VG_ASAN

static const char hello[] = "hello world\n"; /* 12 bytes */

/* Writes text to a new temp file whose name ends in ext; caller frees
 * the name and unlinks the file. */
static char *temp_file(const char *ext, const char *text, size_t len)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	ck_assert_int_ge(asprintf(&path, "%s/vigil-hashdb-XXXXXX%s", dir, ext), 0);
	fd = mkstemps(path, (int)strlen(ext));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static char *temp_text(const char *ext, const char *text)
{
	return temp_file(ext, text, strlen(text));
}

/* Hex digests of a buffer: md5, sha1, sha256. */
struct hexes {
	char md5[33], sha1[41], sha256[65];
};

static struct hexes hexes_of(const void *data, size_t size)
{
	vg_digest d;
	struct hexes h;

	ck_assert_int_eq(vg_digest_compute(data, size,
	                                   VG_DIGEST_MD5 | VG_DIGEST_SHA1 |
	                                   VG_DIGEST_SHA256, &d), 0);
	vg_hex(d.md5, 16, h.md5);
	vg_hex(d.sha1, 20, h.sha1);
	vg_hex(d.sha256, 32, h.sha256);
	return h;
}

static vigil_engine *new_engine(int builtins)
{
	vigil_engine *e = NULL;
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_option(e, VIGIL_OPT_NO_DEFAULT_SIGNATURES,
	                                         !builtins), VIGIL_OK);
	/* only this stage's findings are under test */
	ck_assert_int_eq(vigil_engine_set_option(e, VIGIL_OPT_NO_ML, 1), VIGIL_OK);
	return e;
}

/* Loads one temp signature file into e and removes it. */
static vigil_error load_text(vigil_engine *e, const char *ext,
                             const char *text)
{
	char *path = temp_text(ext, text);
	vigil_error err = vigil_engine_load(e, path);
	unlink(path);
	free(path);
	return err;
}

/* Scans a buffer on a frozen engine. */
static vigil_result *scan(vigil_engine *e, const void *data, size_t size)
{
	vigil_scanner *s = NULL;
	vigil_result *r = NULL;

	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	ck_assert_int_eq(vigil_scan_mem(s, data, size, "t", &r), VIGIL_OK);
	vigil_scanner_free(s);
	return r;
}

/* The name of the only finding, or NULL when there is none. */
static const char *only_finding(const vigil_result *r, const char **detail)
{
	if (vigil_result_finding_count(r) == 0)
		return NULL;
	ck_assert_uint_eq(vigil_result_finding_count(r), 1);
	const vigil_finding *f = vigil_result_finding(r, 0);
	ck_assert_str_eq(vigil_finding_stage(f), "hash");
	ck_assert_int_eq(vigil_finding_verdict(f), VIGIL_MALICIOUS);
	if (detail)
		*detail = vigil_finding_detail(f);
	return vigil_finding_name(f);
}

/* ------------------------------------------------------------------ */

START_TEST(test_parse_all_kinds)
{
	const char *objs[3] = { "first object\n", "second object!\n",
	                        "third object, longer\n" };
	struct hexes h[3];
	char *text, upper[41];
	vigil_engine *e = new_engine(0);

	for (int i = 0; i < 3; i++)
		h[i] = hexes_of(objs[i], strlen(objs[i]));
	for (int i = 0; i < 41; i++)
		upper[i] = (char)(h[1].sha1[i] >= 'a' ? h[1].sha1[i] - 32 : h[1].sha1[i]);
	/* MD5 in .hdb with FLEVEL fields, upper-case SHA-1 and CRLF in .hsb,
	 * SHA-256 with both FLEVELs, comments and blank lines between */
	ck_assert_int_ge(asprintf(&text,
		"# a comment\n\n%s:%zu:Test.Md5-1:73\n   \n", h[0].md5,
		strlen(objs[0])), 0);
	ck_assert_int_eq(load_text(e, ".hdb", text), VIGIL_OK);
	free(text);
	ck_assert_int_ge(asprintf(&text,
		"%s:%zu:Test.Sha1-2\r\n#x\r\n\r\n%s:%zu:Test.Sha256-3:73:255\r\n",
		upper, strlen(objs[1]), h[2].sha256, strlen(objs[2])), 0);
	ck_assert_int_eq(load_text(e, ".HSB", text), VIGIL_OK);
	free(text);
	ck_assert_uint_eq(vigil_engine_signature_count(e), 3);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_uint_eq(vigil_engine_signature_count(e), 3);

	const char *want[3][2] = { { "Test.Md5-1", "md5" },
	                           { "Test.Sha1-2", "sha1" },
	                           { "Test.Sha256-3", "sha256" } };
	for (int i = 0; i < 3; i++) {
		const char *detail = NULL;
		vigil_result *r = scan(e, objs[i], strlen(objs[i]));
		ck_assert_pstr_eq(only_finding(r, &detail), want[i][0]);
		ck_assert_str_eq(detail, want[i][1]);
		ck_assert_int_eq(vigil_result_verdict(r), VIGIL_MALICIOUS);
		vigil_result_free(r);
	}
	vigil_result *r = scan(e, hello, strlen(hello));
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_CLEAN);
	ck_assert_uint_eq(vigil_result_finding_count(r), 0);
	vigil_result_free(r);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_same_name_reported_once)
{
	struct hexes h = hexes_of(hello, strlen(hello));
	char *text;
	vigil_engine *e = new_engine(0);

	/* one threat listed by MD5 and SHA-256, another by SHA-1 */
	ck_assert_int_ge(asprintf(&text, "%s:12:Same\n%s:12:Same\n%s:12:Other\n",
	                          h.md5, h.sha256, h.sha1), 0);
	ck_assert_int_eq(load_text(e, ".hdb", text), VIGIL_OK);
	free(text);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	vigil_result *r = scan(e, hello, strlen(hello));
	ck_assert_uint_eq(vigil_result_finding_count(r), 2);
	ck_assert_str_eq(vigil_finding_name(vigil_result_finding(r, 0)), "Same");
	ck_assert_str_eq(vigil_finding_detail(vigil_result_finding(r, 0)), "sha256");
	ck_assert_str_eq(vigil_finding_name(vigil_result_finding(r, 1)), "Other");
	vigil_result_free(r);
	vigil_engine_free(e);
}
END_TEST

/* Each bad line, on line 3 after a comment and a good line. */
static const struct {
	const char *line;
	const char *why;
} bad_lines[] = {
	{ "0123456789abcdef0123456789abcde:12:Short", "32, 40 or 64 hex" },
	{ "0123456789abcdef0123456789abcdeg:12:NotHex", "not a hex digit" },
	{ "0123456789abcdef0123456789abcdef:12a:BadSize", "size" },
	{ "0123456789abcdef0123456789abcdef:-1:Negative", "size" },
	{ "0123456789abcdef0123456789abcdef::NoSize", "size" },
	{ "0123456789abcdef0123456789abcdef:4294967295:Huge", "size" },
	{ "0123456789abcdef0123456789abcdef:12345678901:Huge", "size" },
	{ "0123456789abcdef0123456789abcdef:12:", "empty threat name" },
	{ "0123456789abcdef0123456789abcdef:12", "too few fields" },
	{ "0123456789abcdef0123456789abcdef", "too few fields" },
	{ "0123456789abcdef0123456789abcdef:12:N:1:2:3", "too many fields" },
	{ "0123456789abcdef0123456789abcdef:12:N:abc", "FLEVEL" },
	{ "0123456789abcdef0123456789abcdef:12:N\tTab", "control character" },
	{ "0123456789abcdef0123456789abcdef:**:Stars", "size" },
	{ " 0123456789abcdef0123456789abcdef:12:Space", "32, 40 or 64 hex" },
};

START_TEST(test_bad_lines)
{
	const char *good = "00112233445566778899aabbccddeeff:5:Good\n";
	char *text, *path, where[4200];
	vigil_engine *e = new_engine(0);

	ck_assert_int_ge(asprintf(&text, "# ok\n%s%s\n", good, bad_lines[_i].line), 0);
	path = temp_text(_i % 2 ? ".hsb" : ".fp", text);
	ck_assert_int_eq(vigil_engine_load(e, path), VIGIL_EDATABASE);
	snprintf(where, sizeof where, "%s:3: ", path);
	ck_assert_msg(strstr(vigil_engine_last_error(e), where),
	              "'%s' lacks '%s'", vigil_engine_last_error(e), where);
	ck_assert_msg(strstr(vigil_engine_last_error(e), bad_lines[_i].why),
	              "'%s' lacks '%s'", vigil_engine_last_error(e),
	              bad_lines[_i].why);
	/* the file's good line was rolled back with it */
	ck_assert_uint_eq(vigil_engine_signature_count(e), 0);
	unlink(path);
	free(path);
	free(text);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_bad_bytes)
{
	/* a NUL inside a name, and a line with no end in sight */
	static const char nul[] = "00112233445566778899aabbccddeeff:5:A\0B\n";
	size_t big = 70000;
	char *line = malloc(big + 1), *path;
	vigil_engine *e = new_engine(0);

	path = temp_file(".hdb", nul, sizeof nul - 1);
	ck_assert_int_eq(vigil_engine_load(e, path), VIGIL_EDATABASE);
	ck_assert_ptr_nonnull(strstr(vigil_engine_last_error(e), ":1: control"));
	unlink(path);
	free(path);

	memset(line, 'a', big);
	memcpy(line, "# ok\n", 5);
	path = temp_file(".hdb", line, big);
	ck_assert_int_eq(vigil_engine_load(e, path), VIGIL_EDATABASE);
	ck_assert_ptr_nonnull(strstr(vigil_engine_last_error(e), ":2: line longer"));
	unlink(path);
	free(path);
	free(line);

	/* a FIFO named like a list is refused, not waited on */
	char fifo[4200];
	const char *tmp = getenv("TMPDIR");
	snprintf(fifo, sizeof fifo, "%s/vigil-hashdb-fifo-%d.hdb",
	         tmp && *tmp ? tmp : "/tmp", (int)getpid());
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(vigil_engine_load(e, fifo), VIGIL_ENOTREG);
	unlink(fifo);

	/* an empty file and one of only comments parse, but a list with no
	 * signature is an error: loaded quietly, it would find nothing */
	ck_assert_int_eq(load_text(e, ".hdb", ""), VIGIL_EDATABASE);
	ck_assert_ptr_nonnull(strstr(vigil_engine_last_error(e), "no signatures"));
	ck_assert_int_eq(load_text(e, ".hsb", "# nothing\r\n\r\n#"),
	                 VIGIL_EDATABASE);
	ck_assert_uint_eq(vigil_engine_signature_count(e), 0);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_last_line_without_newline)
{
	struct hexes h = hexes_of(hello, strlen(hello));
	char *text;
	vigil_engine *e = new_engine(0);

	/* a UTF-8 byte order mark, then no newline at the end */
	ck_assert_int_ge(asprintf(&text, "\xef\xbb\xbf%s:12:NoNewline", h.sha256), 0);
	ck_assert_int_eq(load_text(e, ".hsb", text), VIGIL_OK);
	free(text);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	vigil_result *r = scan(e, hello, strlen(hello));
	ck_assert_pstr_eq(only_finding(r, NULL), "NoNewline");
	vigil_result_free(r);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_size_must_match)
{
	struct hexes h = hexes_of(hello, strlen(hello));
	char *text;
	vigil_engine *e = new_engine(0);

	/* right hashes, wrong sizes: no hit */
	ck_assert_int_ge(asprintf(&text, "%s:13:Md5.WrongSize\n%s:11:Sha.WrongSize\n",
	                          h.md5, h.sha256), 0);
	ck_assert_int_eq(load_text(e, ".hdb", text), VIGIL_OK);
	free(text);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	vigil_result *r = scan(e, hello, strlen(hello));
	ck_assert_ptr_null(only_finding(r, NULL));
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_CLEAN);
	vigil_result_free(r);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_any_size)
{
	struct hexes h = hexes_of(hello, strlen(hello));
	char *text;
	vigil_engine *e = new_engine(0);

	/* "*" needs FLEVEL 73 in ClamAV; vigil takes it with or without */
	ck_assert_int_ge(asprintf(&text, "%s:*:Sha1.AnySize:73\n%s:99:Sha1.Exact\n",
	                          h.sha1, h.sha1), 0);
	ck_assert_int_eq(load_text(e, ".hsb", text), VIGIL_OK);
	free(text);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	vigil_result *r = scan(e, hello, strlen(hello));
	ck_assert_pstr_eq(only_finding(r, NULL), "Sha1.AnySize");
	vigil_result_free(r);
	/* "*" makes SHA-1 worth computing at every size */
	ck_assert_uint_eq(vg_stages[VG_STAGE_hash]->digests(e, 1), VG_DIGEST_SHA1);
	ck_assert_uint_eq(vg_stages[VG_STAGE_hash]->digests(e, 5ull << 30),
	                  VG_DIGEST_SHA1);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_allowlist_wins)
{
	struct hexes h = hexes_of(hello, strlen(hello));
	char *text;
	vigil_engine *e = new_engine(0);

	ck_assert_int_ge(asprintf(&text, "%s:12:Listed.Md5\n%s:12:Listed.Sha256\n",
	                          h.md5, h.sha256), 0);
	ck_assert_int_eq(load_text(e, ".hdb", text), VIGIL_OK);
	free(text);
	/* allowlisted by SHA-1 alone, in an .sfp */
	ck_assert_int_ge(asprintf(&text, "%s:12:Known.Good\n", h.sha1), 0);
	ck_assert_int_eq(load_text(e, ".sfp", text), VIGIL_OK);
	free(text);
	ck_assert_uint_eq(vigil_engine_signature_count(e), 3);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	vigil_result *r = scan(e, hello, strlen(hello));
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_CLEAN);
	ck_assert_uint_eq(vigil_result_finding_count(r), 0);
	vigil_result_free(r);
	vigil_engine_free(e);

	/* the same engine without the allowlist finds it */
	e = new_engine(0);
	ck_assert_int_ge(asprintf(&text, "%s:12:Listed.Md5\n", h.md5), 0);
	ck_assert_int_eq(load_text(e, ".hdb", text), VIGIL_OK);
	free(text);
	/* an allowlist entry of another size does not apply */
	ck_assert_int_ge(asprintf(&text, "%s:13:Known.Good\n", h.md5), 0);
	ck_assert_int_eq(load_text(e, ".fp", text), VIGIL_OK);
	free(text);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	r = scan(e, hello, strlen(hello));
	ck_assert_pstr_eq(only_finding(r, NULL), "Listed.Md5");
	vigil_result_free(r);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_allowlist_sets_flag)
{
	struct hexes h = hexes_of(hello, strlen(hello));
	char *text;
	vigil_engine *e = new_engine(0);
	vigil_scanner *s = NULL;
	vigil_result *r = vg_result_new();

	ck_assert_int_ge(asprintf(&text, "%s:*:Known.Good\n", h.md5), 0);
	ck_assert_int_eq(load_text(e, ".fp", text), VIGIL_OK);
	free(text);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);

	/* the stage alone, as the pipeline calls it */
	vg_ctx ctx = { .scanner = s, .engine = e, .result = r };
	vg_layer layer = { .data = (const uint8_t *)hello, .size = 12,
	                   .layer_path = "", .fd = -1 };
	ck_assert_int_eq(vg_digest_compute(layer.data, layer.size,
	                 vg_stages[VG_STAGE_hash]->digests(e, 12),
	                 &layer.digest), 0);
	ck_assert_int_eq(vg_stages[VG_STAGE_hash]->scan(&ctx, &layer, NULL),
	                 VIGIL_OK);
	ck_assert_int_eq(ctx.allowlisted, 1);
	ck_assert_uint_eq(r->nfindings, 0);

	layer.data = (const uint8_t *)"hello world?";
	ctx.allowlisted = 0;
	ck_assert_int_eq(vg_digest_compute(layer.data, layer.size,
	                 VG_DIGEST_MD5 | VG_DIGEST_SHA256, &layer.digest), 0);
	ck_assert_int_eq(vg_stages[VG_STAGE_hash]->scan(&ctx, &layer, NULL),
	                 VIGIL_OK);
	ck_assert_int_eq(ctx.allowlisted, 0);
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_digests_hook)
{
	unsigned (*digests)(const vigil_engine *, uint64_t) =
		vg_stages[VG_STAGE_hash]->digests;
	vigil_engine *e = new_engine(1);
	char *text;

	ck_assert_ptr_nonnull(digests);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	/* no sets: never MD5 or SHA-1, not even for clam.exe's size (the
	 * built-ins match on SHA-256, asked for at that size only) */
	ck_assert_uint_eq(digests(e, 12), 0);
	ck_assert_uint_eq(digests(e, 544), VG_DIGEST_SHA256);
	vigil_engine_free(e);

	e = new_engine(0);
	ck_assert_int_ge(asprintf(&text,
		"%032d:100:M\n%064d:200:S256\n%040d:300:S1\n%032d:300:M2\n",
		0, 0, 0, 1), 0);
	ck_assert_int_eq(load_text(e, ".hdb", text), VIGIL_OK);
	free(text);
	ck_assert_int_ge(asprintf(&text, "%032d:50:Allowed\n", 2), 0);
	ck_assert_int_eq(load_text(e, ".fp", text), VIGIL_OK);
	free(text);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	/* SHA-256 whenever a set has SHA-256 entries, whatever the size */
	ck_assert_uint_eq(digests(e, 100), VG_DIGEST_MD5 | VG_DIGEST_SHA256);
	ck_assert_uint_eq(digests(e, 50), VG_DIGEST_MD5 | VG_DIGEST_SHA256);
	ck_assert_uint_eq(digests(e, 200), VG_DIGEST_SHA256);
	ck_assert_uint_eq(digests(e, 300), VG_DIGEST_MD5 | VG_DIGEST_SHA1 |
	                                   VG_DIGEST_SHA256);
	ck_assert_uint_eq(digests(e, 0), VG_DIGEST_SHA256);
	ck_assert_uint_eq(digests(e, 99), VG_DIGEST_SHA256);
	ck_assert_uint_eq(digests(e, 101), VG_DIGEST_SHA256);
	ck_assert_uint_eq(digests(e, 1ull << 40), VG_DIGEST_SHA256);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_md5_computed_only_when_needed)
{
	struct hexes h = hexes_of(hello, strlen(hello));
	vigil_scanner *s = NULL;
	vigil_result *r = vg_result_new();
	vigil_engine *e = new_engine(0);
	char *text;

	ck_assert_int_ge(asprintf(&text, "%s:12:Hello.Md5\n", h.md5), 0);
	ck_assert_int_eq(load_text(e, ".hdb", text), VIGIL_OK);
	free(text);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);

	/* the pipeline itself: the layer's digests after a run */
	vg_ctx ctx = { .scanner = s, .engine = e, .result = r };
	vg_layer a = { .data = (const uint8_t *)hello, .size = 12,
	               .name = "", .path = "", .layer_path = "", .depth = 1,
	               .fd = -1, .owner = "" };
	vg_layer b = a;
	b.data = (const uint8_t *)"hello world!!\n";
	b.size = 14;
	ck_assert_int_eq(vg_pipeline_run(&ctx, &a), VIGIL_OK);
	ck_assert_uint_eq(a.digest.have & VG_DIGEST_MD5, VG_DIGEST_MD5);
	ck_assert_uint_eq(r->nfindings, 1);
	ck_assert_int_eq(vg_pipeline_run(&ctx, &b), VIGIL_OK);
	ck_assert_uint_eq(b.digest.have & (VG_DIGEST_MD5 | VG_DIGEST_SHA1), 0);
	ck_assert_uint_eq(r->nfindings, 1);
	vigil_result_free(r);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_load_directory)
{
	struct hexes h = hexes_of(hello, strlen(hello));
	const char *tmp = getenv("TMPDIR");
	char dir[4096], p[4200];
	FILE *f;
	vigil_engine *e = new_engine(0);

	snprintf(dir, sizeof dir, "%s/vigil-hashdb-dir-XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(p, sizeof p, "%s/a.hdb", dir);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fprintf(f, "%s:12:Dir.Hello\n", h.md5);
	fclose(f);
	snprintf(p, sizeof p, "%s/b.hsb", dir);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fprintf(f, "%064d:1:Dir.Other\n", 7);
	fclose(f);
	snprintf(p, sizeof p, "%s/notes.txt", dir);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fprintf(f, "not a signature file\n");
	fclose(f);

	ck_assert_int_eq(vigil_engine_load(e, dir), VIGIL_OK);
	ck_assert_uint_eq(vigil_engine_signature_count(e), 2);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	vigil_result *r = scan(e, hello, strlen(hello));
	ck_assert_pstr_eq(only_finding(r, NULL), "Dir.Hello");
	vigil_result_free(r);
	vigil_engine_free(e);
	for (const char *n = "a.hdb\0b.hsb\0notes.txt\0"; *n; n += strlen(n) + 1) {
		snprintf(p, sizeof p, "%s/%s", dir, n);
		unlink(p);
	}
	rmdir(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A million entries                                                   */
/* ------------------------------------------------------------------ */

#define BIG_N 1000000

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Entry i of the generated list: kind i % 3 (MD5, SHA-1, SHA-256), a
 * random digest and size, and a unique name shaped like ClamAV's. */
static void big_entry(uint64_t i, uint8_t hash[32], uint32_t *size,
                      vg_hash_kind *kind)
{
	uint64_t s = i * 0x5851f42d4c957f2dull;
	for (int j = 0; j < 32; j += 8) {
		uint64_t v = splitmix(&s);
		memcpy(hash + j, &v, 8);
	}
	*size = (uint32_t)(splitmix(&s) % 10000000) + 1;
	*kind = (vg_hash_kind)(i % 3);
}

static char *write_big_list(void)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	FILE *f;
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	ck_assert_int_ge(asprintf(&path, "%s/vigil-hashdb-big-XXXXXX.hdb", dir), 0);
	ck_assert_int_ge(fd = mkstemps(path, 4), 0);
	ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	for (uint64_t i = 0; i < BIG_N; i++) {
		uint8_t hash[32];
		char hex[65];
		uint32_t size;
		vg_hash_kind kind;
		big_entry(i, hash, &size, &kind);
		vg_hex(hash, vg_hash_len(kind), hex);
		fprintf(f, "%s:%u:Win.Test.Generated-%07u-0\n", hex, size,
		        (unsigned)i);
	}
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static double seconds_since(clockid_t clock, const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(clock, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

START_TEST(test_million_entries)
{
	char *path = write_big_list();
	vigil_engine *e = new_engine(0);
	vg_hashdb *db;
	struct timespec t0, c0;
	size_t heap0, heap1, counted;
	double secs, cpu;

	heap0 = heap_in_use();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	ck_assert_ptr_nonnull(db = vg_hashdb_new());
	ck_assert_int_eq(vg_hashdb_load(db, e, path), VIGIL_OK);
	ck_assert_int_eq(vg_hashdb_freeze(db), VIGIL_OK);
	cpu = seconds_since(CLOCK_PROCESS_CPUTIME_ID, &c0);
	secs = seconds_since(CLOCK_MONOTONIC, &t0);
	heap1 = heap_in_use();
	counted = vg_hashdb_memory(db);
	unlink(path);
	free(path);

	printf("hashdb: %d entries (MD5, SHA-1, SHA-256 in thirds, unique "
	       "names): load+freeze %.3f s CPU (%.3f s wall), %.1f bytes/entry "
	       "counted", BIG_N, cpu, secs, (double)counted / BIG_N);
	if (!UNDER_SANITIZER) /* its allocator keeps no mallinfo2 figures */
		printf(", %.1f bytes/entry heap (mallinfo2)",
		       (double)(heap1 - heap0) / BIG_N);
	printf("\n");
	fflush(stdout);
	ck_assert_uint_eq(vg_hashdb_count(db), BIG_N);
	ck_assert_uint_lt(counted, (size_t)64 * BIG_N);
	if (!UNDER_SANITIZER) {
		/* the sanitizer's allocator and speed make both moot there */
		ck_assert_uint_lt(heap1 - heap0, (size_t)64 * BIG_N);
	}
	/* its speed is bench/hashdb_bench's to measure, not a test's */

	/* every 7th entry is found, by its size; a changed size is not.
	 * Counted first and checked after, so the timing is the look-ups'
	 * (each Check assertion costs a write to a pipe). */
	size_t looked = 0, found = 0, wrong = 0, misses = 0, md5_asked = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t i = 0; i < BIG_N; i += 7, looked++) {
		uint8_t hash[32];
		uint32_t size;
		vg_hash_kind kind;
		char want[64];
		const char *name;
		big_entry(i, hash, &size, &kind);
		snprintf(want, sizeof want, "Win.Test.Generated-%07u-0", (unsigned)i);
		name = vg_hashdb_lookup(db, kind, hash, size);
		found += name && strcmp(name, want) == 0;
		wrong += vg_hashdb_lookup(db, kind, hash, size + 1) != NULL;
		hash[5] ^= 1;
		misses += vg_hashdb_lookup(db, kind, hash, size) == NULL;
		if (kind == VG_HASH_MD5)
			md5_asked += (vg_hashdb_digests(db, size) & VG_DIGEST_MD5) != 0;
	}
	printf("hashdb: %.0f ns per entry checked (3 look-ups, name compare)\n",
	       seconds_since(CLOCK_MONOTONIC, &t0) * 1e9 / (double)looked);
	fflush(stdout);
	ck_assert_uint_eq(found, looked);
	ck_assert_uint_eq(wrong, 0);
	ck_assert_uint_eq(misses, looked);
	ck_assert_uint_eq(md5_asked, (looked + 2) / 3);
	vg_hashdb_free(db);
	vigil_engine_free(e);
}
END_TEST


/* ------------------------------------------------------------------ */
/* Images (the form bundles map)                                       */
/* ------------------------------------------------------------------ */

struct image_buf {
	uint8_t *p;
	size_t n, cap;
};

static vigil_error image_put(void *ud, const void *p, size_t n)
{
	struct image_buf *b = ud;
	ck_assert_uint_le(b->n + n, b->cap);
	memcpy(b->p + b->n, p, n);
	b->n += n;
	return VIGIL_OK;
}

static void fill_hash(uint8_t *h, size_t len, unsigned i)
{
	for (size_t j = 0; j < len; j++)
		h[j] = (uint8_t)(i * 131 + j * 7 + (i >> 8));
}

START_TEST(test_image_roundtrip)
{
	struct image_buf img = { aligned_alloc(4096, 1 << 22), 0, 1 << 22 };
	vg_hashdb *db = vg_hashdb_new(), *m = NULL;
	char why[256], name[32];
	uint8_t h[32];

	ck_assert_ptr_nonnull(img.p);
	for (unsigned i = 0; i < 3000; i++) {
		vg_hash_kind k = (vg_hash_kind)(i % 3);
		fill_hash(h, vg_hash_len(k), i);
		snprintf(name, sizeof name, "Image.%u", i % 50);
		ck_assert_int_eq(vg_hashdb_add(db, k, h, i % 7 ? 1000 + i
		                               : VG_HASH_ANY_SIZE, name,
		                               strlen(name)), VIGIL_OK);
	}
	ck_assert_int_eq(vg_hashdb_freeze(db), VIGIL_OK);
	ck_assert_int_eq(vg_hashdb_write_image(db, image_put, &img), VIGIL_OK);
	ck_assert_int_eq(vg_hashdb_map_image(img.p, img.n, &m, why, sizeof why),
	                 VIGIL_OK);
	ck_assert_uint_eq(vg_hashdb_count(m), vg_hashdb_count(db));
	/* the mapped set owns no copy of the arrays */
	ck_assert_uint_lt(vg_hashdb_memory(m), 1024);
	for (unsigned i = 0; i < 3000; i++) {
		vg_hash_kind k = (vg_hash_kind)(i % 3);
		uint64_t size = 1000 + i;
		fill_hash(h, vg_hash_len(k), i);
		const char *a = vg_hashdb_lookup(db, k, h, size);
		const char *b = vg_hashdb_lookup(m, k, h, size);
		ck_assert_ptr_nonnull(a);
		ck_assert_ptr_nonnull(b);
		ck_assert_str_eq(a, b);
		ck_assert_uint_eq(vg_hashdb_digests(db, size),
		                  vg_hashdb_digests(m, size));
		h[0] ^= 0xff;
		ck_assert_ptr_null(vg_hashdb_lookup(m, k, h, size));
	}
	vg_hashdb_free(m);

	/* damaged images: refused, or look-ups that find nothing */
	uint8_t save[8];
	memcpy(save, img.p + 24 + 8, 4);
	img.p[24 + 8] = 17; /* MD5 index bits beyond the limit */
	ck_assert_int_eq(vg_hashdb_map_image(img.p, img.n, &m, why, sizeof why),
	                 VIGIL_EDATABASE);
	memcpy(img.p + 24 + 8, save, 4);
	memcpy(save, img.p + 24 + 24, 8);
	memset(img.p + 24 + 24, 0x7f, 8); /* MD5 records far outside */
	ck_assert_int_eq(vg_hashdb_map_image(img.p, img.n, &m, why, sizeof why),
	                 VIGIL_EDATABASE);
	memcpy(img.p + 24 + 24, save, 8);
	ck_assert_int_eq(vg_hashdb_map_image(img.p, img.n - 1, &m, why,
	                                     sizeof why), VIGIL_EDATABASE);
	ck_assert_int_eq(vg_hashdb_map_image(img.p, 100, &m, why, sizeof why),
	                 VIGIL_EDATABASE);
	/* an index pointing past the records is caught at look-up */
	uint64_t index_off;
	memcpy(&index_off, img.p + 24 + 32, 8);
	memset(img.p + index_off, 0xff, 64);
	ck_assert_int_eq(vg_hashdb_map_image(img.p, img.n, &m, why, sizeof why),
	                 VIGIL_OK);
	for (unsigned i = 0; i < 3000; i += 3) {
		fill_hash(h, 16, i);
		(void)vg_hashdb_lookup(m, VG_HASH_MD5, h, 1000 + i);
	}
	vg_hashdb_free(m);
	vg_hashdb_free(db);
	free(img.p);
}
END_TEST

static Suite *hashdb_suite(void)
{
	Suite *s = suite_create("hashdb");
	TCase *tc = tcase_create("formats");
	tcase_add_test(tc, test_parse_all_kinds);
	tcase_add_test(tc, test_same_name_reported_once);
	tcase_add_loop_test(tc, test_bad_lines, 0,
	                    (int)(sizeof bad_lines / sizeof *bad_lines));
	tcase_add_test(tc, test_bad_bytes);
	tcase_add_test(tc, test_last_line_without_newline);
	tcase_add_test(tc, test_size_must_match);
	tcase_add_test(tc, test_any_size);
	tcase_add_test(tc, test_allowlist_wins);
	tcase_add_test(tc, test_allowlist_sets_flag);
	tcase_add_test(tc, test_digests_hook);
	tcase_add_test(tc, test_md5_computed_only_when_needed);
	tcase_add_test(tc, test_load_directory);
	tcase_add_test(tc, test_image_roundtrip);
	suite_add_tcase(s, tc);

	tc = tcase_create("scale");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_million_entries);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hashdb_suite());
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
