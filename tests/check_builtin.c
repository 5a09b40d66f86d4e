/*
 * check_builtin.c - the built-in test signatures: EICAR in the forms its
 * standard allows (and not beyond), ClamAV's clam.exe, and
 * VIGIL_OPT_NO_DEFAULT_SIGNATURES.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/digest.h"
#include "signatures/builtin.h"
#include "vigil/vigil.h"

/* Built from two halves so this file is not itself a test virus. */
#define EICAR_A "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-"
#define EICAR_B "ANTIVIRUS-TEST-FILE!$H+H*"

/* Debian's clamav-testfiles, or where CLAMAV_TESTFILES points. */
static const char *testfiles_dir(void)
{
	const char *d = getenv("CLAMAV_TESTFILES");
	return d && *d ? d : "/usr/share/clamav-testfiles";
}

/* The EICAR string followed by tail, in buf; returns the length. */
static size_t eicar_with(char *buf, size_t cap, const char *tail,
                         size_t tail_len)
{
	size_t n = strlen(EICAR_A EICAR_B);
	ck_assert_uint_le(n + tail_len, cap);
	memcpy(buf, EICAR_A EICAR_B, n);
	memcpy(buf + n, tail, tail_len);
	return n + tail_len;
}

static vigil_engine *frozen(int builtins)
{
	vigil_engine *e = NULL;
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_option(e, VIGIL_OPT_NO_DEFAULT_SIGNATURES,
	                                         !builtins), VIGIL_OK);
	/* only this stage's findings are under test */
	ck_assert_int_eq(vigil_engine_set_option(e, VIGIL_OPT_NO_ML, 1), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	return e;
}

/* The name of the first finding of a scan, or NULL for none. */
static const char *scan_name(vigil_engine *e, const void *data, size_t size,
                             char *name, size_t cap)
{
	vigil_scanner *s = NULL;
	vigil_result *r = NULL;
	const char *found = NULL;

	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	ck_assert_int_eq(vigil_scan_mem(s, data, size, "t", &r), VIGIL_OK);
	if (vigil_result_finding_count(r)) {
		const vigil_finding *f = vigil_result_finding(r, 0);
		ck_assert_str_eq(vigil_finding_stage(f), "builtin");
		ck_assert_int_eq(vigil_result_verdict(r), VIGIL_MALICIOUS);
		snprintf(name, cap, "%s", vigil_finding_name(f));
		found = name;
	} else {
		ck_assert_int_eq(vigil_result_verdict(r), VIGIL_CLEAN);
	}
	vigil_result_free(r);
	vigil_scanner_free(s);
	return found;
}

START_TEST(test_eicar_forms)
{
	char buf[256], pad[200], name[128];
	vigil_engine *e = frozen(1);
	size_t n;

	memset(pad, ' ', sizeof pad);
	n = eicar_with(buf, sizeof buf, "", 0);
	ck_assert_uint_eq(n, 68);
	ck_assert_pstr_eq(scan_name(e, buf, n, name, sizeof name),
	                  "Eicar-Test-Signature");
	/* each whitespace character the standard allows */
	n = eicar_with(buf, sizeof buf, " \t\r\n\x1a", 5);
	ck_assert_pstr_eq(scan_name(e, buf, n, name, sizeof name),
	                  "Eicar-Test-Signature");
	/* padded to exactly 128 bytes */
	n = eicar_with(buf, sizeof buf, pad, 60);
	ck_assert_uint_eq(n, 128);
	ck_assert_pstr_eq(scan_name(e, buf, n, name, sizeof name),
	                  "Eicar-Test-Signature");
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_eicar_not_beyond_standard)
{
	char buf[256], pad[200], name[128];
	vigil_engine *e = frozen(1);
	size_t n;

	memset(pad, ' ', sizeof pad);
	/* 129 bytes: one too many */
	n = eicar_with(buf, sizeof buf, pad, 61);
	ck_assert_uint_eq(n, 129);
	ck_assert_ptr_null(scan_name(e, buf, n, name, sizeof name));
	/* something that is not whitespace after it */
	n = eicar_with(buf, sizeof buf, "\nx", 2);
	ck_assert_ptr_null(scan_name(e, buf, n, name, sizeof name));
	n = eicar_with(buf, sizeof buf, "\0", 1);
	ck_assert_ptr_null(scan_name(e, buf, n, name, sizeof name));
	/* one byte changed, or cut short */
	n = eicar_with(buf, sizeof buf, "", 0);
	buf[40] ^= 0x20;
	ck_assert_ptr_null(scan_name(e, buf, n, name, sizeof name));
	buf[40] ^= 0x20;
	ck_assert_ptr_null(scan_name(e, buf, n - 1, name, sizeof name));
	/* not at the start */
	buf[0] = ' ';
	n = eicar_with(buf + 1, sizeof buf - 1, "", 0) + 1;
	ck_assert_ptr_null(scan_name(e, buf, n, name, sizeof name));
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_eicar_off_by_option)
{
	char buf[128], name[128];
	vigil_engine *e = frozen(0);
	size_t n = eicar_with(buf, sizeof buf, "\r\n", 2);

	ck_assert_ptr_null(scan_name(e, buf, n, name, sizeof name));
	ck_assert_uint_eq(vigil_engine_signature_count(e), 0);
	vigil_engine_free(e);
	e = frozen(1);
	ck_assert_uint_eq(vigil_engine_signature_count(e), vg_builtin_count());
	ck_assert_uint_ge(vg_builtin_count(), 2);
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_is_eicar_bounds)
{
	char buf[200];

	ck_assert_int_eq(vg_builtin_is_eicar(NULL, 0), 0);
	ck_assert_int_eq(vg_builtin_is_eicar((const uint8_t *)"X5O", 3), 0);
	size_t n = eicar_with(buf, sizeof buf, "\x1a\x1a", 2);
	ck_assert_int_eq(vg_builtin_is_eicar((const uint8_t *)buf, n), 1);
	ck_assert_int_eq(vg_builtin_is_eicar((const uint8_t *)buf, 67), 0);
}
END_TEST

/* Reads a file of at most cap bytes; returns its size, or -1. */
static long read_file(const char *path, unsigned char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return (long)n;
}

START_TEST(test_clam_exe)
{
	char path[4096], name[128];
	unsigned char buf[4096];
	vigil_engine *e;
	vigil_scanner *s = NULL;
	vigil_result *r = NULL;
	long n;

	snprintf(path, sizeof path, "%s/clam.exe", testfiles_dir());
	n = read_file(path, buf, sizeof buf);
	ck_assert_msg(n == 544, "%s: want the 544-byte clam.exe (install "
	              "clamav-testfiles or set CLAMAV_TESTFILES)", path);

	/* by path, as a user would scan it */
	e = frozen(1);
	ck_assert_int_eq(vigil_scanner_new(e, &s), VIGIL_OK);
	ck_assert_int_eq(vigil_scan_path(s, path, &r), VIGIL_OK);
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_MALICIOUS);
	ck_assert_uint_eq(vigil_result_finding_count(r), 1);
	ck_assert_str_eq(vigil_finding_name(vigil_result_finding(r, 0)),
	                 "ClamAV-Test-File");
	ck_assert_str_eq(vigil_finding_stage(vigil_result_finding(r, 0)),
	                 "builtin");
	vigil_result_free(r);
	vigil_scanner_free(s);
	/* one byte changed is something else */
	buf[300] ^= 1;
	ck_assert_ptr_null(scan_name(e, buf, 544, name, sizeof name));
	buf[300] ^= 1;
	vigil_engine_free(e);

	e = frozen(0);
	ck_assert_ptr_null(scan_name(e, buf, 544, name, sizeof name));
	vigil_engine_free(e);
}
END_TEST

START_TEST(test_clam_exe_md5_agrees)
{
	unsigned char buf[1024];
	char path[4096], *list;
	vg_digest d;
	FILE *f;
	long n;

	snprintf(path, sizeof path, "%s/clam.exe", testfiles_dir());
	ck_assert_int_eq(n = read_file(path, buf, sizeof buf), 544);
	/* with MD5 computed, the embedded MD5 must agree with the file */
	ck_assert_int_eq(vg_digest_compute(buf, (size_t)n, VG_DIGEST_MD5 | VG_DIGEST_SHA256, &d), 0);
	ck_assert_pstr_eq(vg_builtin_hash_match(&d, 544), "ClamAV-Test-File");
	d.md5[0] ^= 1;
	ck_assert_ptr_null(vg_builtin_hash_match(&d, 544));
	d.have = VG_DIGEST_SHA256; /* no MD5: SHA-256 decides */
	ck_assert_pstr_eq(vg_builtin_hash_match(&d, 544), "ClamAV-Test-File");
	ck_assert_ptr_null(vg_builtin_hash_match(&d, 545));

	/* through an engine whose .hdb asks for MD5 at size 544 */
	const char *tmp = getenv("TMPDIR");
	ck_assert_int_ge(asprintf(&list, "%s/vigil-builtin-XXXXXX.hdb",
	                          tmp && *tmp ? tmp : "/tmp"), 0);
	int fd = mkstemps(list, 4);
	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
	fprintf(f, "%032d:544:Unrelated\n", 0);
	fclose(f);
	vigil_engine *e = NULL;
	char name[128];
	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_load(e, list), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_freeze(e), VIGIL_OK);
	ck_assert_uint_eq(vigil_engine_signature_count(e), 1 + vg_builtin_count());
	ck_assert_pstr_eq(scan_name(e, buf, 544, name, sizeof name),
	                  "ClamAV-Test-File");
	vigil_engine_free(e);
	unlink(list);
	free(list);
}
END_TEST

static Suite *builtin_suite(void)
{
	Suite *s = suite_create("builtin");
	TCase *tc = tcase_create("builtin");
	tcase_add_test(tc, test_eicar_forms);
	tcase_add_test(tc, test_eicar_not_beyond_standard);
	tcase_add_test(tc, test_eicar_off_by_option);
	tcase_add_test(tc, test_is_eicar_bounds);
	tcase_add_test(tc, test_clam_exe);
	tcase_add_test(tc, test_clam_exe_md5_agrees);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(builtin_suite());
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
