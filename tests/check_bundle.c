/*
 * check_bundle.c - signature bundles through the public API: a bundle
 * written from loose files finds what they find; every kind of damage
 * is refused with its own message while an engine already loaded keeps
 * serving; a new engine built from a newer bundle replaces one in use
 * while threads scan (the library side of a daemon's reload).
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "vigil/bundle.h"
#include "vigil/ml.h"
#include "vigil/vigil.h"
#include "ml/features.h"
#include "ml/model.h"

static char dir[64];
static char trust[128], secret[128], other_secret[128], other_pub[128];

/* The samples and what should find them. */
static const char sample_md5[] = "vigil bundle sample for the md5 list\n";
static const char sample_sha[] = "vigil bundle sample for the sha256 list\n";
static const char sample_allowed[] = "allowed but holds vigil-yara-marker\n";
static const char sample_yara[] = "a file with vigil-yara-marker inside\n";
static const char sample_mz[] = "MZ and the mz-only-marker\n";
static const char sample_ndb[] = "a file with vigil-ndb-marker inside\n";
static const char sample_v2[] = "only version two knows vigil-v2-marker\n";
static const char sample_clean[] = "nothing to see here\n";

static const char *const samples[] = {
	sample_md5, sample_sha, sample_allowed, sample_yara, sample_mz,
	sample_ndb, sample_v2, sample_clean,
};
#define NSAMPLES (sizeof samples / sizeof samples[0])

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void write_text(const char *name, const char *text)
{
	char p[256];
	FILE *f;

	path_of(p, sizeof p, name);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void hex_digest(const EVP_MD *md, const char *s, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	EVP_Digest(s, strlen(s), d, &n, md, NULL);
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void app(uint8_t **p, const void *src, size_t len)
{
	memcpy(*p, src, len);
	*p += len;
}

/* The built-in model as a .vgm file named "bundle-model" (the layout of
 * ml/README.md, as tests/check_ml.c writes it). */
static void write_model(const char *name)
{
	const vg_ml_model *m = &vg_ml_builtin_model;
	size_t inner = (size_t)m->ntrees * ((1u << m->depth) - 1);
	size_t leaves = (size_t)m->ntrees << m->depth;
	size_t n = 88 + 10 * inner + 4 * leaves;
	uint8_t *b = calloc(1, n), *p = b;
	uint64_t hash = vg_ml_feature_hash();
	uint32_t u32;
	char path[256];
	FILE *f;

	app(&p, "VGMLPE1", 8);
	u32 = 2;
	app(&p, &u32, 4);
	u32 = m->nfeatures;
	app(&p, &u32, 4);
	app(&p, &hash, 8);
	strcpy((char *)p, "bundle-model");
	p += 32;
	app(&p, &m->ntrees, 4);
	app(&p, &m->depth, 4);
	app(&p, &m->base_margin, 8);
	app(&p, &m->threshold_malicious, 8);
	app(&p, &m->threshold_suspicious, 8);
	app(&p, m->feat, 2 * inner);
	app(&p, m->split, 4 * inner);
	app(&p, m->mean, 4 * inner);
	app(&p, m->leaf, 4 * leaves);
	path_of(path, sizeof path, name);
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	ck_assert_uint_eq(fwrite(b, 1, n, f), n);
	fclose(f);
	free(b);
}

/* Loose signature files in dir/v1 and dir/v2 (v2 adds one rule). */
static void setup(void)
{
	char line[512], hex[129], p[256];

	strcpy(dir, "/tmp/check_bundle_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	path_of(p, sizeof p, "v1");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	path_of(p, sizeof p, "v2");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	path_of(trust, sizeof trust, "trust");
	ck_assert_int_eq(mkdir(trust, 0700), 0);

	hex_digest(EVP_md5(), sample_md5, hex);
	snprintf(line, sizeof line, "%s:%zu:Test.Bundle.Md5\n", hex,
	         strlen(sample_md5));
	write_text("v1/t.hdb", line);
	hex_digest(EVP_sha256(), sample_sha, hex);
	snprintf(line, sizeof line, "%s:*:Test.Bundle.Sha256:73\n", hex);
	write_text("v1/t.hsb", line);
	hex_digest(EVP_md5(), sample_allowed, hex);
	snprintf(line, sizeof line, "%s:%zu:Allowed.File\n", hex,
	         strlen(sample_allowed));
	write_text("v1/allow.fp", line);
	write_text("v1/rules.yar",
	           "rule YaraMarker { strings: $a = \"vigil-yara-marker\" "
	           "condition: $a }\n");
	write_text("v1/mz.yar",
	           "rule MzMarker { strings: $a = \"mz-only-marker\" "
	           "condition: uint16(0) == 0x5A4D and $a }\n");
	/* a ClamAV body signature: hex of "vigil-ndb-marker" */
	write_text("v1/clam.ndb", "Test.Bundle.Ndb:0:*:"
	           "766967696c2d6e64622d6d61726b6572\n");
	write_model("v1/model.vgm");
	write_text("v2/v2.yar",
	           "rule V2Marker { strings: $a = \"vigil-v2-marker\" "
	           "condition: $a }\n");

	path_of(secret, sizeof secret, "k.sec");
	path_of(p, sizeof p, "trust/k.pub");
	ck_assert_int_eq(vigil_key_generate(secret, p), VIGIL_OK);
	path_of(other_secret, sizeof other_secret, "other.sec");
	path_of(other_pub, sizeof other_pub, "other.pub");
	ck_assert_int_eq(vigil_key_generate(other_secret, other_pub), VIGIL_OK);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* An engine: options, trust store, the paths loaded; frozen when all
 * loads work, else NULL with *err set. */
static vigil_engine *engine_of(const char *const *paths, size_t n,
                               uint64_t min_version, int allow_unsigned,
                               vigil_error *err, char *msg, size_t msglen)
{
	vigil_engine *e = NULL;

	ck_assert_int_eq(vigil_engine_new(&e), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_trust_dir(e, trust), VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_min_bundle_version(e, min_version),
	                 VIGIL_OK);
	ck_assert_int_eq(vigil_engine_set_option(e, VIGIL_OPT_ALLOW_UNSIGNED,
	                                         allow_unsigned), VIGIL_OK);
	*err = VIGIL_OK;
	for (size_t i = 0; i < n && *err == VIGIL_OK; i++)
		*err = vigil_engine_load(e, paths[i]);
	if (*err == VIGIL_OK)
		*err = vigil_engine_freeze(e);
	if (*err != VIGIL_OK) {
		if (msg)
			snprintf(msg, msglen, "%s", vigil_engine_last_error(e));
		vigil_engine_free(e);
		return NULL;
	}
	return e;
}

/* Writes a bundle of the given folders with a version, signed by key
 * (or unsigned with NULL). */
static void make_bundle(const char *out, const char *const *srcs, size_t n,
                        uint64_t version, const char *key)
{
	vigil_error err;
	char msg[600] = "";
	vigil_engine *e = engine_of(srcs, n, 0, 0, &err, msg, sizeof msg);
	vigil_bundle *b;

	ck_assert_msg(e != NULL, "%s", msg);
	ck_assert_int_eq(vigil_engine_save_bundle(e, out, version), VIGIL_OK);
	vigil_engine_free(e);
	if (!key)
		return;
	ck_assert_int_eq(vigil_bundle_new(&b), VIGIL_OK);
	ck_assert_int_eq(vigil_bundle_open(b, out), VIGIL_OK);
	ck_assert_int_eq(vigil_bundle_sign(b, key), VIGIL_OK);
	vigil_bundle_free(b);
}

/* "stage:name;stage:name;..." of a scan, in finding order. */
static void findings_of(vigil_scanner *s, const char *data, char *out,
                        size_t n)
{
	vigil_result *r = NULL;
	size_t len = 0;

	ck_assert_int_eq(vigil_scan_mem(s, data, strlen(data), "sample.txt", &r),
	                 VIGIL_OK);
	out[0] = '\0';
	for (size_t i = 0; i < vigil_result_finding_count(r); i++) {
		const vigil_finding *f = vigil_result_finding(r, i);
		len += (size_t)snprintf(out + len, n - len, "%s:%s;",
		                        vigil_finding_stage(f), vigil_finding_name(f));
		ck_assert_uint_lt(len, n);
	}
	vigil_result_free(r);
}

START_TEST(test_same_findings)
{
	char v1[256], bundle[256], a[512], b[512];
	const char *loose[] = { v1 };
	const char *bundled[] = { bundle };
	vigil_engine *el, *eb;
	vigil_scanner *sl, *sb;
	vigil_error err;

	path_of(v1, sizeof v1, "v1");
	path_of(bundle, sizeof bundle, "v1.vgb");
	make_bundle(bundle, loose, 1, 7, secret);
	ck_assert_ptr_nonnull(el = engine_of(loose, 1, 0, 0, &err, NULL, 0));
	ck_assert_ptr_nonnull(eb = engine_of(bundled, 1, 0, 0, &err, NULL, 0));
	ck_assert_uint_eq(vigil_engine_bundle_version(eb), 7);
	ck_assert_uint_eq(vigil_engine_bundle_version(el), 0);
	ck_assert_uint_eq(vigil_engine_signature_count(el),
	                  vigil_engine_signature_count(eb));
	ck_assert_str_eq(vigil_ml_model_version(eb), "bundle-model");
	ck_assert_int_eq(vigil_scanner_new(el, &sl), VIGIL_OK);
	ck_assert_int_eq(vigil_scanner_new(eb, &sb), VIGIL_OK);
	for (size_t i = 0; i < NSAMPLES; i++) {
		findings_of(sl, samples[i], a, sizeof a);
		findings_of(sb, samples[i], b, sizeof b);
		ck_assert_str_eq(a, b);
	}
	/* and the findings are the expected ones, not two empty lists */
	findings_of(sb, sample_md5, b, sizeof b);
	ck_assert_str_eq(b, "hash:Test.Bundle.Md5;");
	findings_of(sb, sample_sha, b, sizeof b);
	ck_assert_str_eq(b, "hash:Test.Bundle.Sha256;");
	findings_of(sb, sample_allowed, b, sizeof b);
	ck_assert_str_eq(b, "");
	findings_of(sb, sample_yara, b, sizeof b);
	ck_assert_str_eq(b, "yara:rules:YaraMarker;");
	findings_of(sb, sample_mz, b, sizeof b);
	ck_assert_str_eq(b, "yara:mz:MzMarker;");
	findings_of(sb, sample_ndb, b, sizeof b);
	ck_assert_ptr_nonnull(strstr(b, "clamav:Test.Bundle.Ndb"));
	vigil_scanner_free(sl);
	vigil_scanner_free(sb);
	vigil_engine_free(el);
	vigil_engine_free(eb);
}
END_TEST

static long file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fclose(f);
	return n;
}

/* Copies src to dst with the byte at pos flipped (pos < 0: none) and
 * cut to len bytes (len < 0: all). */
static void copy_damaged(const char *src, const char *dst, long pos, long len)
{
	long n = file_size(src);
	uint8_t *buf = malloc((size_t)n);
	FILE *f;

	ck_assert_ptr_nonnull(f = fopen(src, "rb"));
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (pos >= 0)
		buf[pos] ^= 0x20;
	ck_assert_ptr_nonnull(f = fopen(dst, "wb"));
	fwrite(buf, 1, (size_t)(len >= 0 ? len : n), f);
	fclose(f);
	free(buf);
}

/* Loading path into a new engine fails with err and a message holding
 * what; the serving engine still finds its sample. */
static void expect_refused(const char *path, uint64_t min_version,
                           vigil_error want, const char *what,
                           vigil_scanner *serving)
{
	const char *paths[] = { path };
	char msg[600], found[512];
	vigil_error err;

	ck_assert_ptr_null(engine_of(paths, 1, min_version, 0, &err, msg,
	                             sizeof msg));
	ck_assert_msg(err == want, "%s: error %d, wanted %d (%s)", path, err,
	              want, msg);
	ck_assert_msg(strstr(msg, what) != NULL, "'%s' not in '%s'", what, msg);
	findings_of(serving, sample_yara, found, sizeof found);
	ck_assert_str_eq(found, "yara:rules:YaraMarker;");
}

START_TEST(test_refusals)
{
	char v1[256], good[256], bad[256];
	const char *srcs[] = { v1 }, *goodp[] = { good };
	vigil_engine *serving;
	vigil_scanner *s;
	vigil_error err;
	long n;

	path_of(v1, sizeof v1, "v1");
	path_of(good, sizeof good, "good.vgb");
	path_of(bad, sizeof bad, "bad.vgb");
	make_bundle(good, srcs, 1, 100, secret);
	ck_assert_ptr_nonnull(serving = engine_of(goodp, 1, 0, 0, &err, NULL, 0));
	ck_assert_int_eq(vigil_scanner_new(serving, &s), VIGIL_OK);
	n = file_size(good);

	/* one flipped byte: header, manifest, each page of part data, the
	 * key and the signature in the signature block */
	long spots[] = { 0, 9, 17, 33, 41, 49, 4096, 4200, 8192, 12288,
	                 n / 2, n - 128 - 64, n - 128 - 1, n - 128 + 20,
	                 n - 128 + 60, n - 128 + 111 };
	for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
		copy_damaged(good, bad, spots[i], -1);
		expect_refused(bad, 0, VIGIL_ESIGNATURE, "bad signature", s);
	}
	/* a byte the signature cannot cover must stay zero */
	copy_damaged(good, bad, n - 8, -1);
	expect_refused(bad, 0, VIGIL_EDATABASE, "reserved bytes", s);
	/* cut short, anywhere */
	copy_damaged(good, bad, -1, n - 1);
	expect_refused(bad, 0, VIGIL_EDATABASE, "truncated bundle", s);
	copy_damaged(good, bad, -1, 5000);
	expect_refused(bad, 0, VIGIL_EDATABASE, "truncated bundle", s);
	copy_damaged(good, bad, -1, 4);
	expect_refused(bad, 0, VIGIL_EDATABASE, "truncated bundle", s);
	/* signed by a key the trust store does not hold */
	make_bundle(bad, srcs, 1, 100, other_secret);
	expect_refused(bad, 0, VIGIL_ESIGNATURE, "not in the trust store", s);
	/* not signed at all; accepted only when allowed */
	make_bundle(bad, srcs, 1, 100, NULL);
	expect_refused(bad, 0, VIGIL_ESIGNATURE, "not signed", s);
	{
		const char *p[] = { bad };
		vigil_engine *dev = engine_of(p, 1, 0, 1, &err, NULL, 0);
		ck_assert_ptr_nonnull(dev);
		vigil_engine_free(dev);
	}
	/* older than the one in use */
	expect_refused(good, 101, VIGIL_EROLLBACK, "refusing to roll back", s);
	/* not a bundle, though named like one */
	write_text("junk.vgb", "this is not a bundle at all, just text\n");
	path_of(bad, sizeof bad, "junk.vgb");
	expect_refused(bad, 0, VIGIL_EFORMAT, "not a vigil bundle", s);

	vigil_scanner_free(s);
	vigil_engine_free(serving);
}
END_TEST

START_TEST(test_bundle_handle)
{
	char v1[256], path[256];
	const char *srcs[] = { v1 };
	vigil_bundle_part_info info;
	vigil_bundle *b;
	int kinds = 0;

	path_of(v1, sizeof v1, "v1");
	path_of(path, sizeof path, "h.vgb");
	make_bundle(path, srcs, 1, 42, NULL);
	ck_assert_int_eq(vigil_bundle_new(&b), VIGIL_OK);
	ck_assert_int_eq(vigil_bundle_open(b, path), VIGIL_OK);
	ck_assert_uint_eq(vigil_bundle_version(b), 42);
	ck_assert_str_eq(vigil_bundle_signer(b), "");
	ck_assert_int_eq(vigil_bundle_verify(b, trust), VIGIL_ESIGNATURE);
	ck_assert_int_eq(vigil_bundle_check_parts(b), VIGIL_OK);
	for (size_t i = 0; i < vigil_bundle_part_count(b); i++) {
		ck_assert_int_eq(vigil_bundle_part(b, i, &info), VIGIL_OK);
		ck_assert_uint_eq(info.offset % 4096, 0);
		ck_assert_uint_eq(strlen(info.digest), 64);
		kinds |= !strcmp(info.kind, "hashes") << 0 |
		         !strcmp(info.kind, "allowlist") << 1 |
		         !strcmp(info.kind, "yara") << 2 |
		         !strcmp(info.kind, "clamav") << 3 |
		         !strcmp(info.kind, "model") << 4;
	}
	ck_assert_int_eq(kinds, 31);
	ck_assert_int_eq(vigil_bundle_part(b, 99, &info), VIGIL_EINVAL);
	ck_assert_int_eq(vigil_bundle_sign(b, secret), VIGIL_OK);
	ck_assert_int_eq(vigil_bundle_open(b, path), VIGIL_OK);
	ck_assert_int_eq(vigil_bundle_verify(b, trust), VIGIL_OK);
	ck_assert_uint_eq(strlen(vigil_bundle_signer(b)), 16);
	/* keys are never overwritten */
	ck_assert_int_ne(vigil_key_generate(secret, other_pub), VIGIL_OK);
	vigil_bundle_free(b);
	vigil_bundle_free(NULL);
}
END_TEST

/* Engines loading one bundle share its compiled YARA rules; each keeps
 * them alive for as long as it lives. */
START_TEST(test_shared_yara)
{
	char v1[256], path[256], found[512];
	const char *srcs[] = { v1 }, *p[] = { path };
	vigil_engine *e1, *e2, *e3;
	vigil_scanner *s;
	vigil_error err;

	path_of(v1, sizeof v1, "v1");
	path_of(path, sizeof path, "shared.vgb");
	make_bundle(path, srcs, 1, 3, secret);
	ck_assert_ptr_nonnull(e1 = engine_of(p, 1, 0, 0, &err, NULL, 0));
	ck_assert_ptr_nonnull(e2 = engine_of(p, 1, 0, 0, &err, NULL, 0));
	vigil_engine_free(e1);
	ck_assert_int_eq(vigil_scanner_new(e2, &s), VIGIL_OK);
	findings_of(s, sample_yara, found, sizeof found);
	ck_assert_str_eq(found, "yara:rules:YaraMarker;");
	findings_of(s, sample_mz, found, sizeof found);
	ck_assert_str_eq(found, "yara:mz:MzMarker;");
	vigil_scanner_free(s);
	vigil_engine_free(e2);
	/* after the last one, loading again compiles nothing stale */
	ck_assert_ptr_nonnull(e3 = engine_of(p, 1, 0, 0, &err, NULL, 0));
	ck_assert_int_eq(vigil_scanner_new(e3, &s), VIGIL_OK);
	findings_of(s, sample_yara, found, sizeof found);
	ck_assert_str_eq(found, "yara:rules:YaraMarker;");
	vigil_scanner_free(s);
	vigil_engine_free(e3);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Reload while scanning                                               */
/* ------------------------------------------------------------------ */

static _Atomic(vigil_engine *) current;
static atomic_int stop_threads, scan_errors, saw_v2;
static atomic_long scans;

/* Scans the samples over and over, moving to a new engine when the
 * current one changes, as a daemon's workers would. */
static void *scan_loop(void *arg)
{
	vigil_engine *mine = atomic_load(&current);
	vigil_scanner *s = NULL;

	(void)arg;
	if (vigil_scanner_new(mine, &s) != VIGIL_OK)
		atomic_fetch_add(&scan_errors, 1);
	while (!atomic_load(&stop_threads) && s) {
		vigil_engine *now = atomic_load(&current);
		vigil_result *r = NULL;
		if (now != mine) {
			vigil_scanner_free(s);
			mine = now;
			if (vigil_scanner_new(mine, &s) != VIGIL_OK) {
				atomic_fetch_add(&scan_errors, 1);
				s = NULL;
				break;
			}
		}
		vigil_result *r2 = NULL;
		/* both versions find the MD5 sample; only v2 the other */
		if (vigil_scan_mem(s, sample_v2, strlen(sample_v2), "v2.txt", &r)
		    != VIGIL_OK ||
		    vigil_scan_mem(s, sample_md5, strlen(sample_md5), "m.txt", &r2)
		    != VIGIL_OK ||
		    vigil_result_verdict(r2) != VIGIL_MALICIOUS) {
			atomic_fetch_add(&scan_errors, 1);
		} else if (vigil_result_verdict(r) == VIGIL_MALICIOUS) {
			atomic_store(&saw_v2, 1);
		}
		vigil_result_free(r);
		vigil_result_free(r2);
		atomic_fetch_add(&scans, 1);
	}
	vigil_scanner_free(s);
	return NULL;
}

START_TEST(test_reload_while_scanning)
{
	char v1[256], v2[256], b1[256], b2[256];
	const char *srcs1[] = { v1 }, *srcs2[] = { v1, v2 };
	const char *p1[] = { b1 }, *p2[] = { b2 };
	vigil_engine *e1, *e2;
	pthread_t t[3];
	vigil_error err;
	long before;

	path_of(v1, sizeof v1, "v1");
	path_of(v2, sizeof v2, "v2");
	path_of(b1, sizeof b1, "r1.vgb");
	path_of(b2, sizeof b2, "r2.vgb");
	make_bundle(b1, srcs1, 1, 1000, secret);
	make_bundle(b2, srcs2, 2, 1001, secret);
	ck_assert_ptr_nonnull(e1 = engine_of(p1, 1, 0, 0, &err, NULL, 0));
	atomic_store(&current, e1);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, scan_loop, NULL), 0);
	while (atomic_load(&scans) < 50)
		usleep(1000);
	ck_assert_int_eq(atomic_load(&saw_v2), 0);
	/* the new engine is built beside the old, which keeps serving;
	 * an older bundle is refused first */
	ck_assert_ptr_null(engine_of(p1, 1, 1001, 0, &err, NULL, 0));
	ck_assert_int_eq(err, VIGIL_EROLLBACK);
	ck_assert_ptr_nonnull(e2 = engine_of(p2, 1, vigil_engine_bundle_version(e1),
	                                     0, &err, NULL, 0));
	before = atomic_load(&scans);
	atomic_store(&current, e2);
	while (atomic_load(&scans) < before + 200 && !atomic_load(&saw_v2))
		usleep(1000);
	atomic_store(&stop_threads, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(atomic_load(&scan_errors), 0);
	ck_assert_int_eq(atomic_load(&saw_v2), 1);
	vigil_engine_free(e1);
	vigil_engine_free(e2);
}
END_TEST

static Suite *bundle_suite(void)
{
	Suite *s = suite_create("bundle");
	TCase *tc = tcase_create("bundle");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_same_findings);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_bundle_handle);
	tcase_add_test(tc, test_shared_yara);
	tcase_add_test(tc, test_reload_while_scanning);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(bundle_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
