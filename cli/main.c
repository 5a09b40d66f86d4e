/*
 * main.c - the vigil command: picks the subcommand from one table.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/command.h"
#include "vigil/vigil.h"

/*
 * The subcommands, in the order --help lists them. One line adds one:
 * VG_CLI_COMMAND(name, "ARGS", "what it does") runs
 * int vg_cli_<name>(int argc, char **argv), defined in
 * cli/<name>_cmd.c (listed in cli/local.mk); see doc/hacking.md.
 */
#define VG_CLI_COMMANDS(VG_CLI_COMMAND) \
	VG_CLI_COMMAND(scan, "PATH...", "scan files and directory trees for malware") \
	VG_CLI_COMMAND(sig, "check FILE...", "check that signature databases load") \
	VG_CLI_COMMAND(ml, "score FILE...", "score PE files with the ML model")

#define DECLARE(name, args, help) int vg_cli_##name(int argc, char **argv);
VG_CLI_COMMANDS(DECLARE)
#undef DECLARE

#define ENTRY(name, args, help) { #name, args, help, vg_cli_##name },
static const vg_cli_command commands[] = {
	VG_CLI_COMMANDS(ENTRY)
};
#undef ENTRY

static const char footer[] =
	"\n"
	"Options:\n"
	"  -V, --version       show the versions of vigil and its libraries\n"
	"  -h, --help          show this help\n"
	"\n"
	"'vigil COMMAND --help' describes a command; see also vigil(1).\n";

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (cmd && (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") ||
	            !strcmp(cmd, "version"))) {
		fputs(vigil_version_details(), stdout);
		return VG_EXIT_CLEAN;
	}
	return vg_cli_dispatch("vigil", commands,
	                       sizeof commands / sizeof *commands, footer,
	                       argc, argv);
}
