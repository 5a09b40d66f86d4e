/*
 * check_engine.c - engine life cycle, limits, options, errors, scanning
 * entry points and the verdict cache, through the public API.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/vigil.h"
#include "engine/filetype.h"

static vigil_engine *frozen_engine(void)
{
	vigil_engine *e = NULL;
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	return e;
}

START_TEST(test_new_free_null)
{
	vigil_engine_free(NULL);
	vigil_scanner_free(NULL);
	vigil_result_free(NULL);
	ck_assert_int_eq(vigil_engine_new(NULL), VIGIL_EINVAL);
}
END_TEST

START_TEST(test_limits)
{
	vigil_engine *e = NULL;
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_uint_eq(vigil_engine_get_limit(e, VIGIL_LIMIT_MAX_DEPTH), 16);
	ck_assert_uint_eq(vigil_engine_get_limit(e, VIGIL_LIMIT_MAX_MEMBERS), 10000);
	ck_assert_int_eq(vigil_engine_set_limit(e, VIGIL_LIMIT_MAX_DEPTH, 3), VIGIL_OK);
	ck_assert_uint_eq(vigil_engine_get_limit(e, VIGIL_LIMIT_MAX_DEPTH), 3);
	ck_assert_int_eq(vigil_engine_set_limit(e, (vigil_limit)999, 3), VIGIL_EINVAL);
	ck_assert_int_eq(vigil_engine_set_option(e, (vigil_option)999, 1), VIGIL_EINVAL);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_limit(e, VIGIL_LIMIT_MAX_DEPTH, 4), VIGIL_EFROZEN);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_EFROZEN);
	ck_assert_int_eq(vigil_engine_load(e, "x.hdb"), VIGIL_EFROZEN);
	ck_assert_ptr_nonnull(strstr(vigil_engine_last_error(e), "frozen"));
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_limit_names)
{
	ck_assert_str_eq(vigil_limit_name(VIGIL_LIMIT_MAX_DEPTH), "Limit.MaxDepth");
	ck_assert_str_eq(vigil_limit_name(VIGIL_LIMIT_MAX_FILESIZE),
	                 "Limit.MaxFileSize");
	ck_assert_str_eq(vigil_limit_name(VIGIL_LIMIT_MAX_SCAN_MS),
	                 "Limit.ScanTime");
	ck_assert_ptr_null(vigil_limit_name(VIGIL_LIMIT_CACHE_ENTRIES));
	ck_assert_ptr_null(vigil_limit_name(VIGIL_LIMIT_RATIO_MIN_SIZE));
	ck_assert_ptr_null(vigil_limit_name((vigil_limit)VIGIL_LIMIT_COUNT));
	for (int i = 0; i < VIGIL_LIMIT_COUNT; i++) {
		const char *n = vigil_limit_name((vigil_limit)i);
		ck_assert(!n || strncmp(n, "Limit.", 6) == 0);
	}
}
END_TEST

START_TEST(test_scanner_needs_frozen)
{
	vigil_engine *e = NULL;
	vigil_scanner *s = NULL;
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_ENOTFROZEN);
	ck_assert_ptr_null(s);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_load_errors)
{
	vigil_engine *e = NULL;
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_load(e, "/nonexistent/x.hdb"), VIGIL_ENOENT);
	ck_assert_ptr_nonnull(strstr(vigil_engine_last_error(e), "/nonexistent/x.hdb"));

	/* an empty folder is an error: a rule set that loads nothing would
	 * scan everything CLEAN */
	char dir[] = "/tmp/vigil-empty-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(vigil_engine_load(e, dir), VIGIL_EDATABASE);
	ck_assert_ptr_nonnull(strstr(vigil_engine_last_error(e), "no signature"));
	ck_assert_uint_eq(vigil_engine_signature_count(e), 0);
	rmdir(dir);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_strerror_all)
{
	for (int i = 0; i < VIGIL_ERROR_COUNT; i++)
		ck_assert_str_ne(vigil_strerror((vigil_error)i), "unknown error");
	ck_assert_str_eq(vigil_strerror((vigil_error)VIGIL_ERROR_COUNT), "unknown error");
	ck_assert_str_eq(vigil_verdict_name(VIGIL_MALICIOUS), "MALICIOUS");
	ck_assert_str_eq(vigil_verdict_name(VIGIL_INCOMPLETE), "INCOMPLETE");
}
END_TEST

START_TEST(test_scan_mem_empty)
{
	vigil_engine *e = frozen_engine();
	vigil_scanner *s = NULL;
	vigil_result *r = NULL;
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	ck_assert_int_eq(vigil_scan_mem(s, "", 0, "empty", &r), VIGIL_OK);
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_CLEAN);
	ck_assert_str_eq(vigil_result_sha256(r),
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert_str_eq(vigil_result_type(r), "EMPTY");
	vigil_result_free(r);
	ck_assert_int_eq(vigil_scan_mem(s, NULL, 5, "x", &r), VIGIL_EINVAL);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_max_filesize)
{
	vigil_engine *e = NULL;
	vigil_scanner *s = NULL;
	vigil_result *r = NULL;
	char path[] = "/tmp/vigil-big-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "0123456789", 10), 10);
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_limit(e, VIGIL_LIMIT_MAX_FILESIZE, 9), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	ck_assert_int_eq(vigil_scan_mem(s, "0123456789", 10, "m", &r), VIGIL_ETOOLARGE);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(vigil_scan_path(s, path, &r), VIGIL_ETOOLARGE);
	ck_assert_ptr_nonnull(strstr(vigil_scanner_last_error(s), "size limit"));
	ck_assert_int_eq(vigil_scan_mem(s, "012345678", 9, "m", &r), VIGIL_OK);
	vigil_result_free(r);
	close(fd);
	unlink(path);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_scan_path_errors_and_cache)
{
	vigil_engine *e = frozen_engine();
	vigil_scanner *s = NULL;
	vigil_result *r = NULL;
	char path[] = "/tmp/vigil-check-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "hello world\n", 12), 12);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);

	ck_assert_int_eq(vigil_scan_path(s, "/nonexistent", &r), VIGIL_ENOENT);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(vigil_scanner_last_error(s), "/nonexistent"));
	ck_assert_int_eq(vigil_scan_path(s, "/tmp", &r), VIGIL_ENOTREG);

	ck_assert_int_eq(vigil_scan_path(s, path, &r), VIGIL_OK);
	ck_assert_int_eq(vigil_result_cached(r), 0);
	ck_assert_uint_eq(vigil_result_size(r), 12);
	ck_assert_str_eq(vigil_result_type(r), "TEXT");
	ck_assert_str_eq(vigil_result_sha256(r),
		"a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");
	vigil_result_free(r);

	/* unchanged file: served from the cache, same digest */
	ck_assert_int_eq(vigil_scan_path(s, path, &r), VIGIL_OK);
	ck_assert_int_eq(vigil_result_cached(r), 1);
	ck_assert_str_eq(vigil_result_sha256(r),
		"a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");
	vigil_result_free(r);

	/* a write changes the identity: scanned afresh */
	ck_assert_int_eq(pwrite(fd, "J", 1, 0), 1);
	ck_assert_int_eq(vigil_scan_fd(s, fd, path, &r), VIGIL_OK);
	ck_assert_str_ne(vigil_result_sha256(r),
		"a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");
	vigil_result_free(r);

	close(fd);
	unlink(path);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_scan_pipe)
{
	vigil_engine *e = frozen_engine();
	vigil_scanner *s = NULL;
	vigil_result *r = NULL;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "#!/bin/sh\necho hi\n", 18), 18);
	close(p[1]);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	ck_assert_int_eq(vigil_scan_fd(s, p[0], "stdin", &r), VIGIL_OK);
	ck_assert_uint_eq(vigil_result_size(r), 18);
	ck_assert_str_eq(vigil_result_type(r), "SCRIPT");
	vigil_result_free(r);
	close(p[0]);
	vigil_scanner_free(s);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_version)
{
	ck_assert_str_eq(vigil_version(), VIGIL_VERSION_STRING);
	ck_assert_uint_eq(vigil_version_num(), VIGIL_VERSION_NUM);
	ck_assert_ptr_nonnull(strstr(vigil_version_details(), "libyara"));
	ck_assert_ptr_nonnull(strstr(vigil_version_details(), "libclamav"));
	ck_assert_ptr_nonnull(strstr(vigil_version_details(), "OpenSSL"));
}
END_TEST

/* Magic bytes → type, for each type the issue names. */
START_TEST(test_filetype)
{
	static const struct { const char *bytes; size_t len; const char *want; } cases[] = {
		{ "\x7f" "ELF\x02\x01\x01", 7, "ELF" },
		{ "\xcf\xfa\xed\xfe\x07", 5, "MACHO" },
		{ "PK\x03\x04\x14\x00", 6, "ZIP" },
		{ "\x1f\x8b\x08\x00", 4, "GZIP" },
		{ "BZh91AY", 7, "BZIP2" },
		{ "\xfd" "7zXZ\x00\x00", 7, "XZ" },
		{ "\x28\xb5\x2f\xfd\x00", 5, "ZSTD" },
		{ "7z\xbc\xaf\x27\x1c\x00\x04", 8, "7Z" },
		{ "Rar!\x1a\x07\x01\x00", 8, "RAR" },
		{ "070701000", 9, "CPIO" },
		{ "%PDF-1.7\n", 9, "PDF" },
		{ "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "OLE2" },
		{ "{\\rtf1\\ansi", 11, "RTF" },
		{ "<!DOCTYPE html><html>", 21, "HTML" },
		{ "#!/usr/bin/python3\nprint(1)\n", 28, "SCRIPT" },
		{ "plain words\n", 12, "TEXT" },
		{ "From a@b.c  Thu Jul 31 13:49:50 2008\nFrom: a@b.c\n", 49, "MAIL" },
		{ "Received: from x\nSubject: hi\n\nbody\n", 35, "MAIL" },
		/* Python and prose that start like mail are text */
		{ "from os import path\nprint(path)\n", 32, "TEXT" },
		{ "From the man page:\n  You may\n", 29, "TEXT" },
		{ "\x00\x01\x02\x03", 4, "BINARY" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		ck_assert_str_eq(vg_filetype_name(vg_filetype_detect(
			(const uint8_t *)cases[i].bytes, cases[i].len)), cases[i].want);

	/* PE: MZ + e_lfanew -> "PE\0\0"; a bare MZ is not a PE */
	uint8_t pe[256] = { 'M', 'Z' };
	pe[0x3c] = 0x80;
	memcpy(pe + 0x80, "PE\0\0", 4);
	ck_assert_str_eq(vg_filetype_name(vg_filetype_detect(pe, sizeof pe)), "PE");
	pe[0x3c] = 0xfe; /* e_lfanew past the end */
	ck_assert_str_ne(vg_filetype_name(vg_filetype_detect(pe, sizeof pe)), "PE");

	/* tar: "ustar" at 257 */
	uint8_t tar[512] = { 'a' };
	memcpy(tar + 257, "ustar", 5);
	ck_assert_str_eq(vg_filetype_name(vg_filetype_detect(tar, sizeof tar)), "TAR");
}
END_TEST

static Suite *engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_new_free_null);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_limit_names);
	tcase_add_test(tc, test_scanner_needs_frozen);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_strerror_all);
	tcase_add_test(tc, test_scan_mem_empty);
	tcase_add_test(tc, test_max_filesize);
	tcase_add_test(tc, test_scan_path_errors_and_cache);
	tcase_add_test(tc, test_scan_pipe);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_filetype);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(engine_suite());
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
