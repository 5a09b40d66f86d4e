/*
 * check_icap_body.c - srv_vigil's body store (icap/body.c): bytes read
 * back identical whether held in memory, staged, written to the file or
 * mapped; spill at the memory limit; a large announced size goes to the
 * file at once; sealing maps the file; appending after the seal fails;
 * given-back space refuses reads.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "icap/body.h"

static const char *tmpdir(void)
{
	const char *d = getenv("TMPDIR");
	return d && *d ? d : "/tmp";
}

/* Bytes that differ at every offset, so a misplaced block shows. */
static unsigned char pat(uint64_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

/* Appends n pattern bytes starting at *at, in pieces of the given size. */
static void fill(struct vg_body *b, uint64_t *at, size_t n, size_t piece)
{
	unsigned char buf[5000];

	ck_assert_uint_le(piece, sizeof buf);
	while (n > 0) {
		size_t k = n < piece ? n : piece;
		for (size_t i = 0; i < k; i++)
			buf[i] = pat(*at + i);
		ck_assert_int_eq(vg_body_append(b, buf, k), 0);
		*at += k;
		n -= k;
	}
}

/* Reads everything from off in pieces (short reads allowed) and checks it. */
static void check_read(struct vg_body *b, uint64_t off, size_t piece)
{
	unsigned char buf[5000];

	while (off < b->size) {
		ssize_t n = vg_body_read(b, off, buf, piece);
		ck_assert_int_gt(n, 0);
		/* one assertion per piece, not per byte: each of Check's
		 * assertions is a write to its parent (minutes under ASan) */
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pat(off + (uint64_t)i))
				ck_abort_msg("byte %llu differs",
				             (unsigned long long)(off + (uint64_t)i));
		off += (uint64_t)n;
	}
	ck_assert_int_eq(vg_body_read(b, off, buf, piece), 0);
}

static void check_data(const struct vg_body *b)
{
	const char *d = vg_body_data(b);

	ck_assert_ptr_nonnull(d);
	for (uint64_t i = 0; i < b->size; i++)
		if ((unsigned char)d[i] != pat(i))
			ck_abort_msg("byte %llu differs", (unsigned long long)i);
}

START_TEST(in_memory)
{
	struct vg_body b;
	uint64_t at = 0;

	vg_body_init(&b, 1 << 20, tmpdir(), 0);
	fill(&b, &at, 300000, 4096);
	ck_assert_int_eq(b.fd, -1);
	check_read(&b, 0, 4064);
	ck_assert_int_eq(vg_body_seal(&b), 0);
	check_data(&b);
	vg_body_free(&b);
}
END_TEST

START_TEST(spill_stage_and_map)
{
	struct vg_body b;
	uint64_t at = 0;
	struct stat st;

	/* a preview of 1024, then c-icap's 4 KB chunks past the limit */
	vg_body_init(&b, 100000, tmpdir(), 0);
	fill(&b, &at, 1024, 1024);
	fill(&b, &at, 2000000 - 1024, 4096);
	ck_assert_int_ge(b.fd, 0);
	ck_assert_uint_eq(b.size, 2000000);
	ck_assert_uint_lt(b.written, b.size); /* some bytes still staged */
	ck_assert_ptr_null(vg_body_data(&b));
	/* reads span the file and the staging buffer */
	check_read(&b, 0, 4064);
	check_read(&b, b.written - 100, 4064);
	ck_assert_int_eq(vg_body_seal(&b), 0);
	ck_assert_uint_eq(b.written, b.size);
	ck_assert_int_eq(fstat(b.fd, &st), 0);
	ck_assert_int_eq(st.st_size, 2000000);
	check_data(&b);
	check_read(&b, 0, 4064);
	/* sealed: nothing more goes in */
	ck_assert_int_eq(vg_body_append(&b, "x", 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	vg_body_free(&b);
}
END_TEST

START_TEST(announced_large_goes_to_file)
{
	struct vg_body b;
	uint64_t at = 0;

	vg_body_init(&b, 1 << 20, tmpdir(), 10u << 20);
	fill(&b, &at, 10, 10);
	ck_assert_int_ge(b.fd, 0); /* file from the first byte */
	fill(&b, &at, 700000, 4096);
	ck_assert_int_ge(vg_body_fd(&b), 0); /* flushes for vigil_scan_fd */
	ck_assert_uint_eq(b.written, b.size);
	fill(&b, &at, 5000, 5000);
	check_read(&b, 0, 4096);
	ck_assert_int_eq(vg_body_seal(&b), 0);
	check_data(&b);
	vg_body_free(&b);

	/* announced small: memory sized to it */
	vg_body_init(&b, 1 << 20, tmpdir(), 5000);
	at = 0;
	fill(&b, &at, 5000, 5000);
	ck_assert_int_eq(b.fd, -1);
	ck_assert_uint_eq(b.cap, 5000);
	vg_body_free(&b);
}
END_TEST

START_TEST(discard_before)
{
	struct vg_body b;
	uint64_t at = 0;
	char c;

	vg_body_init(&b, 4096, tmpdir(), 0);
	fill(&b, &at, 3u << 20, 4096);
	vg_body_discard_before(&b, (2u << 20) + 5);
	if (b.punched == 0)
		return; /* the file system keeps the bytes: nothing to check */
	ck_assert_uint_eq(b.punched, 2u << 20);
	ck_assert_int_eq(vg_body_read(&b, 0, &c, 1), -1);
	check_read(&b, b.punched, 4064);
	/* a punched body is not mapped; reads still work */
	ck_assert_int_eq(vg_body_seal(&b), 0);
	ck_assert_ptr_null(vg_body_data(&b));
	check_read(&b, b.punched, 4064);
	vg_body_free(&b);
}
END_TEST

START_TEST(empty)
{
	struct vg_body b;
	char c;

	vg_body_init(&b, 4096, tmpdir(), 1 << 20);
	ck_assert_int_eq(vg_body_seal(&b), 0);
	ck_assert_int_eq(vg_body_read(&b, 0, &c, 1), 0);
	vg_body_free(&b);
	vg_body_free(&b); /* twice is harmless */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("icap_body");
	TCase *t = tcase_create("body");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, in_memory);
	tcase_add_test(t, spill_stage_and_map);
	tcase_add_test(t, announced_large_goes_to_file);
	tcase_add_test(t, discard_before);
	tcase_add_test(t, empty);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
