/*
 * log.h - vigild's log: text lines to syslog (the journal) and/or a
 * LogFile, detection events as JSON lines to the EventLogFile. Callers
 * never block: lines go into a bounded queue that one log thread
 * drains; when the log is slow and the queue full, lines are dropped and
 * counted (and the count is logged when room returns). This matters for
 * on-access scanning: a log write must never wait on a process that
 * waits for vigild's verdict.
 */
#ifndef VIGIL_ONACCESS_LOG_H
#define VIGIL_ONACCESS_LOG_H

#include <stdint.h>

#include "onaccess/wire.h"

typedef enum vg_log_level {
	VG_LOG_ERR = 3,
	VG_LOG_WARNING = 4,
	VG_LOG_INFO = 6,
	VG_LOG_DEBUG = 7
} vg_log_level;

typedef struct vg_log_config {
	const char *file;        /* LogFile, or NULL */
	const char *event_file;  /* EventLogFile, or NULL */
	int use_syslog;
	int use_stderr;          /* in the foreground without a journal */
	int verbose;             /* let VG_LOG_DEBUG through */
	unsigned queue;          /* LogQueueLength */
} vg_log_config;

/* Starts the log thread; -1 with errno when a file cannot be opened.
 * Before vg_log_open (and after vg_log_close) lines go to stderr. */
int vg_log_open(const vg_log_config *cfg);
/* Writes what is queued and stops the thread. */
void vg_log_close(void);
/* Reopens the files (after logrotate; on SIGHUP). */
void vg_log_reopen(void);

void vg_log(vg_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A detection event: one JSON line with the fields of `vigil scan
 * --json` (path, verdict, findings with stage, name, layer, verdict,
 * score, detail; sha256, size, type, cached, time_us, bytes_scanned),
 * plus "time", "source" ("clamd", "onaccess", ...) and the members of
 * extra_json (a JSON object text such as {"pid":12,"action":"deny"};
 * may be NULL).
 */
void vg_log_event(const char *source, const char *path, const vg_reply *r,
                  const char *extra_json);

/* Lines dropped because the queue was full. */
uint64_t vg_log_dropped(void);

#endif /* VIGIL_ONACCESS_LOG_H */
