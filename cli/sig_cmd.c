/*
 * sig_cmd.c - `vigil sig`: signature database tools. `sig check` loads
 * each file into a fresh engine and freezes it, which is everything a
 * scan would do with it short of scanning. The bundle commands (build,
 * info, keygen, sign, verify) are in bundle_cmd.c.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/bundle_cmd.h"
#include "cli/cli.h"
#include "cli/command.h"
#include "vigil/vigil.h"

/* Names each bad file and goes on, so that all of them are named. */
static int on_load_error(const char *path, vigil_error err,
                         const char *message, void *userdata)
{
	(void)path;
	(void)err;
	vg_cli_warn("%s", message);
	++*(unsigned long long *)userdata;
	return VIGIL_CONTINUE;
}

/* 0 when path loads and freezes; prints the outcome either way. */
static int check_one(const char *path)
{
	unsigned long long bad = 0;
	vigil_engine *e;
	vigil_error err;

	if ((err = vigil_engine_new(&e)) != VIGIL_OK) {
		vg_cli_warn("%s", vigil_strerror(err));
		return -1;
	}
	vigil_engine_set_load_callback(e, on_load_error, &bad);
	/* counted alone: the built-in signatures are not the file's */
	err = vigil_engine_set_option(e, VIGIL_OPT_NO_DEFAULT_SIGNATURES, 1);
	if (err == VIGIL_OK)
		err = vigil_engine_load(e, path);
	if (err == VIGIL_OK)
		err = vigil_engine_freeze(e);
	if (err == VIGIL_OK && bad) {
		unsigned long long n = vigil_engine_signature_count(e);
		/* one bad file alone: its error line says it all */
		if (bad > 1 || n > 0)
			printf("%s: FAILED (%llu file%s did not load; %llu "
			       "signature%s in the rest)\n", path, bad,
			       bad == 1 ? "" : "s", n, n == 1 ? "" : "s");
		fflush(stdout);
		err = VIGIL_EDATABASE;
	} else if (err == VIGIL_OK) {
		unsigned long long n = vigil_engine_signature_count(e);
		printf("%s: OK (%llu signature%s)\n", path, n, n == 1 ? "" : "s");
		/* in order with the errors when both go to one file */
		fflush(stdout);
	} else if (*vigil_engine_last_error(e)) {
		/* what the callback could not skip */
		vg_cli_warn("%s", vigil_engine_last_error(e));
	} else {
		vg_cli_warn("%s: %s", path, vigil_strerror(err));
	}
	vigil_engine_free(e);
	return err == VIGIL_OK ? 0 : -1;
}

static const char check_usage[] =
	"Usage: vigil sig check FILE|DIR...\n"
	"Check that signature databases load, without scanning.\n"
	"Names every file that does not load, with its error, on stderr;\n"
	"then prints 'PATH: OK (N signatures)' for each argument, or\n"
	"'PATH: FAILED (K files did not load; N signatures in the rest)'\n"
	"(a FILE or DIR without any signature is an error). Exits 0 when\n"
	"all are good, 2 otherwise.\n";

int vg_cli_sig_check(int argc, char **argv);

int vg_cli_sig_check(int argc, char **argv)
{
	int bad = 0;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(check_usage, stdout);
		return VG_EXIT_CLEAN;
	}
	if (argc < 2) {
		vg_cli_warn("sig check: no FILE given");
		fputs(check_usage, stderr);
		return VG_EXIT_ERROR;
	}
	for (int i = 1; i < argc; i++)
		if (check_one(argv[i]) != 0)
			bad++;
	return bad ? VG_EXIT_ERROR : VG_EXIT_CLEAN;
}

/*
 * The sig subcommands, one line each, as in cli/main.c:
 * VG_SIG_COMMAND(name, "ARGS", "what it does") runs
 * int vg_cli_sig_<name>(int argc, char **argv), defined here or in
 * cli/sig_<name>.c.
 */
#define VG_SIG_COMMANDS(VG_SIG_COMMAND) \
	VG_SIG_COMMAND(check, "FILE|DIR...", "check that signature databases load") \
	VG_SIG_COMMAND(build, "-o BUNDLE SOURCE...", "make a bundle") \
	VG_SIG_COMMAND(info, "BUNDLE", "print a bundle's manifest") \
	VG_SIG_COMMAND(keygen, "--secret S --public P", "make a signing key pair") \
	VG_SIG_COMMAND(sign, "--key S BUNDLE", "sign a bundle") \
	VG_SIG_COMMAND(verify, "--trust DIR BUNDLE", "check a bundle's signature")

#define DECLARE(name, args, help) int vg_cli_sig_##name(int argc, char **argv);
VG_SIG_COMMANDS(DECLARE)
#undef DECLARE

#define ENTRY(name, args, help) { #name, args, help, vg_cli_sig_##name },
static const vg_cli_command sig_commands[] = {
	VG_SIG_COMMANDS(ENTRY)
};
#undef ENTRY

/* run from the table in cli/main.c */
int vg_cli_sig(int argc, char **argv);

int vg_cli_sig(int argc, char **argv)
{
	return vg_cli_dispatch("vigil sig", sig_commands,
	                       sizeof sig_commands / sizeof *sig_commands,
	                       "\nSee 'vigil sig COMMAND --help' and vigil(1).\n",
	                       argc, argv);
}
