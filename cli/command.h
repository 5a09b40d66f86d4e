/*
 * command.h - tables of subcommands: `vigil NAME ...` (cli/main.c) and
 * `vigil sig NAME ...` (cli/sig_cmd.c). A table line names the command,
 * its arguments and a one-line description; the same table dispatches
 * and prints the usage, so a command cannot be added without showing up
 * in --help. doc/hacking.md has the recipe for a new one.
 */
#ifndef VIGIL_CLI_COMMAND_H
#define VIGIL_CLI_COMMAND_H

#include <stddef.h>
#include <stdio.h>

typedef struct vg_cli_command {
	const char *name;   /* "scan" */
	const char *args;   /* "PATH...", shown after the name in usage */
	const char *help;   /* one line for the usage */
	/* Runs with argv[0] = "PROG NAME" (for getopt's messages) and the
	 * arguments after NAME; returns a VG_EXIT_* code (cli.h). */
	int (*run)(int argc, char **argv);
} vg_cli_command;

/* "Usage: PROG COMMAND ..." and the table, then footer (may be NULL). */
void vg_cli_usage(FILE *f, const char *prog, const vg_cli_command *table,
                  size_t n, const char *footer);

/*
 * Runs the command argv[1] names: with none, usage on stderr and
 * VG_EXIT_ERROR; with -h, --help or help, usage on stdout; with an
 * unknown name, "PROG: unknown command 'NAME'" and VG_EXIT_ERROR.
 */
int vg_cli_dispatch(const char *prog, const vg_cli_command *table, size_t n,
                    const char *footer, int argc, char **argv);

#endif /* VIGIL_CLI_COMMAND_H */
