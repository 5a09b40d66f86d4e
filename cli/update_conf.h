/*
 * update_conf.h - the configuration of `vigil update` (vigil-update.conf):
 * freshclam-style "Directive value" lines. See doc/vigil.1, UPDATE.
 */
#ifndef VIGIL_CLI_UPDATE_CONF_H
#define VIGIL_CLI_UPDATE_CONF_H

#include <stddef.h>
#include <stdint.h>

#define VG_UPDATE_MAX_LIST 16     /* mirrors, and each kind of notify */
#define VG_UPDATE_MAX_LINE 4096
#define VG_UPDATE_MAX_CONF (1 << 20)

typedef struct vg_update_conf {
	char *mirrors[VG_UPDATE_MAX_LIST];   /* DatabaseMirror URL */
	size_t nmirrors;
	char *dir;                           /* DatabaseDirectory */
	char *bundle;                        /* BundleName */
	char *trust;                         /* TrustedKeys; NULL: built in */
	uint64_t max_size;                   /* MaxBundleSize, bytes */
	uint64_t connect_timeout;            /* ConnectTimeout, seconds */
	uint64_t receive_timeout;            /* ReceiveTimeout, seconds */
	uint64_t max_attempts;               /* MaxAttempts: rounds of mirrors */
	uint64_t notify_timeout;             /* NotifyTimeout, seconds */
	char *commands[VG_UPDATE_MAX_LIST];  /* NotifyCommand */
	size_t ncommands;
	char *clamd[VG_UPDATE_MAX_LIST];     /* NotifyClamd SOCKET */
	size_t nclamd;
	char *cicap[VG_UPDATE_MAX_LIST];     /* NotifyCicap FIFO */
	size_t ncicap;
} vg_update_conf;

/* Sets the defaults (directory /var/lib/vigil, bundle main.vgb, 1 GiB,
 * 30 s, 300 s, 3 attempts, 30 s). 0 or -1 (ENOMEM). */
int vg_update_conf_defaults(vg_update_conf *c);

/*
 * Parses a configuration held in memory: blank lines and '#' comments
 * skipped, one directive per line, values to the end of the line.
 * 0, or -1 with "line N: why" in err for an unknown directive, a bad
 * value, a list that is full or a line too long.
 */
int vg_update_conf_parse(vg_update_conf *c, const char *text, size_t len,
                         char *err, size_t errlen);

/* Reads and parses a file; err names the file. */
int vg_update_conf_load(vg_update_conf *c, const char *path, char *err,
                        size_t errlen);

void vg_update_conf_free(vg_update_conf *c);

#endif
