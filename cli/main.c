/*
 * main.c - the vigil command: picks the subcommand.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/ml_cmd.h"
#include "cli/quarantine_cmd.h"
#include "cli/update_cmd.h"
#include "vigil/vigil.h"

static void usage(FILE *f)
{
	fputs("Usage: vigil COMMAND [OPTION]... [ARG]...\n"
	      "\n"
	      "Commands:\n"
	      "  scan PATH...        scan files and directory trees for malware\n"
	      "  sig check FILE...   check that signature databases load\n"
	      "  sig build|info|keygen|sign|verify  make and check signed bundles\n"
	      "  update              fetch and install the newest signed bundle\n"
	      "  ml score FILE...    score PE files with the ML model\n"
	      "  daemon COMMAND      ping, status, stats, reload a running vigild\n"
	      "  quarantine COMMAND  list, show, restore, delete, purge the vault\n"
	      "  onaccess COMMAND    status, stats, reload of vigild's on-access scanning\n"
	      "\n"
	      "Options:\n"
	      "  -V, --version       show the versions of vigil and its libraries\n"
	      "  -h, --help          show this help\n"
	      "\n"
	      "'vigil COMMAND --help' describes a command; see also vigil(1).\n",
	      f);
}

int main(int argc, char **argv)
{
	/* getopt names the command in its messages */
	static char scan_name[] = "vigil scan";
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		usage(stderr);
		return VG_EXIT_ERROR;
	}
	if (!strcmp(cmd, "scan")) {
		argv[1] = scan_name;
		return vg_cli_scan(argc - 1, argv + 1);
	}
	if (!strcmp(cmd, "sig"))
		return vg_cli_sig(argc - 1, argv + 1);
	if (!strcmp(cmd, "update"))
		return vg_cli_update(argc - 1, argv + 1);
	if (!strcmp(cmd, "ml"))
		return vg_cli_ml(argc - 1, argv + 1);
	if (!strcmp(cmd, "daemon"))
		return vg_cli_daemon(argc - 1, argv + 1);
	if (!strcmp(cmd, "quarantine"))
		return vg_cli_quarantine(argc - 1, argv + 1);
	if (!strcmp(cmd, "onaccess"))
		return vg_cli_onaccess(argc - 1, argv + 1);
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") ||
	    !strcmp(cmd, "version")) {
		fputs(vigil_version_details(), stdout);
		return VG_EXIT_CLEAN;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return VG_EXIT_CLEAN;
	}
	vg_cli_warn("unknown command '%s'", cmd);
	usage(stderr);
	return VG_EXIT_ERROR;
}
