/*
 * check_quarantine.c - the safety rules of vigil_quarantine_act, with
 * the scan and the action as separate library calls so a test can
 * change the file between them (and, through the test hook, right
 * before the unlink); a vault that was tampered with; the vault's own
 * checks; the record parser on bad input.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/vg.h"
#include "quarantine/qv.h"
#include "quarantine/record.h"
#include "vigil/quarantine.h"
#include "vigil/vigil.h"

static const char eicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-"
                            "ANTIVIRUS-TEST-FILE!$H+H*";

static vigil_engine *engine;
static vigil_scanner *scanner;
static char dir[4096], tree[4200], vault[4200];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static char *path_in(const char *base, const char *name)
{
	/* enough that no test reuses a path it still holds */
	static char buf[32][4400];
	static int next;
	char *p = buf[next++ & 31];

	snprintf(p, sizeof buf[0], "%s/%s", base, name);
	return p;
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof dir, "%s/vigil-check-q-XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(tree, sizeof tree, "%s/tree", dir);
	snprintf(vault, sizeof vault, "%s/vault", dir);
	ck_assert_int_eq(mkdir(tree, 0755), 0);
	ck_assert_int_eq(mkdir(path_in(tree, "sub"), 0755), 0);
	ck_assert_int_eq(vigil_engine_new(&engine), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_freeze(engine), VIGIL_OK);
	ck_assert_int_eq(vigil_scanner_new(engine, &scanner), VIGIL_OK);
}

static void teardown(void)
{
	char cmd[4300];

	vg_q_test_hook = NULL;
	vigil_scanner_free(scanner);
	vigil_engine_free(engine);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Opens and scans path; the caller closes *fd and frees the result. */
static vigil_result *scan(const char *path, int *fd)
{
	vigil_result *r;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(*fd, 0);
	ck_assert_int_eq(vigil_scan_fd(scanner, *fd, path, &r), VIGIL_OK);
	return r;
}

static vigil_quarantine *new_vault(void)
{
	vigil_quarantine *q;

	ck_assert_int_eq(vigil_quarantine_new(vault, &q), VIGIL_OK);
	return q;
}

static uint64_t items(vigil_quarantine *q)
{
	uint64_t n = 99;

	ck_assert_int_eq(vigil_quarantine_usage(q, NULL, &n), VIGIL_OK);
	return n;
}

static ino_t inode(const char *path)
{
	struct stat st;

	ck_assert_int_eq(lstat(path, &st), 0);
	return st.st_ino;
}

START_TEST(test_quarantine_and_restore)
{
	vigil_quarantine *q = new_vault();
	char id[VIGIL_QUARANTINE_ID_SIZE];
	char *f = path_in(tree, "sub/x.com");
	vigil_result *r;
	int fd;

	put(f, eicar);
	r = scan(f, &fd);
	ck_assert_int_eq(vigil_result_verdict(r), VIGIL_MALICIOUS);
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_QUARANTINE, fd,
	                                      tree, f, r, id), VIGIL_OK);
	ck_assert_int_eq(access(f, F_OK), -1);
	ck_assert_int_eq(strlen(id), 16);
	ck_assert_int_eq(items(q), 1);
	ck_assert_int_eq(vigil_quarantine_restore(q, id, NULL, 0), VIGIL_OK);
	ck_assert_int_eq(access(f, F_OK), 0);
	ck_assert_int_eq(items(q), 0);
	close(fd);
	vigil_result_free(r);
	vigil_quarantine_free(q);
}
END_TEST

/* A result built from a verdict reached elsewhere (vigild's workers):
 * acted on like a scan's own, its SHA-256 still guards the bytes. */
START_TEST(test_built_result)
{
	vigil_quarantine *q = new_vault();
	char id[VIGIL_QUARANTINE_ID_SIZE];
	char *f = path_in(tree, "built.com");
	vigil_result *r, *built, *wrong;
	int fd;

	put(f, eicar);
	r = scan(f, &fd);
	ck_assert_ptr_null(vigil_result_new(VIGIL_MALICIOUS, "not hex", 1));
	ck_assert_ptr_null(vigil_result_new((vigil_verdict)9, NULL, 1));
	wrong = vigil_result_new(VIGIL_CLEAN, "00000000000000000000000000000000"
	                         "00000000000000000000000000000000", 68);
	ck_assert_ptr_nonnull(wrong);
	ck_assert_int_eq(vigil_result_add_finding(wrong, "worker-stage", "Eicar", NULL,
	                                          VIGIL_MALICIOUS, 7.0, NULL), VIGIL_OK);
	ck_assert_int_eq(vigil_result_verdict(wrong), VIGIL_MALICIOUS);
	ck_assert_str_eq(vigil_finding_stage(vigil_result_finding(wrong, 0)), "external");
	ck_assert(vigil_finding_score(vigil_result_finding(wrong, 0)) == 1.0);
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_QUARANTINE, fd, tree, f,
	                                      wrong, id), VIGIL_ECHANGED);
	ck_assert_int_eq(access(f, F_OK), 0);
	built = vigil_result_new(VIGIL_CLEAN, vigil_result_sha256(r), 68);
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_QUARANTINE, fd, tree, f,
	                                      built, id), VIGIL_ENODETECTION);
	ck_assert_int_eq(vigil_result_add_finding(built, "builtin", "Eicar-Test-Signature",
	                                          "", VIGIL_MALICIOUS, 1.0, "test"), VIGIL_OK);
	ck_assert_str_eq(vigil_finding_stage(vigil_result_finding(built, 0)), "builtin");
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_QUARANTINE, fd, tree, f,
	                                      built, id), VIGIL_OK);
	ck_assert_int_eq(access(f, F_OK), -1);
	ck_assert_int_eq(items(q), 1);
	close(fd);
	vigil_result_free(r);
	vigil_result_free(built);
	vigil_result_free(wrong);
	vigil_quarantine_free(q);
}
END_TEST

/* Renamed over between the scan and the action: not touched. */
START_TEST(test_renamed_over_before_action)
{
	vigil_quarantine *q = new_vault();
	char *f = path_in(tree, "x.com"), *other = path_in(tree, "y.com");
	vigil_result *r;
	ino_t ino;
	int fd;

	put(f, eicar);
	r = scan(f, &fd);
	put(other, eicar);
	ino = inode(other);
	ck_assert_int_eq(rename(other, f), 0);
	for (int a = VIGIL_ACTION_QUARANTINE; a <= VIGIL_ACTION_REMOVE; a++) {
		ck_assert_int_eq(vigil_quarantine_act(q, (vigil_action)a, fd, tree, f,
		                                      r, NULL), VIGIL_ECHANGED);
		ck_assert_ptr_nonnull(strstr(vigil_quarantine_last_error(q),
		                             "replaced by another file"));
		ck_assert_int_eq(inode(f), ino);
	}
	ck_assert_int_eq(items(q), 0);
	close(fd);
	vigil_result_free(r);
	vigil_quarantine_free(q);
}
END_TEST

/* Renamed over after the item is durable, right before the unlink:
 * not touched, and the item is withdrawn. */
static char *hook_from, *hook_to;
static int hook_calls;

static void swap_hook(const char *point)
{
	if (strcmp(point, "unlink") == 0) {
		hook_calls++;
		ck_assert_int_eq(rename(hook_from, hook_to), 0);
	}
}

START_TEST(test_renamed_over_before_unlink)
{
	vigil_quarantine *q = new_vault();
	char *f = path_in(tree, "sub/x.com"), *other = path_in(tree, "sub/y.com");
	vigil_result *r;
	ino_t ino;
	int fd;

	put(f, eicar);
	put(other, "an innocent file that took the name\n");
	ino = inode(other);
	r = scan(f, &fd);
	hook_from = other;
	hook_to = f;
	vg_q_test_hook = swap_hook;
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_QUARANTINE, fd,
	                                      tree, f, r, NULL), VIGIL_ECHANGED);
	ck_assert_int_eq(hook_calls, 1);
	ck_assert_int_eq(inode(f), ino);
	ck_assert_int_eq(items(q), 0);
	close(fd);
	vigil_result_free(r);
	vigil_quarantine_free(q);
}
END_TEST

/* Written to between the scan and the action: the bytes are not the
 * scanned ones, so nothing is done. */
START_TEST(test_content_changed)
{
	vigil_quarantine *q = new_vault();
	char *f = path_in(tree, "x.com");
	vigil_result *r;
	int fd, wfd;

	put(f, eicar);
	r = scan(f, &fd);
	wfd = open(f, O_WRONLY);
	ck_assert_int_eq(pwrite(wfd, "Y", 1, 0), 1);
	close(wfd);
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_QUARANTINE, fd,
	                                      tree, f, r, NULL), VIGIL_ECHANGED);
	ck_assert_int_eq(access(f, F_OK), 0);
	ck_assert_int_eq(items(q), 0);
	close(fd);
	vigil_result_free(r);
	vigil_quarantine_free(q);
}
END_TEST

START_TEST(test_no_action_without_detection)
{
	vigil_quarantine *q = new_vault();
	char *f = path_in(tree, "x.com");
	vigil_result *clean, *incomplete = vg_result_new();
	int fd;

	put(f, "hello\n");
	clean = scan(f, &fd);
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_REMOVE, fd, tree, f,
	                                      clean, NULL), VIGIL_ENODETECTION);
	/* a limit hit alone is never a reason to act */
	ck_assert_int_eq(vg_result_add(incomplete, "limit", "Limit.MaxDepth", "",
	                               VIGIL_INCOMPLETE, 1, "depth", ""), VIGIL_OK);
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_REMOVE, fd, tree, f,
	                                      incomplete, NULL), VIGIL_ENODETECTION);
	ck_assert_int_eq(access(f, F_OK), 0);
	close(fd);
	vigil_result_free(clean);
	vigil_result_free(incomplete);
	vigil_quarantine_free(q);
}
END_TEST

START_TEST(test_unsafe_paths)
{
	vigil_quarantine *q = new_vault();
	char *f = path_in(tree, "sub/x.com");
	char dotdot[4400], via_link[4400];
	vigil_result *r;
	int fd;

	put(f, eicar);
	r = scan(f, &fd);
	/* outside the root */
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_REMOVE, fd,
	                 path_in(tree, "other"), f, r, NULL), VIGIL_EUNSAFE);
	/* a prefix of a name is not a root */
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_REMOVE, fd,
	                 path_in(tree, "su"), f, r, NULL), VIGIL_EUNSAFE);
	/* ".." below the root */
	snprintf(dotdot, sizeof dotdot, "%s/sub/../sub/x.com", tree);
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_REMOVE, fd, tree,
	                                      dotdot, r, NULL), VIGIL_EUNSAFE);
	/* a symbolic link to a directory, even one inside the tree */
	ck_assert_int_eq(symlink("sub", path_in(tree, "lnk")), 0);
	snprintf(via_link, sizeof via_link, "%s/lnk/x.com", tree);
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_REMOVE, fd, tree,
	                                      via_link, r, NULL), VIGIL_EUNSAFE);
	/* the name itself a symbolic link */
	ck_assert_int_eq(symlink("sub/x.com", path_in(tree, "flink")), 0);
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_REMOVE, fd, tree,
	                 path_in(tree, "flink"), r, NULL), VIGIL_EUNSAFE);
	ck_assert_int_eq(access(f, F_OK), 0);
	/* REPORT checks and changes nothing; REMOVE then removes */
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_REPORT, fd, tree, f,
	                                      r, NULL), VIGIL_OK);
	ck_assert_int_eq(access(f, F_OK), 0);
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_REMOVE, fd,
	                                      tree, f, r, NULL), VIGIL_OK);
	ck_assert_int_eq(access(f, F_OK), -1);
	close(fd);
	vigil_result_free(r);
	vigil_quarantine_free(q);
}
END_TEST

/* Quarantines one EICAR file; returns the item file's path. */
static char *one_item(vigil_quarantine *q, char id[VIGIL_QUARANTINE_ID_SIZE])
{
	char *f = path_in(tree, "x.com"), name[64];
	vigil_result *r;
	int fd;

	put(f, eicar);
	r = scan(f, &fd);
	ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_QUARANTINE, fd,
	                                      tree, f, r, id), VIGIL_OK);
	close(fd);
	vigil_result_free(r);
	snprintf(name, sizeof name, "%s.vq", id);
	return path_in(vault, name);
}

static void flip(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	unsigned char c;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &c, 1, off), 1);
	c ^= 0x20;
	ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static int damaged_seen;

static int count_damaged(const vigil_quarantine_item *it, void *ud)
{
	damaged_seen += vigil_quarantine_item_error(it) == VIGIL_EVAULT;
	return VIGIL_CONTINUE;
}

START_TEST(test_tampered_items)
{
	vigil_quarantine *q = new_vault();
	char id[VIGIL_QUARANTINE_ID_SIZE], id2[VIGIL_QUARANTINE_ID_SIZE];
	char *f = path_in(tree, "x.com"), *item, renamed[4400];
	vigil_quarantine_item *it;
	struct stat st;

	/* one bit of the payload: restore refuses, writes nothing */
	item = one_item(q, id);
	flip(item, 40);
	ck_assert_int_eq(vigil_quarantine_restore(q, id, NULL, 0), VIGIL_EVAULT);
	ck_assert_ptr_nonnull(strstr(vigil_quarantine_last_error(q), "authentication"));
	ck_assert_int_eq(access(f, F_OK), -1);
	ck_assert_int_eq(items(q), 1);
	ck_assert_int_eq(vigil_quarantine_delete(q, id), VIGIL_OK);

	/* one bit of the record: get refuses, list shows it damaged */
	item = one_item(q, id);
	ck_assert_int_eq(stat(item, &st), 0);
	flip(item, st.st_size - 30);
	ck_assert_int_eq(vigil_quarantine_get(q, id, &it), VIGIL_EVAULT);
	damaged_seen = 0;
	ck_assert_int_eq(vigil_quarantine_list(q, count_damaged, NULL), VIGIL_OK);
	ck_assert_int_eq(damaged_seen, 1);
	ck_assert_int_eq(vigil_quarantine_delete(q, id), VIGIL_OK);

	/* cut short */
	item = one_item(q, id);
	ck_assert_int_eq(truncate(item, 50), 0);
	ck_assert_int_eq(vigil_quarantine_get(q, id, &it), VIGIL_EVAULT);
	ck_assert_int_eq(vigil_quarantine_restore(q, id, NULL, 0), VIGIL_EVAULT);
	ck_assert_int_eq(access(f, F_OK), -1);
	ck_assert_int_eq(vigil_quarantine_delete(q, id), VIGIL_OK);

	/* moved to another ID: the ID is authenticated with the bytes */
	item = one_item(q, id);
	strcpy(id2, id);
	id2[0] = id2[0] == 'a' ? 'b' : 'a';
	snprintf(renamed, sizeof renamed, "%s/%s.vq", vault, id2);
	ck_assert_int_eq(rename(item, renamed), 0);
	ck_assert_int_eq(vigil_quarantine_get(q, id2, &it), VIGIL_EVAULT);
	ck_assert_int_eq(rename(renamed, item), 0);
	ck_assert_int_eq(vigil_quarantine_get(q, id, &it), VIGIL_OK);
	ck_assert_str_eq(vigil_quarantine_item_threat(it), "Eicar-Test-Signature");
	vigil_quarantine_item_free(it);
	vigil_quarantine_free(q);
}
END_TEST

START_TEST(test_vault_checks)
{
	vigil_quarantine *q = new_vault();
	char id[VIGIL_QUARANTINE_ID_SIZE], *key = path_in(vault, "key");
	char *tmp_dead = path_in(vault, ".tmp-0123456789abcdef");
	char *tmp_live = path_in(vault, ".tmp-fedcba9876543210");
	int live;

	one_item(q, id);
	vigil_quarantine_free(q);

	/* a temporary nobody holds is swept when a handle opens the vault;
	 * one a writer holds is not */
	put(tmp_dead, "half an item");
	put(tmp_live, "an item being written");
	live = open(tmp_live, O_RDONLY);
	ck_assert_int_eq(flock(live, LOCK_EX), 0);
	q = new_vault();
	ck_assert_int_eq(vigil_quarantine_check(q), VIGIL_OK);
	ck_assert_int_eq(access(tmp_dead, F_OK), -1);
	ck_assert_int_eq(access(tmp_live, F_OK), 0);
	close(live);
	vigil_quarantine_free(q);

	/* a key others can read */
	ck_assert_int_eq(chmod(key, 0644), 0);
	q = new_vault();
	ck_assert_int_eq(vigil_quarantine_check(q), VIGIL_EVAULT);
	ck_assert_ptr_nonnull(strstr(vigil_quarantine_last_error(q), "key"));
	vigil_quarantine_free(q);
	ck_assert_int_eq(chmod(key, 0600), 0);

	/* a vault others can enter */
	ck_assert_int_eq(chmod(vault, 0711), 0);
	q = new_vault();
	ck_assert_int_eq(vigil_quarantine_check(q), VIGIL_EVAULT);
	vigil_quarantine_free(q);
	ck_assert_int_eq(chmod(vault, 0700), 0);

	/* a vault that is a symbolic link */
	ck_assert_int_eq(symlink(vault, path_in(dir, "vlink")), 0);
	ck_assert_int_eq(vigil_quarantine_new(path_in(dir, "vlink"), &q), VIGIL_OK);
	ck_assert_int_eq(vigil_quarantine_check(q), VIGIL_EVAULT);
	vigil_quarantine_free(q);

	/* a vault at its cap: refused, the file stays */
	q = new_vault();
	ck_assert_int_eq(vigil_quarantine_set_max_size(q, 1500), VIGIL_OK);
	{
		char *f = path_in(tree, "x.com");
		vigil_result *r;
		int fd;
		put(f, eicar);
		r = scan(f, &fd);
		ck_assert_int_eq(vigil_quarantine_act(q, VIGIL_ACTION_QUARANTINE, fd,
		                                      tree, f, r, NULL), VIGIL_EFULL);
		ck_assert_int_eq(access(f, F_OK), 0);
		close(fd);
		vigil_result_free(r);
	}
	vigil_quarantine_free(q);
}
END_TEST

/* The parser against records that a tampered vault could hold. */
START_TEST(test_record_parser)
{
	static const char *const bad[] = {
		"", "[]", "{}", "null", "{\"format\":\"vigil-quarantine-record\"}",
		"{\"a\":1,\"a\":2}",
	};
	static const char *const edits[][2] = {
		{ "\"version\": 1", "\"version\": 2" },
		{ "\"mode\": \"0", "\"mode\": \"9" },
		{ "\"mode\": \"", "\"mode\": 416, \"m\": \"" },
		{ "\"size\": ", "\"size\": -1, \"s\": " },
		{ "\"uid\": ", "\"uid\": 4294967296, \"u\": " },
		{ "\"atime_ns\": ", "\"atime_ns\": 1.5, \"a\": " },
		{ "\"id\": \"", "\"id\": \"0" },
		{ "\"path_b64\": \"L", "\"path_b64\": \"!" },
		{ "\"verdict\": \"MALICIOUS\"", "\"verdict\": \"EVIL\"" },
		{ "\"sha256\": \"", "\"sha256\": \"x" },
		{ "\"findings\": [", "\"findings\": {\"x\":[" },
		{ "\"xattrs\": []", "\"xattrs\": [{\"name\": \"\", \"value_b64\": \"\"}]" },
		{ "\"xattrs\": []", "\"xattrs\": [{\"name\": \"user.a\", \"value_b64\": \"!!\"}]" },
		{ "\"xattrs\": []", "\"xattrs\": [{\"name\": \"user.a\", \"value_b64\": 7}]" },
		{ "\"xattrs\": []", "\"xattrs\": {}" },
	};
	vigil_quarantine *q = new_vault();
	char id[VIGIL_QUARANTINE_ID_SIZE], why[256];
	vigil_quarantine_item *it;
	vg_qrecord rec;
	const char *text;

	one_item(q, id);
	ck_assert_int_eq(vigil_quarantine_get(q, id, &it), VIGIL_OK);
	text = vigil_quarantine_item_record(it);
	ck_assert_int_eq(vg_qrecord_parse(text, strlen(text), &rec, why,
	                                  sizeof why), VIGIL_OK);
	ck_assert_int_eq(rec.size, strlen(eicar));
	vg_qrecord_clear(&rec);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_int_eq(vg_qrecord_parse(bad[i], strlen(bad[i]), &rec, why,
		                                  sizeof why), VIGIL_EVAULT);
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		const char *at = strstr(text, edits[i][0]);
		char *copy;
		ck_assert_msg(at != NULL, "no '%s' in the record", edits[i][0]);
		ck_assert_int_ge(asprintf(&copy, "%.*s%s%s", (int)(at - text), text,
		                          edits[i][1], at + strlen(edits[i][0])), 0);
		ck_assert_msg(vg_qrecord_parse(copy, strlen(copy), &rec, why,
		                               sizeof why) == VIGIL_EVAULT,
		              "accepted edit %zu", i);
		free(copy);
	}
	vigil_quarantine_item_free(it);
	vigil_quarantine_free(q);
}
END_TEST

static Suite *quarantine_suite(void)
{
	Suite *s = suite_create("quarantine");
	TCase *tc = tcase_create("quarantine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_quarantine_and_restore);
	tcase_add_test(tc, test_built_result);
	tcase_add_test(tc, test_renamed_over_before_action);
	tcase_add_test(tc, test_renamed_over_before_unlink);
	tcase_add_test(tc, test_content_changed);
	tcase_add_test(tc, test_no_action_without_detection);
	tcase_add_test(tc, test_unsafe_paths);
	tcase_add_test(tc, test_tampered_items);
	tcase_add_test(tc, test_vault_checks);
	tcase_add_test(tc, test_record_parser);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(quarantine_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
