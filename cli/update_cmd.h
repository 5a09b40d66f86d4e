/*
 * update_cmd.h - `vigil update` (update_cmd.c).
 */
#ifndef VIGIL_CLI_UPDATE_CMD_H
#define VIGIL_CLI_UPDATE_CMD_H

/* argv[0] is "update". Returns the exit code (see usage). */
int vg_cli_update(int argc, char **argv);

#endif
