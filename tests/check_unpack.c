/*
 * check_unpack.c - the unpacker registry, the member sink's limits and
 * the ClamAV database stage, on archives built here with libarchive's
 * writer. A ClamAV body signature (.ndb) marks the member that must be
 * reached, so the ClamAV stage is tested on every layer as well.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/vigil.h"

#define MARK "vigil-unpack-test-mark-7c1e"

/* in the build folder, where make check runs */
static char dbpath[] = "check-unpack-XXXXXX.ndb";

/* An archive in memory: format and filter names as libarchive's
 * archive_write_set_format_by_name / add_filter_by_name take them. */
typedef struct built {
	uint8_t *data;
	size_t size;
} built;

typedef struct member {
	const char *name;
	const void *data;
	size_t size;
} member;

static built build(const char *format, const char *filter,
                   const char *options, const member *m, size_t n)
{
	struct archive *a = archive_write_new();
	size_t cap = 64u << 20, used = 0;
	built b = { malloc(cap), 0 };

	ck_assert_ptr_nonnull(b.data);
	ck_assert_int_eq(archive_write_set_format_by_name(a, format), ARCHIVE_OK);
	if (filter)
		ck_assert_int_eq(archive_write_add_filter_by_name(a, filter),
		                 ARCHIVE_OK);
	if (options) {
		ck_assert_int_eq(archive_write_set_options(a, options), ARCHIVE_OK);
		ck_assert_int_eq(archive_write_set_passphrase(a, "secret"),
		                 ARCHIVE_OK);
	}
	ck_assert_int_eq(archive_write_open_memory(a, b.data, cap, &used),
	                 ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_size(e, (la_int64_t)m[i].size);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
		ck_assert_int_eq(archive_write_data(a, m[i].data, m[i].size),
		                 (la_ssize_t)m[i].size);
		archive_entry_free(e);
	}
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	b.size = used;
	return b;
}

static vigil_result *scan_with(const built *b, const char *name,
                               vigil_limit limit, uint64_t value,
                               vigil_option option)
{
	vigil_engine *e;
	vigil_scanner *s;
	vigil_result *r = NULL;

	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	vigil_engine_set_option(e, VIGIL_OPT_NO_DEFAULT_SIGNATURES, 1);
	vigil_engine_set_option(e, VIGIL_OPT_NO_ML, 1);
	vigil_engine_set_limit(e, VIGIL_LIMIT_CACHE_ENTRIES, 0);
	if (value)
		vigil_engine_set_limit(e, limit, value);
	if ((int)option >= 0)
		vigil_engine_set_option(e, option, 1);
	ck_assert_msg(vigil_engine_load(e, dbpath) == VIGIL_OK, "%s",
	              vigil_engine_last_error(e));
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	ck_assert_int_eq(vigil_scan_mem(s, b->data, b->size, name, &r), VIGIL_OK);
	vigil_scanner_free(s);
	vigil_engine_free(e);
	return r;
}

static vigil_result *scan(const built *b, const char *name)
{
	return scan_with(b, name, 0, 0, (vigil_option)-1);
}

/* The finding with this name (a prefix), or NULL. */
static const vigil_finding *find(const vigil_result *r, const char *name)
{
	for (size_t i = 0; i < vigil_result_finding_count(r); i++) {
		const vigil_finding *f = vigil_result_finding(r, i);
		if (strncmp(vigil_finding_name(f), name, strlen(name)) == 0)
			return f;
	}
	return NULL;
}

static void setup(void)
{
	int fd = mkstemps(dbpath, 4);
	char line[256];
	size_t n = 0;

	ck_assert_int_ge(fd, 0);
	n = (size_t)snprintf(line, sizeof line, "Vigil.Test.Mark:0:*:");
	for (const char *p = MARK; *p; p++)
		n += (size_t)snprintf(line + n, sizeof line - n, "%02x",
		                      (unsigned char)*p);
	line[n++] = '\n';
	ck_assert_int_eq(write(fd, line, n), (ssize_t)n);
	close(fd);
}

static void teardown(void)
{
	unlink(dbpath);
}

START_TEST(test_nested_layer_path)
{
	static const char payload[] = "some text then " MARK " and more";
	member inner = { "payload.txt", payload, sizeof payload - 1 };
	built tgz = build("ustar", "gzip", NULL, &inner, 1);
	member outer[] = {
		{ "readme.txt", "nothing here", 12 },
		{ "dir/inner.tar.gz", tgz.data, tgz.size },
	};
	built zip = build("zip", NULL, NULL, outer, 2);
	vigil_result *r = scan(&zip, "outer.zip");
	const vigil_finding *f = find(r, "Vigil.Test.Mark");

	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(vigil_finding_stage(f), "clamav");
	ck_assert_str_eq(vigil_finding_layer(f), "dir/inner.tar.gz!payload.txt");
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_MALICIOUS);
	/* one layer, one finding: no layer was scanned twice */
	ck_assert_uint_eq(vigil_result_finding_count(r), 1);
	vigil_result_free(r);
	free(tgz.data);
	free(zip.data);
}
END_TEST

static size_t count(const vigil_result *r, const char *name);

/* With databases loaded, a layer libclamav unpacks (a mail here) gets one
 * libclamav pass, the unpacker's, which also matches: its attachment is
 * found once, on its own layer, and the mail itself is not matched
 * again by the clamav stage. */
START_TEST(test_clamav_one_pass)
{
	static const char mail[] =
		"From: a@example.com\r\nTo: b@example.com\r\n"
		"Subject: t\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
		"--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
		"--XX\r\nContent-Type: application/octet-stream\r\n"
		"Content-Disposition: attachment; filename=\"payload.txt\"\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n"
		/* base64 of "xx vigil-unpack-test-mark-7c1e xx" */
		"eHggdmlnaWwtdW5wYWNrLXRlc3QtbWFyay03YzFlIHh4\r\n"
		"--XX--\r\n";
	built b = { (uint8_t *)mail, sizeof mail - 1 };
	vigil_result *r = scan(&b, "message.eml");
	const vigil_finding *f = find(r, "Vigil.Test.Mark");

	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(vigil_finding_stage(f), "clamav");
	ck_assert_ptr_nonnull(strstr(vigil_finding_layer(f), "payload.txt"));
	ck_assert_uint_eq(count(r, vigil_finding_name(f)), 1);
	vigil_result_free(r);
}
END_TEST

/* A raw stream's member is named after the layer without its suffix. */
START_TEST(test_raw_stream_name)
{
	static const char payload[] = "xx " MARK " xx";
	member m = { "payload.bin", payload, sizeof payload - 1 };
	built sz = build("7zip", NULL, NULL, &m, 1);
	member raw = { "x", sz.data, sz.size };
	built gz = build("raw", "gzip", NULL, &raw, 1);
	vigil_result *r = scan(&sz, "bundle.7z");
	const vigil_finding *f = find(r, "Vigil.Test.Mark");

	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(vigil_finding_layer(f), "payload.bin");
	vigil_result_free(r);
	r = scan(&gz, "bundle.7z.gz");
	f = find(r, "Vigil.Test.Mark");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(vigil_finding_layer(f), "bundle.7z!payload.bin");
	ck_assert_uint_eq(vigil_result_finding_count(r), 1);
	vigil_result_free(r);
	free(sz.data);
	free(gz.data);
}
END_TEST

START_TEST(test_no_unpack)
{
	static const char payload[] = MARK;
	member m = { "p", payload, sizeof payload - 1 };
	built tgz = build("ustar", "gzip", NULL, &m, 1);
	vigil_result *r = scan_with(&tgz, "p.tgz", 0, 0, VIGIL_OPT_NO_UNPACK);

	ck_assert_ptr_null(find(r, "Vigil.Test.Mark"));
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_CLEAN);
	vigil_result_free(r);
	free(tgz.data);
}
END_TEST

START_TEST(test_ratio_limit_keeps_earlier_findings)
{
	static const char payload[] = MARK;
	size_t big = 4u << 20;
	uint8_t *zeros = calloc(1, big);
	member m[] = { { "first", payload, sizeof payload - 1 },
	               { "zeros", zeros, big } };
	built tgz = build("ustar", "gzip", NULL, m, 2);
	vigil_result *r = scan_with(&tgz, "z.tgz", VIGIL_LIMIT_MAX_RATIO, 10,
	                            (vigil_option)-1);
	const vigil_finding *lim = find(r, "Limit.MaxRatio");

	ck_assert_ptr_nonnull(lim);
	ck_assert_int_eq(vigil_finding_verdict(lim), VIGIL_INCOMPLETE);
	ck_assert_str_eq(vigil_finding_layer(lim), "zeros");
	ck_assert_ptr_nonnull(find(r, "Vigil.Test.Mark"));
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_MALICIOUS);
	vigil_result_free(r);
	free(tgz.data);
	free(zeros);
}
END_TEST

/* A member is held to the file-size limit too (it once came back CLEAN). */
START_TEST(test_member_over_filesize)
{
	uint8_t blob[4000];
	member m = { "dir/big.txt", blob, sizeof blob };
	built zip;
	vigil_result *r;
	const vigil_finding *f;

	memset(blob, 'a', sizeof blob);
	zip = build("zip", NULL, NULL, &m, 1);
	ck_assert_uint_lt(zip.size, 1024);
	r = scan_with(&zip, "small.zip", VIGIL_LIMIT_MAX_FILESIZE, 1024,
	              (vigil_option)-1);
	f = find(r, "Limit.MaxFileSize");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(vigil_finding_name(f),
	                 vigil_limit_name(VIGIL_LIMIT_MAX_FILESIZE));
	ck_assert_str_eq(vigil_finding_layer(f), "dir/big.txt");
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_INCOMPLETE);
	vigil_result_free(r);
	free(zip.data);
}
END_TEST

START_TEST(test_member_size_limit)
{
	uint8_t blob[5000];
	member m = { "blob", blob, sizeof blob };
	built zip;
	vigil_result *r;

	memset(blob, 'x', sizeof blob);
	zip = build("zip", NULL, NULL, &m, 1);
	r = scan_with(&zip, "b.zip", VIGIL_LIMIT_MAX_MEMBER_SIZE, 1000,
	              (vigil_option)-1);
	ck_assert_ptr_nonnull(find(r, "Limit.MaxMemberSize"));
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_INCOMPLETE);
	vigil_result_free(r);
	free(zip.data);
}
END_TEST

START_TEST(test_encrypted_member)
{
	static const char payload[] = MARK;
	member m = { "secret.txt", payload, sizeof payload - 1 };
	built zip = build("zip", NULL, "zip:encryption=zipcrypt", &m, 1);
	vigil_result *r = scan(&zip, "enc.zip");
	const vigil_finding *f = find(r, "Unpack.Encrypted");

	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(vigil_finding_layer(f), "secret.txt");
	ck_assert_int_eq(vigil_finding_verdict(f), VIGIL_CLEAN);
	vigil_result_free(r);

	r = scan_with(&zip, "enc.zip", 0, 0, VIGIL_OPT_ENCRYPTED_SUSPICIOUS);
	ck_assert_ptr_nonnull(find(r, "Unpack.Encrypted"));
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_SUSPICIOUS);
	vigil_result_free(r);
	free(zip.data);
}
END_TEST

/* How many findings carry this exact name. */
static size_t count(const vigil_result *r, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < vigil_result_finding_count(r); i++)
		n += strcmp(vigil_finding_name(vigil_result_finding(r, i)), name) == 0;
	return n;
}

START_TEST(test_extracted_limit)
{
	static uint8_t blob[5000];
	member m[] = { { "a", blob, sizeof blob }, { "b", blob, sizeof blob },
	               { "c", blob, sizeof blob } };
	built zip = build("zip", NULL, NULL, m, 3);
	vigil_result *r = scan_with(&zip, "x.zip", VIGIL_LIMIT_MAX_EXTRACTED,
	                            8000, (vigil_option)-1);

	ck_assert_uint_eq(count(r, "Limit.MaxExtracted"), 1);
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_INCOMPLETE);
	vigil_result_free(r);
	free(zip.data);
}
END_TEST

/* Small members never trip the ratio, however well they compress. */
START_TEST(test_ratio_min_size)
{
	size_t size = 512u << 10;
	uint8_t *zeros = calloc(1, size);
	member m = { "zeros", zeros, size };
	built tgz = build("ustar", "gzip", NULL, &m, 1);
	vigil_result *r = scan(&tgz, "z.tgz");     /* default: past 1 MB */

	ck_assert_ptr_null(find(r, "Limit.MaxRatio"));
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_CLEAN);
	vigil_result_free(r);
	r = scan_with(&tgz, "z.tgz", VIGIL_LIMIT_RATIO_MIN_SIZE, 64u << 10,
	              (vigil_option)-1);
	ck_assert_ptr_nonnull(find(r, "Limit.MaxRatio"));
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_INCOMPLETE);
	vigil_result_free(r);
	free(tgz.data);
	free(zeros);
}
END_TEST

/* A limit hit by every member is named once. */
START_TEST(test_limit_named_once)
{
	static uint8_t blob[2000];
	member m[] = { { "a", blob, sizeof blob }, { "b", blob, sizeof blob },
	               { "c", blob, sizeof blob } };
	built tar = build("ustar", NULL, NULL, m, 3);
	vigil_result *r = scan_with(&tar, "x.tar", VIGIL_LIMIT_MAX_MEMBER_SIZE,
	                            1000, (vigil_option)-1);

	ck_assert_uint_eq(count(r, "Limit.MaxMemberSize"), 1);
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_INCOMPLETE);
	vigil_result_free(r);
	free(tar.data);
}
END_TEST

START_TEST(test_scan_time_limit)
{
	enum { N = 5000 };
	static member m[N];
	static char names[N][16];
	static const char text[] = "some member text\n";
	built zip;
	vigil_result *r;

	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "m%d.txt", i);
		m[i] = (member){ names[i], text, sizeof text - 1 };
	}
	zip = build("zip", NULL, NULL, m, N);
	r = scan_with(&zip, "many.zip", VIGIL_LIMIT_MAX_SCAN_MS, 1,
	              (vigil_option)-1);
	ck_assert_uint_eq(count(r, "Limit.ScanTime"), 1);
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_INCOMPLETE);
	vigil_result_free(r);
	free(zip.data);
}
END_TEST

START_TEST(test_depth_limit)
{
	static const char payload[] = MARK;
	member m = { "p", payload, sizeof payload - 1 };
	built cur = build("ustar", "gzip", NULL, &m, 1);
	vigil_result *r;

	/* compressed, so the mark shows only in the innermost member */
	for (int i = 0; i < 5; i++) {
		member w = { "n.tgz", cur.data, cur.size };
		built next = build("ustar", "gzip", NULL, &w, 1);
		free(cur.data);
		cur = next;
	}
	r = scan_with(&cur, "deep.tgz", VIGIL_LIMIT_MAX_DEPTH, 3,
	              (vigil_option)-1);
	ck_assert_ptr_nonnull(find(r, "Limit.MaxDepth"));
	ck_assert_ptr_null(find(r, "Vigil.Test.Mark"));
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_INCOMPLETE);
	vigil_result_free(r);
	r = scan(&cur, "deep.tgz");
	ck_assert_ptr_nonnull(find(r, "Vigil.Test.Mark"));
	ck_assert_str_eq(vigil_finding_layer(find(r, "Vigil.Test.Mark")),
	                 "n.tgz!n.tgz!n.tgz!n.tgz!n.tgz!p");
	vigil_result_free(r);
	free(cur.data);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("unpack");
	TCase *tc = tcase_create("unpack");
	SRunner *sr;
	int failed;

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_nested_layer_path);
	tcase_add_test(tc, test_raw_stream_name);
	tcase_add_test(tc, test_clamav_one_pass);
	tcase_add_test(tc, test_no_unpack);
	tcase_add_test(tc, test_ratio_limit_keeps_earlier_findings);
	tcase_add_test(tc, test_member_size_limit);
	tcase_add_test(tc, test_member_over_filesize);
	tcase_add_test(tc, test_encrypted_member);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_extracted_limit);
	tcase_add_test(tc, test_ratio_min_size);
	tcase_add_test(tc, test_limit_named_once);
	tcase_add_test(tc, test_scan_time_limit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
