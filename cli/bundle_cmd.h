/*
 * bundle_cmd.h - `vigil sig build|info|keygen|sign|verify` (bundle_cmd.c).
 */
#ifndef VIGIL_CLI_BUNDLE_CMD_H
#define VIGIL_CLI_BUNDLE_CMD_H

#include <stdio.h>

/* argv[0] is the subcommand ("build", ...). Returns the exit code. */
int vg_cli_sig_bundle(int argc, char **argv);
/* The bundle subcommands' help. */
void vg_cli_sig_bundle_usage(FILE *f);
/* The bundle rows of `vigil sig`'s table (cli/sig_cmd.c). */
int vg_cli_sig_build(int argc, char **argv);
int vg_cli_sig_info(int argc, char **argv);
int vg_cli_sig_keygen(int argc, char **argv);
int vg_cli_sig_sign(int argc, char **argv);
int vg_cli_sig_verify(int argc, char **argv);

#endif
