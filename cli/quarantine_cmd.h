/*
 * quarantine_cmd.h - `vigil quarantine` and what `vigil scan` shares
 * with it: the vault options and the local allowlist.
 */
#ifndef VIGIL_CLI_QUARANTINE_CMD_H
#define VIGIL_CLI_QUARANTINE_CMD_H

#include <stdint.h>

#include "vigil/quarantine.h"
#include "vigil/vigil.h"

/* --vault and --vault-max-size */
typedef struct vg_vault_opts {
	const char *dir;        /* NULL: the built-in default */
	uint64_t max_size;
	int max_size_set;
} vg_vault_opts;

/* A handle on the vault the options name; with check, the vault is
 * opened and checked now. NULL after saying why on stderr. */
vigil_quarantine *vg_cli_vault_open(const vg_vault_opts *o, int check);

/*
 * Loads the local allowlist into an engine if the file exists. It must
 * belong to root or to the user running vigil and be writable by no
 * one else: anyone who can write it can hide a file from every scan.
 * Returns 0, or -1 after saying why on stderr.
 */
int vg_cli_load_allowlist(vigil_engine *e, const char *path);

/* `vigil quarantine SUBCOMMAND ...` */
int vg_cli_quarantine(int argc, char **argv);

#endif /* VIGIL_CLI_QUARANTINE_CMD_H */
