/*
 * sockutil.h - Unix listening sockets and bounded-time reads and writes,
 * shared by the control socket and the clamd protocol.
 */
#ifndef VIGIL_ONACCESS_SOCKUTIL_H
#define VIGIL_ONACCESS_SOCKUTIL_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Binds and listens on a Unix socket path (creating its folder, mode
 * 0755, if missing). A stale socket (nobody listening) is replaced when
 * fix_stale is set; a live one is an error. Sets mode and group (gid
 * -1: leave). Returns the fd or -1 with the reason in err.
 */
int vg_listen_unix(const char *path, mode_t mode, gid_t gid, int backlog,
                   int fix_stale, char *err, size_t errlen);

/* Waits up to timeout_ms for fd to be readable (1), 0 on timeout, -1. */
int vg_wait_readable(int fd, int timeout_ms);

/* Writes all of buf within timeout_ms in total; 0, or -1 (timeout,
 * peer gone). fd may be blocking or not. */
int vg_write_all(int fd, const void *buf, size_t len, int timeout_ms);

/* Monotonic milliseconds. */
long long vg_now_ms(void);

#endif
