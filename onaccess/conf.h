/*
 * conf.h - vigild.conf: clamd.conf's syntax ("Directive value" lines,
 * "#" comments, yes/no, sizes with K/M/G, a list directive repeated once
 * per value) and ONE table of directives. Parsing, --check-config and
 * the man page test (tests/vigild_config.sh) all read the table below.
 */
#ifndef VIGIL_ONACCESS_CONF_H
#define VIGIL_ONACCESS_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Value types. */
typedef enum vg_conf_type {
	VG_CT_STRING,  /* any text */
	VG_CT_PATH,    /* a file or socket path; "" = not set */
	VG_CT_BOOL,    /* yes/no, true/false, on/off, 1/0 */
	VG_CT_NUMBER,  /* decimal count, within [min, max] */
	VG_CT_SIZE,    /* bytes, with an optional K, M or G suffix (x1024) */
	VG_CT_SECONDS, /* seconds, up to three decimals; kept in milliseconds */
	VG_CT_MSEC,    /* milliseconds, as clamd's MaxScanTime */
	VG_CT_MODE,    /* octal file mode, e.g. 660 or 0660 */
	VG_CT_ENUM,    /* one word of the directive's choices "a|b|c" */
	VG_CT_LIST     /* repeatable: every line adds a value */
} vg_conf_type;

/*
 * X(ID, "Name", type, "default", min, max, "choices or NULL", "help")
 * min/max bound numbers, sizes and times (in their stored unit).
 * Keep the groups: the man page lists them in this order.
 */
#define VG_U64MAX UINT64_MAX
#define VG_DIRECTIVES(X) \
	/* --- the daemon --- */ \
	X(FOREGROUND, "Foreground", VG_CT_BOOL, "no", 0, 1, NULL, \
	  "stay in the foreground (systemd runs vigild this way)") \
	X(PID_FILE, "PidFile", VG_CT_PATH, "", 0, 0, NULL, \
	  "write the daemon's pid to this file") \
	X(LOG_FILE, "LogFile", VG_CT_PATH, "", 0, 0, NULL, \
	  "append the text log to this file") \
	X(LOG_SYSLOG, "LogSyslog", VG_CT_BOOL, "yes", 0, 1, NULL, \
	  "send the log to syslog (the journal under systemd)") \
	X(LOG_VERBOSE, "LogVerbose", VG_CT_BOOL, "no", 0, 1, NULL, \
	  "log every scan, not only detections and errors") \
	X(EVENT_LOG_FILE, "EventLogFile", VG_CT_PATH, "", 0, 0, NULL, \
	  "append detection events as JSON lines to this file") \
	X(LOG_QUEUE, "LogQueueLength", VG_CT_NUMBER, "4096", 16, 1048576, NULL, \
	  "log lines held while the log is slow; more are dropped and counted") \
	X(CONTROL_SOCKET, "ControlSocket", VG_CT_PATH, "/run/vigild/control.sock", 0, 0, NULL, \
	  "Unix socket for vigil daemon status|stats|reload (root and ControlGroup only)") \
	X(CONTROL_GROUP, "ControlGroup", VG_CT_STRING, "", 0, 0, NULL, \
	  "group whose members may use the control socket besides root") \
	/* --- the engine --- */ \
	X(DATABASE_DIRECTORY, "DatabaseDirectory", VG_CT_PATH, "", 0, 0, NULL, \
	  "signature folder loaded at start and on every reload; empty: built-in signatures only") \
	X(TRUSTED_KEYS, "TrustedKeys", VG_CT_PATH, "", 0, 0, NULL, \
	  "folder of public keys (*.pub): a bundle (.vgb) loads only when one of them signed it; empty: the trust store vigil was built with") \
	X(ALLOW_UNSIGNED, "AllowUnsignedBundles", VG_CT_BOOL, "no", 0, 1, NULL, \
	  "load unsigned bundles and bundles signed by a key not in TrustedKeys (development only)") \
	X(BUILTIN_SIGNATURES, "BuiltinSignatures", VG_CT_BOOL, "yes", 0, 1, NULL, \
	  "add the built-in test signatures (EICAR, clam.exe)") \
	X(SCAN_ML, "ScanML", VG_CT_BOOL, "yes", 0, 1, NULL, \
	  "score Windows executables with the built-in model") \
	X(SCAN_ARCHIVE, "ScanArchive", VG_CT_BOOL, "yes", 0, 1, NULL, \
	  "unpack archives and containers") \
	X(ALERT_ENCRYPTED, "AlertEncrypted", VG_CT_BOOL, "no", 0, 1, NULL, \
	  "report encrypted archive members as SUSPICIOUS") \
	X(MAX_FILE_SIZE, "MaxFileSize", VG_CT_SIZE, "2G", 1, VG_U64MAX, NULL, \
	  "largest file read at all") \
	X(MAX_SCAN_SIZE, "MaxScanSize", VG_CT_SIZE, "400M", 1, VG_U64MAX, NULL, \
	  "bytes extracted from one file, all members together") \
	X(MAX_FILES, "MaxFiles", VG_CT_NUMBER, "10000", 1, VG_U64MAX, NULL, \
	  "members extracted from one file") \
	X(MAX_RECURSION, "MaxRecursion", VG_CT_NUMBER, "16", 1, 64, NULL, \
	  "nesting depth of containers") \
	X(MAX_MEMBER_SIZE, "MaxMemberSize", VG_CT_SIZE, "100M", 1, VG_U64MAX, NULL, \
	  "size of one extracted member") \
	X(MAX_COMPRESSION_RATIO, "MaxCompressionRatio", VG_CT_NUMBER, "100", 1, VG_U64MAX, NULL, \
	  "largest member size to compressed size ratio") \
	X(RATIO_MIN_SIZE, "RatioMinSize", VG_CT_SIZE, "1M", 0, VG_U64MAX, NULL, \
	  "members smaller than this are exempt from the ratio") \
	X(MAX_SCAN_TIME, "MaxScanTime", VG_CT_MSEC, "120000", 1, 86400000, NULL, \
	  "time per file in milliseconds (as clamd)") \
	X(YARA_TIMEOUT, "YaraTimeout", VG_CT_SECONDS, "10", 1, 86400000, NULL, \
	  "YARA time per object") \
	X(CACHE_ENTRIES, "CacheEntries", VG_CT_NUMBER, "262144", 0, 1U << 30, NULL, \
	  "verdict cache entries of each scan worker; 0 turns the cache off") \
	X(SHARED_CACHE, "SharedCacheEntries", VG_CT_NUMBER, "65536", 0, 1U << 26, NULL, \
	  "clean verdicts vigild itself keeps by file identity, for every client; 0 turns it off") \
	X(SCAN_WORKERS, "ScanWorkers", VG_CT_NUMBER, "0", 0, 256, NULL, \
	  "scan worker processes; 0: one per CPU") \
	X(MAX_QUEUE, "MaxQueue", VG_CT_NUMBER, "256", 1, 65536, NULL, \
	  "scan jobs waiting for a worker; a job past this is refused at once") \
	X(WORKER_HANG_TIMEOUT, "WorkerHangTimeout", VG_CT_SECONDS, "0", 0, 86400000, NULL, \
	  "kill a worker whose scan runs this long; 0: MaxScanTime + 10 s") \
	/* --- the clamd protocol --- */ \
	X(LOCAL_SOCKET, "LocalSocket", VG_CT_PATH, "/run/vigild/clamd.ctl", 0, 0, NULL, \
	  "Unix socket for the clamd protocol; empty: none") \
	X(LOCAL_SOCKET_MODE, "LocalSocketMode", VG_CT_MODE, "666", 0, 0777, NULL, \
	  "permissions of LocalSocket") \
	X(LOCAL_SOCKET_GROUP, "LocalSocketGroup", VG_CT_STRING, "", 0, 0, NULL, \
	  "group owning LocalSocket") \
	X(FIX_STALE_SOCKET, "FixStaleSocket", VG_CT_BOOL, "yes", 0, 1, NULL, \
	  "remove a LocalSocket left by a dead daemon") \
	X(ALLOW_USER, "LocalSocketAllowUser", VG_CT_LIST, "", 0, 0, NULL, \
	  "only these users (names or uids) may use LocalSocket; none listed: everyone") \
	X(ALLOW_GROUP, "LocalSocketAllowGroup", VG_CT_LIST, "", 0, 0, NULL, \
	  "members of these groups may use LocalSocket too") \
	X(TCP_SOCKET, "TCPSocket", VG_CT_NUMBER, "0", 0, 65535, NULL, \
	  "TCP port for INSTREAM and PING; 0: no TCP listener") \
	X(TCP_ADDR, "TCPAddr", VG_CT_LIST, "", 0, 0, NULL, \
	  "addresses the TCP listener binds; none listed: 127.0.0.1") \
	X(TCP_ALLOW, "TCPAllowNetwork", VG_CT_LIST, "", 0, 0, NULL, \
	  "networks (a.b.c.d/n) TCP clients may come from; none listed: 127.0.0.0/8") \
	X(TCP_TOKEN, "TCPToken", VG_CT_STRING, "", 0, 0, NULL, \
	  "if set, a TCP client must send AUTH <token> before any other command") \
	X(MAX_THREADS, "MaxThreads", VG_CT_NUMBER, "10", 1, 1024, NULL, \
	  "clamd commands served at once (each waits for scan workers)") \
	X(MAX_CONNECTIONS, "MaxConnections", VG_CT_NUMBER, "256", 1, 65536, NULL, \
	  "open client connections; more are refused") \
	X(MAX_CONN_QUEUE, "MaxConnectionQueueLength", VG_CT_NUMBER, "200", 1, 65536, NULL, \
	  "listen(2) backlog") \
	X(MAX_COMMAND_LENGTH, "MaxCommandLength", VG_CT_SIZE, "8K", 64, 1048576, NULL, \
	  "longest command line; a longer one is an error") \
	X(STREAM_MAX_LENGTH, "StreamMaxLength", VG_CT_SIZE, "100M", 1, VG_U64MAX, NULL, \
	  "largest INSTREAM body") \
	X(READ_TIMEOUT, "ReadTimeout", VG_CT_SECONDS, "120", 1, 86400000, NULL, \
	  "longest wait for the next bytes of an INSTREAM body") \
	X(COMMAND_READ_TIMEOUT, "CommandReadTimeout", VG_CT_SECONDS, "30", 1, 86400000, NULL, \
	  "longest wait for the first command of a connection") \
	X(IDLE_TIMEOUT, "IdleTimeout", VG_CT_SECONDS, "30", 1, 86400000, NULL, \
	  "longest wait for the next command inside IDSESSION") \
	X(SEND_TIMEOUT, "SendBufTimeout", VG_CT_MSEC, "500", 1, 86400000, NULL, \
	  "longest wait for a client to take a reply, in milliseconds") \
	X(INCOMPLETE_ANSWER, "IncompleteAnswer", VG_CT_ENUM, "found", 0, 0, "found|error", \
	  "reply for a scan a limit cut short: found = Heuristics.Limits.Exceeded.<Limit> FOUND") \
	X(ENABLE_SHUTDOWN, "EnableShutdownCommand", VG_CT_BOOL, "no", 0, 1, NULL, \
	  "obey SHUTDOWN from root or LocalSocketAllowUser peers") \
	X(ENABLE_RELOAD, "EnableReloadCommand", VG_CT_BOOL, "yes", 0, 1, NULL, \
	  "obey RELOAD") \
	X(ENABLE_VERSION, "EnableVersionCommand", VG_CT_BOOL, "yes", 0, 1, NULL, \
	  "answer VERSION") \
	X(ENABLE_STATS, "EnableStatsCommand", VG_CT_BOOL, "yes", 0, 1, NULL, \
	  "answer STATS") \
	X(ALLOW_ALL_MATCH, "AllowAllMatchScan", VG_CT_BOOL, "yes", 0, 1, NULL, \
	  "answer ALLMATCHSCAN") \
	X(FOLLOW_DIR_SYMLINKS, "FollowDirectorySymlinks", VG_CT_BOOL, "no", 0, 1, NULL, \
	  "follow symbolic links to directories in path scans") \
	X(FOLLOW_FILE_SYMLINKS, "FollowFileSymlinks", VG_CT_BOOL, "no", 0, 1, NULL, \
	  "follow symbolic links to files in path scans") \
	X(CROSS_FILESYSTEMS, "CrossFilesystems", VG_CT_BOOL, "yes", 0, 1, NULL, \
	  "descend into other filesystems in path scans") \
	X(MAX_DIR_RECURSION, "MaxDirectoryRecursion", VG_CT_NUMBER, "15", 0, 4096, NULL, \
	  "directory depth of path scans") \
	/* --- on-access (fanotify) --- */ \
	X(OA_INCLUDE_PATH, "OnAccessIncludePath", VG_CT_LIST, "", 0, 0, NULL, \
	  "watch this tree (marks its mount)") \
	X(OA_MOUNT_PATH, "OnAccessMountPath", VG_CT_LIST, "", 0, 0, NULL, \
	  "watch this whole filesystem (FAN_MARK_FILESYSTEM)") \
	X(OA_EXCLUDE_PATH, "OnAccessExcludePath", VG_CT_LIST, "", 0, 0, NULL, \
	  "skip paths under this prefix or matching this glob") \
	X(OA_EXCLUDE_REGEX, "OnAccessExcludeRegex", VG_CT_LIST, "", 0, 0, NULL, \
	  "skip paths matching this PCRE2 regular expression") \
	X(OA_EXCLUDE_EXE, "OnAccessExcludeExecutable", VG_CT_LIST, "", 0, 0, NULL, \
	  "skip accesses by processes running this executable") \
	X(OA_EXCLUDE_UID, "OnAccessExcludeUID", VG_CT_LIST, "", 0, 0, NULL, \
	  "skip accesses by this uid") \
	X(OA_EXCLUDE_UNAME, "OnAccessExcludeUname", VG_CT_LIST, "", 0, 0, NULL, \
	  "skip accesses by this user") \
	X(OA_EXCLUDE_ROOT, "OnAccessExcludeRootUID", VG_CT_BOOL, "no", 0, 1, NULL, \
	  "skip accesses by root") \
	X(OA_EXCLUDE_FSTYPE, "OnAccessExcludeFSType", VG_CT_LIST, "", 0, 0, NULL, \
	  "filesystem types never marked, besides proc, sysfs, cgroup, nfs, fuse and the like") \
	X(OA_BLOCK_EXEC, "OnAccessBlockExec", VG_CT_BOOL, "yes", 0, 1, NULL, \
	  "scan on exec and deny malicious programs (FAN_OPEN_EXEC_PERM)") \
	X(OA_SCAN_ON_CLOSE, "OnAccessScanOnClose", VG_CT_BOOL, "yes", 0, 1, NULL, \
	  "scan files after they are written (FAN_CLOSE_WRITE), blocking no one") \
	X(OA_SCAN_ON_OPEN, "OnAccessScanOnOpen", VG_CT_BOOL, "yes", 0, 1, NULL, \
	  "outside prevention, scan files when opened and log detections (FAN_OPEN), blocking no one") \
	X(OA_EXEC_ONLY, "OnAccessExecOnly", VG_CT_BOOL, "no", 0, 1, NULL, \
	  "intercept exec only: no open or close-write events") \
	X(OA_PREVENTION, "OnAccessPrevention", VG_CT_BOOL, "no", 0, 1, NULL, \
	  "deny every open of a malicious file (FAN_OPEN_PERM) on all watched paths") \
	X(OA_PREVENTION_PATH, "OnAccessPreventionPath", VG_CT_LIST, "", 0, 0, NULL, \
	  "deny opens of malicious files under this path only") \
	X(OA_MAX_FILE_SIZE, "OnAccessMaxFileSize", VG_CT_SIZE, "5M", 0, VG_U64MAX, NULL, \
	  "larger files are not scanned on access (allowed, logged INCOMPLETE); 0: no limit") \
	X(OA_DENY_ON_ERROR, "OnAccessDenyOnError", VG_CT_BOOL, "no", 0, 1, NULL, \
	  "deny when a scan fails instead of allowing") \
	X(OA_DEADLINE, "OnAccessDeadline", VG_CT_SECONDS, "2", 1, 600000, NULL, \
	  "every permission event is answered within this time") \
	X(OA_DEADLINE_ACTION, "OnAccessDeadlineAction", VG_CT_ENUM, "allow", 0, 0, "allow|deny", \
	  "answer at the deadline or when the scan queue is full (deny: fail closed)") \
	X(OA_BG_QUEUE, "OnAccessBackgroundQueue", VG_CT_NUMBER, "16384", 0, 1048576, NULL, \
	  "close-write and open notifications waiting for a background scan; more are dropped and counted") \
	X(OA_BG_NICE, "OnAccessBackgroundNice", VG_CT_NUMBER, "10", 0, 19, NULL, \
	  "added to a worker's nice value while it runs a background scan; 0: no change") \
	X(OA_IGNORE_MARKS, "OnAccessIgnoreMarks", VG_CT_BOOL, "yes", 0, 1, NULL, \
	  "after a clean verdict, tell the kernel to skip the file until it changes") \
	X(OA_ACTION, "OnAccessAction", VG_CT_ENUM, "deny", 0, 0, "deny|log|quarantine", \
	  "on detection: deny the access (permission events), only log it, or deny it and move the file to the vault") \
	X(QUARANTINE_DIR, "QuarantineDirectory", VG_CT_PATH, "", 0, 0, NULL, \
	  "the vault OnAccessAction quarantine moves files to; empty: the vault vigil uses by default") \
	X(QUARANTINE_MAX_SIZE, "QuarantineMaxSize", VG_CT_SIZE, "2G", 0, VG_U64MAX, NULL, \
	  "cap on the vault's size; a file that does not fit stays in place; 0: no cap")

typedef enum vg_conf_id {
#define VG_CONF_ENUM(id, ...) VG_CONF_##id,
	VG_DIRECTIVES(VG_CONF_ENUM)
#undef VG_CONF_ENUM
	VG_CONF_COUNT
} vg_conf_id;

/* One row of the table. */
typedef struct vg_conf_directive {
	const char *name;
	vg_conf_type type;
	const char *def;
	uint64_t min, max;
	const char *choices;
	const char *help;
} vg_conf_directive;

extern const vg_conf_directive vg_conf_table[VG_CONF_COUNT];

/* A parsed configuration: the table's defaults overridden by the file. */
typedef struct vg_config vg_config;

/*
 * Reads a configuration file. Returns NULL with "file:line: reason" in
 * err on an unknown directive, a bad value or a second value for a
 * directive that takes one; NULL with the reason for an unreadable file.
 */
vg_config *vg_config_load(const char *path, char *err, size_t errlen);
/* The same from bytes in memory; name is used in messages. */
vg_config *vg_config_parse(const char *data, size_t len, const char *name,
                           char *err, size_t errlen);
/* Defaults only. NULL when out of memory. */
vg_config *vg_config_defaults(void);
void vg_config_free(vg_config *c);

/* Values. Numbers, sizes and booleans share num (times in ms). */
uint64_t vg_conf_num(const vg_config *c, vg_conf_id id);
int vg_conf_bool(const vg_config *c, vg_conf_id id);
/* Strings, paths and enums; "" when not set. */
const char *vg_conf_str(const vg_config *c, vg_conf_id id);
/* Lists: the i-th value (0-based), NULL past the end. */
size_t vg_conf_list_count(const vg_config *c, vg_conf_id id);
const char *vg_conf_list(const vg_config *c, vg_conf_id id, size_t i);
/* Line of the file that set the directive, 0 for a default. */
unsigned vg_conf_line(const vg_config *c, vg_conf_id id);
/* Path the configuration was read from ("" for defaults). */
const char *vg_conf_source(const vg_config *c);

/* Writes every directive and its effective value, one per line, in
 * vigild.conf syntax (what --check-config prints). */
void vg_config_dump(const vg_config *c, FILE *out);
/* Writes the table: name, type, default, help; tab-separated. */
void vg_config_table_dump(FILE *out);

#endif /* VIGIL_ONACCESS_CONF_H */
