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

#endif
