/*
 * bundle_cmd.c - `vigil sig build|info|keygen|sign|verify`: making,
 * describing, signing and checking signature bundles (doc/bundle.md)
 * through vigil/bundle.h and vigil_engine_save_bundle.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/bundle_cmd.h"
#include "cli/cli.h"
#include "vigil/bundle.h"
#include "vigil/vigil.h"

/* `sig verify` refuses a bundle's signature: distinct from errors. */
#define EXIT_REFUSED 1

static void usage(FILE *f)
{
	fputs(
"Usage: vigil sig build -o FILE [--version N] [--key SECRET] [--trust DIR]\n"
"                       [--allow-unsigned] SOURCE...\n"
"       vigil sig info FILE\n"
"       vigil sig keygen --secret SECRET --public PUBLIC\n"
"       vigil sig sign --key SECRET FILE\n"
"       vigil sig verify [--trust DIR] FILE\n"
"\n"
"build   writes one bundle of every signature file and folder named\n"
"        (what 'vigil scan -d' loads: hash lists, allowlists, YARA rules,\n"
"        ClamAV databases, ML models, other bundles); --version sets its\n"
"        monotonic version (default: the time in seconds), --key signs it\n"
"info    prints a bundle's manifest\n"
"keygen  makes an Ed25519 key pair; never replaces a file\n"
"sign    signs a bundle in place (a new file renamed over it)\n"
"verify  exits 0 only when a key in the trust store signed the bundle\n"
"        and it is intact; 1 when the signature is refused; 2 on errors\n"
"\n"
"--allow-unsigned  (build) take unsigned bundles among the SOURCEs\n"
"--trust DIR   the trust store: a folder of *.pub keys (default: ", f);
	fputs(vigil_default_trust_dir(), f);
	fputs(")\n", f);
}

static int usage_error(const char *what)
{
	vg_cli_warn("sig: %s", what);
	fputs("Try 'vigil sig --help' for more information.\n", stderr);
	return VG_EXIT_ERROR;
}

enum { OPT_VERSION = 256, OPT_KEY, OPT_TRUST, OPT_SECRET, OPT_PUBLIC,
       OPT_ALLOW_UNSIGNED };

static const struct option long_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "version", required_argument, NULL, OPT_VERSION },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "trust", required_argument, NULL, OPT_TRUST },
	{ "allow-unsigned", no_argument, NULL, OPT_ALLOW_UNSIGNED },
	{ "secret", required_argument, NULL, OPT_SECRET },
	{ "public", required_argument, NULL, OPT_PUBLIC },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

typedef struct sig_opts {
	const char *out, *key, *trust, *secret, *public_key;
	uint64_t version;
	int allow_unsigned;
} sig_opts;

/* Parses argv (the words after "sig CMD"); -1 to go on, else an exit. */
static int parse(int argc, char **argv, sig_opts *o)
{
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case OPT_VERSION:
			if (vg_cli_parse_count(optarg, &o->version) != 0 || !o->version)
				return usage_error("--version wants a number above 0");
			break;
		case OPT_KEY: o->key = optarg; break;
		case OPT_TRUST: o->trust = optarg; break;
		case OPT_ALLOW_UNSIGNED: o->allow_unsigned = 1; break;
		case OPT_SECRET: o->secret = optarg; break;
		case OPT_PUBLIC: o->public_key = optarg; break;
		case 'h':
			usage(stdout);
			return VG_EXIT_CLEAN;
		default:
			fputs("Try 'vigil sig --help' for more information.\n", stderr);
			return VG_EXIT_ERROR;
		}
	}
	return -1;
}

/* Opens path into a new handle; NULL after saying why, with *errp
 * set when errp is not NULL. */
static vigil_bundle *open_bundle_err(const char *path, vigil_error *errp)
{
	vigil_bundle *b;
	vigil_error err;

	if ((err = vigil_bundle_new(&b)) != VIGIL_OK) {
		vg_cli_warn("%s", vigil_strerror(err));
	} else if ((err = vigil_bundle_open(b, path)) != VIGIL_OK) {
		vg_cli_warn("%s", vigil_bundle_last_error(b));
		vigil_bundle_free(b);
	}
	if (errp)
		*errp = err;
	return err == VIGIL_OK ? b : NULL;
}

static vigil_bundle *open_bundle(const char *path)
{
	return open_bundle_err(path, NULL);
}

static int sign_path(const char *path, const char *key)
{
	vigil_bundle *b = open_bundle(path);
	int rc = VG_EXIT_CLEAN;

	if (!b)
		return VG_EXIT_ERROR;
	if (vigil_bundle_sign(b, key) != VIGIL_OK) {
		vg_cli_warn("%s", vigil_bundle_last_error(b));
		rc = VG_EXIT_ERROR;
	}
	vigil_bundle_free(b);
	return rc;
}

static int cmd_build(int argc, char **argv, const sig_opts *o)
{
	vigil_engine *e = NULL;
	vigil_error err;

	if (!o->out)
		return usage_error("build: no output file (-o FILE)");
	if (optind >= argc)
		return usage_error("build: no SOURCE given");
	if ((err = vigil_engine_new(&e)) != VIGIL_OK) {
		vg_cli_warn("%s", vigil_strerror(err));
		return VG_EXIT_ERROR;
	}
	/* only what the sources hold; no unpacker set-up is needed */
	err = vigil_engine_set_option(e, VIGIL_OPT_NO_DEFAULT_SIGNATURES, 1);
	if (!err)
		err = vigil_engine_set_option(e, VIGIL_OPT_NO_UNPACK, 1);
	if (!err)
		err = vigil_engine_set_option(e, VIGIL_OPT_ALLOW_UNSIGNED,
		                              o->allow_unsigned);
	if (!err && o->trust)
		err = vigil_engine_set_trust_dir(e, o->trust);
	for (int i = optind; !err && i < argc; i++)
		err = vigil_engine_load(e, argv[i]);
	if (!err)
		err = vigil_engine_freeze(e);
	if (!err)
		err = vigil_engine_save_bundle(e, o->out, o->version);
	if (err) {
		vg_cli_warn("%s", *vigil_engine_last_error(e) ?
		            vigil_engine_last_error(e) : vigil_strerror(err));
		vigil_engine_free(e);
		return VG_EXIT_ERROR;
	}
	printf("%s: %" PRIu64 " signatures\n", o->out,
	       vigil_engine_signature_count(e));
	vigil_engine_free(e);
	if (o->key)
		return sign_path(o->out, o->key);
	return VG_EXIT_CLEAN;
}

static void print_time(const char *label, uint64_t t)
{
	char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ",
	                                   &tm))
		printf("%-9s%s (%" PRIu64 ")\n", label, buf, t);
	else
		printf("%-9s%" PRIu64 "\n", label, t);
}

static int cmd_info(const char *path)
{
	vigil_bundle *b = open_bundle(path);
	size_t n;

	if (!b)
		return VG_EXIT_ERROR;
	n = vigil_bundle_part_count(b);
	printf("%-9s%s\n", "bundle:", path);
	printf("%-9s%" PRIu64 "\n", "version:", vigil_bundle_version(b));
	print_time("created:", vigil_bundle_created(b));
	printf("%-9s%s\n", "signer:", *vigil_bundle_signer(b) ?
	       vigil_bundle_signer(b) : "(unsigned)");
	printf("%-9s%zu\n", "parts:", n);
	printf("  %-9s %-24s %12s %10s %10s  %s\n", "KIND", "NAME", "SIZE",
	       "COUNT", "OFFSET", "BLAKE2B-256");
	for (size_t i = 0; i < n; i++) {
		vigil_bundle_part_info p;
		if (vigil_bundle_part(b, i, &p) != VIGIL_OK)
			break;
		printf("  %-9s %-24s %12" PRIu64 " %10" PRIu64 " %10" PRIu64
		       "  %.16s...\n", p.kind, p.name, p.size, p.count, p.offset,
		       p.digest);
	}
	vigil_bundle_free(b);
	return VG_EXIT_CLEAN;
}

static int cmd_keygen(const sig_opts *o)
{
	vigil_error err;

	if (!o->secret || !o->public_key)
		return usage_error("keygen: wants --secret FILE and --public FILE");
	if ((err = vigil_key_generate(o->secret, o->public_key)) != VIGIL_OK) {
		vg_cli_warn("keygen: %s", err == VIGIL_EIO || err == VIGIL_EACCES ||
		            err == VIGIL_ENOENT ? strerror(errno)
		                                : vigil_strerror(err));
		return VG_EXIT_ERROR;
	}
	printf("secret key: %s (keep it private)\npublic key: %s (copy it into "
	       "the trust store)\n", o->secret, o->public_key);
	return VG_EXIT_CLEAN;
}

static int cmd_verify(const char *path, const sig_opts *o)
{
	vigil_error err;
	vigil_bundle *b = open_bundle_err(path, &err);

	/* a signed bundle damaged in its layout reads as a bad signature */
	if (!b)
		return err == VIGIL_ESIGNATURE ? EXIT_REFUSED : VG_EXIT_ERROR;
	err = vigil_bundle_verify(b, o->trust);
	if (err == VIGIL_OK)
		err = vigil_bundle_check_parts(b);
	if (err == VIGIL_OK)
		printf("%s: OK (version %" PRIu64 ", signed by key %s)\n", path,
		       vigil_bundle_version(b), vigil_bundle_signer(b));
	else
		vg_cli_warn("%s", vigil_bundle_last_error(b));
	vigil_bundle_free(b);
	return err == VIGIL_OK ? VG_EXIT_CLEAN
	       : err == VIGIL_ESIGNATURE ? EXIT_REFUSED : VG_EXIT_ERROR;
}

int vg_cli_sig_bundle(int argc, char **argv)
{
	/* argv[0] is "vigil sig NAME" (cli/command.c) */
	const char *sp = strrchr(argv[0], ' ');
	const char *cmd = sp ? sp + 1 : argv[0];
	sig_opts o = { 0 };
	int rc;

	if ((rc = parse(argc, argv, &o)) >= 0)
		return rc;
	if (!strcmp(cmd, "build"))
		return cmd_build(argc, argv, &o);
	if (!strcmp(cmd, "keygen"))
		return optind < argc ? usage_error("keygen: takes no FILE")
		                     : cmd_keygen(&o);
	if (optind != argc - 1)
		return usage_error("wants one bundle FILE");
	if (!strcmp(cmd, "info"))
		return cmd_info(argv[optind]);
	if (!strcmp(cmd, "sign")) {
		if (!o.key)
			return usage_error("sign: wants --key SECRET");
		return sign_path(argv[optind], o.key);
	}
	if (!strcmp(cmd, "verify"))
		return cmd_verify(argv[optind], &o);
	return usage_error("unknown command");
}

void vg_cli_sig_bundle_usage(FILE *f)
{
	usage(f);
}

/* The rows of sig_cmd.c's table. */
int vg_cli_sig_build(int argc, char **argv) { return vg_cli_sig_bundle(argc, argv); }
int vg_cli_sig_info(int argc, char **argv) { return vg_cli_sig_bundle(argc, argv); }
int vg_cli_sig_keygen(int argc, char **argv) { return vg_cli_sig_bundle(argc, argv); }
int vg_cli_sig_sign(int argc, char **argv) { return vg_cli_sig_bundle(argc, argv); }
int vg_cli_sig_verify(int argc, char **argv) { return vg_cli_sig_bundle(argc, argv); }
