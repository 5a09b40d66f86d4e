/*
 * cli.h - what the vigil subcommands share: exit codes, messages and
 * option-value parsers. The command calls libvigil through its public
 * API only.
 */
#ifndef VIGIL_CLI_CLI_H
#define VIGIL_CLI_CLI_H

#include <stdint.h>

/* Exit codes of the vigil command; doc/vigil.1 explains the order. */
enum {
	VG_EXIT_CLEAN = 0,      /* nothing found */
	VG_EXIT_FOUND = 1,      /* something MALICIOUS or SUSPICIOUS */
	VG_EXIT_ERROR = 2,      /* bad usage, bad database, unreadable path */
	VG_EXIT_INCOMPLETE = 3  /* a limit stopped part of a scan */
};

/* Subcommands are declared by their table (cli/main.c, cli/sig_cmd.c). */

/* "vigil: MESSAGE" on stderr. */
void vg_cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Option values. Each returns 0 and sets *out, or -1 for a malformed or
 * out-of-range value. Sizes take an optional K, M, G or T suffix (powers
 * of 1024); seconds may have a fraction and are returned in
 * milliseconds.
 */
int vg_cli_parse_size(const char *s, uint64_t *out);
int vg_cli_parse_count(const char *s, uint64_t *out);
int vg_cli_parse_seconds_ms(const char *s, uint64_t *out);

#endif /* VIGIL_CLI_CLI_H */
