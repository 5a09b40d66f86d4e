/*
 * update_notify.h - telling scanners to reload (update_notify.c).
 */
#ifndef VIGIL_CLI_UPDATE_NOTIFY_H
#define VIGIL_CLI_UPDATE_NOTIFY_H

#include <stdint.h>

#include "cli/update_conf.h"

/* Every NotifyCommand, NotifyClamd and NotifyCicap of c, each bounded
 * by NotifyTimeout; warns for each that fails. 0 when all worked. */
int vg_update_notify(const vg_update_conf *c, const char *bundle,
                     uint64_t version);

#endif
