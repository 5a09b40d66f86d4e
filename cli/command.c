/*
 * command.c - dispatch and usage from a table of subcommands (command.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/command.h"

void vg_cli_usage(FILE *f, const char *prog, const vg_cli_command *table,
                  size_t n, const char *footer)
{
	fprintf(f, "Usage: %s COMMAND [OPTION]... [ARG]...\n\nCommands:\n",
	        prog);
	for (size_t i = 0; i < n; i++) {
		char synopsis[64];
		snprintf(synopsis, sizeof synopsis, "%s %s", table[i].name,
		         table[i].args);
		fprintf(f, "  %-20s%s\n", synopsis, table[i].help);
	}
	if (footer)
		fputs(footer, f);
}

int vg_cli_dispatch(const char *prog, const vg_cli_command *table, size_t n,
                    const char *footer, int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;
	char argv0[128];

	if (!name) {
		vg_cli_usage(stderr, prog, table, n, footer);
		return VG_EXIT_ERROR;
	}
	if (!strcmp(name, "--help") || !strcmp(name, "-h") ||
	    !strcmp(name, "help")) {
		vg_cli_usage(stdout, prog, table, n, footer);
		return VG_EXIT_CLEAN;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(table[i].name, name) != 0)
			continue;
		/* getopt names "vigil scan" in its messages */
		snprintf(argv0, sizeof argv0, "%s %s", prog, name);
		argv[1] = argv0;
		return table[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: unknown command '%s'\n", prog, name);
	vg_cli_usage(stderr, prog, table, n, footer);
	return VG_EXIT_ERROR;
}
