/*
 * sig_cmd.c - `vigil sig`: signature database tools. `sig check` loads
 * each file into a fresh engine and freezes it, which is everything a
 * scan would do with it short of scanning.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "vigil/vigil.h"

static void usage(FILE *f)
{
	fputs("Usage: vigil sig check FILE|DIR...\n"
	      "Check that signature databases load, without scanning.\n"
	      "Prints 'FILE: OK (N signatures)' or the error for each (a FILE or\n"
	      "DIR without any signature is an error); exits 0\n"
	      "when all are good, 2 otherwise.\n", f);
}

/* 0 when path loads and freezes; prints the outcome either way. */
static int check_one(const char *path)
{
	vigil_engine *e;
	vigil_error err;

	if ((err = vigil_engine_new(&e)) != VIGIL_OK) {
		vg_cli_warn("%s", vigil_strerror(err));
		return -1;
	}
	/* counted alone: the built-in signatures are not the file's */
	err = vigil_engine_set_option(e, VIGIL_OPT_NO_DEFAULT_SIGNATURES, 1);
	if (err == VIGIL_OK)
		err = vigil_engine_load(e, path);
	if (err == VIGIL_OK)
		err = vigil_engine_freeze(e);
	if (err == VIGIL_OK) {
		unsigned long long n = vigil_engine_signature_count(e);
		printf("%s: OK (%llu signature%s)\n", path, n, n == 1 ? "" : "s");
		/* in order with the errors when both go to one file */
		fflush(stdout);
	} else if (*vigil_engine_last_error(e)) {
		vg_cli_warn("%s", vigil_engine_last_error(e));
	} else {
		vg_cli_warn("%s: %s", path, vigil_strerror(err));
	}
	vigil_engine_free(e);
	return err == VIGIL_OK ? 0 : -1;
}

int vg_cli_sig(int argc, char **argv)
{
	int bad = 0;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? VG_EXIT_ERROR : VG_EXIT_CLEAN;
	}
	if (strcmp(argv[1], "check") != 0) {
		vg_cli_warn("sig: unknown command '%s'", argv[1]);
		usage(stderr);
		return VG_EXIT_ERROR;
	}
	if (argc < 3) {
		vg_cli_warn("sig check: no FILE given");
		return VG_EXIT_ERROR;
	}
	for (int i = 2; i < argc; i++)
		if (check_one(argv[i]) != 0)
			bad++;
	return bad ? VG_EXIT_ERROR : VG_EXIT_CLEAN;
}
