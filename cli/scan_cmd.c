/*
 * scan_cmd.c - `vigil scan`: options, engine set-up, and the walker
 * feeding a pool of scan workers (one vigil_scanner each, all on one
 * frozen engine) through a bounded queue.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/exclude.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "cli/quarantine_cmd.h"
#include "cli/queue.h"
#include "cli/walk.h"
#include "vigil/quarantine.h"
#include "vigil/vigil.h"

#define MAX_JOBS 256

/* A signature path and the default verdict of its YARA rules. */
typedef struct scan_db {
	const char *path;
	vigil_verdict verdict;
} scan_db;

typedef struct scan_opts {
	scan_db *databases;
	int ndatabases;
	int strict_signatures;  /* a bad signature file refuses the scan */
	int yara_score_set[2];  /* --yara-malicious-score, --yara-suspicious-score */
	uint64_t yara_score[2];
	int no_default_signatures;
	const char *trust_dir;  /* NULL: the library's default */
	int jobs;
	uint64_t limits[VIGIL_LIMIT_COUNT];
	int limit_set[VIGIL_LIMIT_COUNT];
	int options[VIGIL_OPTION_COUNT];
	int progress;           /* -1: when stdout and stderr are terminals */
	int skip_exceeds_max;   /* files over --max-filesize: SKIPPED, not
	                         * INCOMPLETE */
	vg_out_opts out;
	vg_walk_opts walk;
	vg_exclude *exclude;
	const char *cloud_url, *cloud_key_file, *cloud_policy;
	char cloud_timeout[24];     /* milliseconds, "" for the default */
	int yes;                /* --yes: --action remove is meant */
	vg_vault_opts vault;    /* --vault, --vault-max-size */
	const char *allowlist;  /* --allowlist, else the default */
	int no_allowlist;
} scan_opts;

/* What the workers share. */
typedef struct scan_job {
	const vigil_engine *engine;
	vg_queue *queue;
	vg_out *out;
	int skip_exceeds_max;
	atomic_int failed;      /* a worker ran out of memory */
	vigil_action action;    /* --action */
	char **roots;           /* the PATH arguments: nothing outside is acted on */
	int nroots;
} scan_job;

static void usage(FILE *f)
{
	fputs(
"Usage: vigil scan [OPTION]... PATH...\n"
"Scan files, and directories recursively, for malware.\n"
"\n"
"Signatures:\n"
"  -d, --database=FILE|DIR   load signatures from FILE, or from every\n"
"                            signature file in DIR and its subfolders,\n"
"                            8 levels down (repeatable); one that yields\n"
"                            no signature is an error\n"
"      --info-rules=FILE|DIR  load signatures; YARA rules there that state\n"
"                            no severity only inform (repeatable)\n"
"      --suspicious-rules=FILE|DIR  the same, as SUSPICIOUS\n"
"      --yara-malicious-score=N  a YARA rule's score meta (0-100) at or\n"
"                            above N is MALICIOUS (default 80)\n"
"      --yara-suspicious-score=N  at or above N is SUSPICIOUS, below it\n"
"                            informational (default 60)\n"
"      --strict-signatures   scan nothing when a signature file does not\n"
"                            load (default: skip it, name it, exit 2)\n"
"      --no-default-signatures  leave out the built-in test signatures\n"
"      --trust=DIR           accept bundles (.vgb) signed by a key in DIR\n"
"                            (default: the trust store built in)\n"
"      --allow-unsigned      load unsigned bundles too (development only)\n"
"\n"
"Walking:\n"
"  -r, --recursive           accepted for clamscan users: always on\n"
"      --exclude=PATTERN     skip what matches: a glob on the path or its\n"
"                            base name, or re:REGEX on the path (repeatable)\n"
"      --follow-symlinks     follow symbolic links found while walking\n"
"  -x, --one-file-system     stay on the file system of each PATH\n"
"\n"
"Limits (SIZE takes K, M, G, T suffixes; SEC may have a fraction; 0 is\n"
"no limit, except for --cache-entries and --ratio-min-size):\n"
"      --max-filesize=SIZE   larger files and members are not read: their\n"
"                            verdict is INCOMPLETE (default 2G)\n"
"      --skip-exceeds-max    report files over --max-filesize as SKIPPED\n"
"                            instead, leaving the exit status alone\n"
"      --max-depth=N         archive nesting depth (default 16, at most 64)\n"
"      --max-extracted=SIZE  bytes extracted per file (default 400000000)\n"
"      --max-members=N       members per file (default 10000)\n"
"      --max-member-size=SIZE  size of one member (default 100000000)\n"
"      --max-ratio=N         member to compressed size ratio (default 100)\n"
"      --ratio-min-size=SIZE members below this skip the ratio check\n"
"                            (default 1000000)\n"
"      --max-scan-time=SEC   time per file (default 120)\n"
"      --max-worker-memory=SIZE  memory an unpacking worker may take for\n"
"                            one file (default 512M)\n"
"      --yara-timeout=SEC    YARA time per object (default 10)\n"
"      --cache-entries=N     verdict cache size, 0 turns it off\n"
"                            (default 262144)\n"
"\n"
"Engine:\n"
"      --no-unpack           do not look inside archives and containers\n"
"      --no-isolation        run libarchive and libclamav in this process,\n"
"                            not in sandboxed vigil-unpackd workers\n"
"      --no-ml               do not use the machine-learning model\n"
"      --encrypted-suspicious  report encrypted members as SUSPICIOUS\n"
"  -j, --jobs=N              scan with N threads (default: online CPUs)\n"
"      --allowlist=FILE      also load this local allowlist (.sfp) if it\n"
"                            exists (default " VIGIL_DEFAULT_ALLOWLIST ")\n"
"      --no-allowlist        do not load the local allowlist\n"
"\n"
"Actions on MALICIOUS and SUSPICIOUS files (never on INCOMPLETE alone):\n"
"      --action=ACTION       report (default), quarantine, or remove\n"
"      --yes                 confirm --action=remove\n"
"      --vault=DIR           quarantine vault (default\n"
"                            " VIGIL_DEFAULT_VAULT_DIR ")\n"
"      --vault-max-size=SIZE  refuse to grow the vault past SIZE (default 2G)\n"
"\n"
"Cloud lookup (a vigil-cloudd service; hashes only, never content):\n"
"      --cloud=URL           ask the service at URL about undecided files\n"
"      --cloud-key=FILE      API key: the first line of FILE\n"
"      --cloud-timeout=SEC   cloud time per file (default 0.2)\n"
"      --cloud-policy=open|closed  without an answer, keep the local\n"
"                            verdict (open, default) or report INCOMPLETE\n"
"\n"
"Output:\n"
"  -i, --infected            print only files where something was found\n"
"  -v, --verbose             also print informational findings, and why\n"
"                            each finding has its verdict\n"
"      --json                one JSON object per line (see vigil-json)\n"
"      --no-progress         no progress line (shown only when stdout and\n"
"                            stderr are terminals)\n"
"      --no-summary          no summary at the end\n"
"  -h, --help                show this help\n"
"\n"
"Exit status: 0 nothing found, 1 something found, 2 errors, 3 a limit\n"
"stopped part of a scan. 1 wins over 2, and 2 over 3.\n", f);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("vigil: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'vigil scan --help' for more information.\n", stderr);
	return VG_EXIT_ERROR;
}

enum {
	OPT_NO_DEFAULT_SIGS = 256, OPT_EXCLUDE, OPT_FOLLOW, OPT_JSON,
	OPT_NO_PROGRESS, OPT_NO_SUMMARY, OPT_NO_UNPACK, OPT_NO_ML,
	OPT_ENCRYPTED, OPT_CLOUD, OPT_CLOUD_KEY, OPT_CLOUD_TIMEOUT,
	OPT_CLOUD_POLICY, OPT_INFO_RULES, OPT_SUSPICIOUS_RULES,
	OPT_STRICT_SIGS, OPT_YARA_MALICIOUS, OPT_YARA_SUSPICIOUS,
	OPT_ACTION, OPT_YES, OPT_VAULT, OPT_VAULT_MAX,
	OPT_ALLOWLIST, OPT_NO_ALLOWLIST,
	OPT_TRUST, OPT_ALLOW_UNSIGNED,
	OPT_SKIP_EXCEEDS_MAX,
	OPT_NO_ISOLATION,
	OPT_LIMIT_BASE = 512  /* + vigil_limit */
};

/* How each limit's flag is parsed: seconds convert to milliseconds. */
typedef int (*limit_parser)(const char *, uint64_t *);
static const limit_parser limit_parsers[VIGIL_LIMIT_COUNT] = {
	[VIGIL_LIMIT_MAX_FILESIZE] = vg_cli_parse_size,
	[VIGIL_LIMIT_YARA_TIMEOUT_MS] = vg_cli_parse_seconds_ms,
	[VIGIL_LIMIT_CACHE_ENTRIES] = vg_cli_parse_count,
	[VIGIL_LIMIT_MAX_DEPTH] = vg_cli_parse_count,
	[VIGIL_LIMIT_MAX_EXTRACTED] = vg_cli_parse_size,
	[VIGIL_LIMIT_MAX_MEMBERS] = vg_cli_parse_count,
	[VIGIL_LIMIT_MAX_MEMBER_SIZE] = vg_cli_parse_size,
	[VIGIL_LIMIT_MAX_RATIO] = vg_cli_parse_count,
	[VIGIL_LIMIT_RATIO_MIN_SIZE] = vg_cli_parse_size,
	[VIGIL_LIMIT_MAX_SCAN_MS] = vg_cli_parse_seconds_ms,
	[VIGIL_LIMIT_MAX_WORKER_MEMORY] = vg_cli_parse_size,
};

#define LIMIT_OPT(name, limit) \
	{ name, required_argument, NULL, OPT_LIMIT_BASE + (limit) }

static const struct option long_options[] = {
	{ "database", required_argument, NULL, 'd' },
	{ "info-rules", required_argument, NULL, OPT_INFO_RULES },
	{ "suspicious-rules", required_argument, NULL, OPT_SUSPICIOUS_RULES },
	{ "yara-malicious-score", required_argument, NULL, OPT_YARA_MALICIOUS },
	{ "yara-suspicious-score", required_argument, NULL, OPT_YARA_SUSPICIOUS },
	{ "strict-signatures", no_argument, NULL, OPT_STRICT_SIGS },
	{ "no-default-signatures", no_argument, NULL, OPT_NO_DEFAULT_SIGS },
	{ "trust", required_argument, NULL, OPT_TRUST },
	{ "allow-unsigned", no_argument, NULL, OPT_ALLOW_UNSIGNED },
	{ "recursive", no_argument, NULL, 'r' },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "follow-symlinks", no_argument, NULL, OPT_FOLLOW },
	{ "one-file-system", no_argument, NULL, 'x' },
	LIMIT_OPT("max-filesize", VIGIL_LIMIT_MAX_FILESIZE),
	{ "skip-exceeds-max", no_argument, NULL, OPT_SKIP_EXCEEDS_MAX },
	LIMIT_OPT("max-depth", VIGIL_LIMIT_MAX_DEPTH),
	LIMIT_OPT("max-extracted", VIGIL_LIMIT_MAX_EXTRACTED),
	LIMIT_OPT("max-members", VIGIL_LIMIT_MAX_MEMBERS),
	LIMIT_OPT("max-member-size", VIGIL_LIMIT_MAX_MEMBER_SIZE),
	LIMIT_OPT("max-ratio", VIGIL_LIMIT_MAX_RATIO),
	LIMIT_OPT("ratio-min-size", VIGIL_LIMIT_RATIO_MIN_SIZE),
	LIMIT_OPT("max-scan-time", VIGIL_LIMIT_MAX_SCAN_MS),
	LIMIT_OPT("max-worker-memory", VIGIL_LIMIT_MAX_WORKER_MEMORY),
	LIMIT_OPT("yara-timeout", VIGIL_LIMIT_YARA_TIMEOUT_MS),
	LIMIT_OPT("cache-entries", VIGIL_LIMIT_CACHE_ENTRIES),
	{ "no-unpack", no_argument, NULL, OPT_NO_UNPACK },
	{ "no-isolation", no_argument, NULL, OPT_NO_ISOLATION },
	{ "no-ml", no_argument, NULL, OPT_NO_ML },
	{ "encrypted-suspicious", no_argument, NULL, OPT_ENCRYPTED },
	{ "cloud", required_argument, NULL, OPT_CLOUD },
	{ "cloud-key", required_argument, NULL, OPT_CLOUD_KEY },
	{ "cloud-timeout", required_argument, NULL, OPT_CLOUD_TIMEOUT },
	{ "cloud-policy", required_argument, NULL, OPT_CLOUD_POLICY },
	{ "jobs", required_argument, NULL, 'j' },
	{ "allowlist", required_argument, NULL, OPT_ALLOWLIST },
	{ "no-allowlist", no_argument, NULL, OPT_NO_ALLOWLIST },
	{ "action", required_argument, NULL, OPT_ACTION },
	{ "yes", no_argument, NULL, OPT_YES },
	{ "vault", required_argument, NULL, OPT_VAULT },
	{ "vault-max-size", required_argument, NULL, OPT_VAULT_MAX },
	{ "infected", no_argument, NULL, 'i' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "no-summary", no_argument, NULL, OPT_NO_SUMMARY },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static const char *option_name(int c)
{
	for (const struct option *o = long_options; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

/* Returns -1 to go on scanning, else the exit code. */
static int parse_options(int argc, char **argv, scan_opts *so)
{
	char errbuf[512];
	uint64_t v;
	int c;

	so->progress = -1;
	so->out.summary = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:rxj:ivh", long_options, NULL)) != -1) {
		switch (c) {
		case 'd':
		case OPT_INFO_RULES:
		case OPT_SUSPICIOUS_RULES:
			so->databases[so->ndatabases++] = (scan_db){
				optarg, c == OPT_INFO_RULES ? VIGIL_CLEAN :
				        c == OPT_SUSPICIOUS_RULES ? VIGIL_SUSPICIOUS
				                                  : VIGIL_MALICIOUS };
			break;
		case OPT_STRICT_SIGS: so->strict_signatures = 1; break;
		case OPT_YARA_MALICIOUS:
		case OPT_YARA_SUSPICIOUS: {
			int i = c == OPT_YARA_SUSPICIOUS;
			if (vg_cli_parse_count(optarg, &v) != 0 || v > 100) {
				snprintf(errbuf, sizeof errbuf, "--%s: '%s' is not a score "
				         "from 0 to 100", option_name(c), optarg);
				return usage_error("%s", errbuf);
			}
			so->yara_score[i] = v;
			so->yara_score_set[i] = 1;
			break;
		}
		case OPT_NO_DEFAULT_SIGS: so->no_default_signatures = 1; break;
		case OPT_TRUST: so->trust_dir = optarg; break;
		case OPT_ALLOW_UNSIGNED:
			so->options[VIGIL_OPT_ALLOW_UNSIGNED] = 1;
			break;
		case 'r': break;
		case OPT_EXCLUDE:
			if (vg_exclude_add(so->exclude, optarg, errbuf, sizeof errbuf) != 0)
				return usage_error("--exclude: %s", errbuf);
			break;
		case OPT_FOLLOW: so->walk.follow_symlinks = 1; break;
		case OPT_SKIP_EXCEEDS_MAX: so->skip_exceeds_max = 1; break;
		case 'x': so->walk.one_file_system = 1; break;
		case OPT_NO_UNPACK: so->options[VIGIL_OPT_NO_UNPACK] = 1; break;
		case OPT_NO_ISOLATION: so->options[VIGIL_OPT_NO_ISOLATION] = 1; break;
		case OPT_NO_ML: so->options[VIGIL_OPT_NO_ML] = 1; break;
		case OPT_ENCRYPTED:
			so->options[VIGIL_OPT_ENCRYPTED_SUSPICIOUS] = 1;
			break;
		case OPT_CLOUD: so->cloud_url = optarg; break;
		case OPT_CLOUD_KEY: so->cloud_key_file = optarg; break;
		case OPT_CLOUD_TIMEOUT:
			if (vg_cli_parse_seconds_ms(optarg, &v) != 0 || v < 1 ||
			    v > 600000)
				return usage_error("--cloud-timeout: '%s' is not a time from "
				                   "0.001 to 600 seconds", optarg);
			snprintf(so->cloud_timeout, sizeof so->cloud_timeout, "%llu",
			         (unsigned long long)v);
			break;
		case OPT_CLOUD_POLICY:
			if (strcmp(optarg, "open") != 0 && strcmp(optarg, "closed") != 0)
				return usage_error("--cloud-policy: '%s' is not open or closed",
				                   optarg);
			so->cloud_policy = optarg;
			break;
		case 'j':
			if (vg_cli_parse_count(optarg, &v) != 0 || v < 1 || v > MAX_JOBS)
				return usage_error("--jobs: '%s' is not a number from 1 to 256",
				                   optarg);
			so->jobs = (int)v;
			break;
		case OPT_ACTION:
			if (!strcmp(optarg, "report"))
				so->out.action = VIGIL_ACTION_REPORT;
			else if (!strcmp(optarg, "quarantine"))
				so->out.action = VIGIL_ACTION_QUARANTINE;
			else if (!strcmp(optarg, "remove"))
				so->out.action = VIGIL_ACTION_REMOVE;
			else
				return usage_error("--action: '%s' is not report, "
				                   "quarantine or remove", optarg);
			break;
		case OPT_YES: so->yes = 1; break;
		case OPT_VAULT: so->vault.dir = optarg; break;
		case OPT_VAULT_MAX:
			if (vg_cli_parse_size(optarg, &so->vault.max_size) != 0)
				return usage_error("--vault-max-size: bad size '%s'", optarg);
			so->vault.max_size_set = 1;
			break;
		case OPT_ALLOWLIST: so->allowlist = optarg; break;
		case OPT_NO_ALLOWLIST: so->no_allowlist = 1; break;
		case 'i': so->out.infected_only = 1; break;
		case 'v': so->out.verbose = 1; break;
		case OPT_JSON: so->out.json = 1; break;
		case OPT_NO_PROGRESS: so->progress = 0; break;
		case OPT_NO_SUMMARY: so->out.summary = 0; break;
		case 'h':
			usage(stdout);
			return VG_EXIT_CLEAN;
		default:
			if (c >= OPT_LIMIT_BASE && c < OPT_LIMIT_BASE + VIGIL_LIMIT_COUNT) {
				int limit = c - OPT_LIMIT_BASE;
				if (limit_parsers[limit](optarg, &v) != 0) {
					snprintf(errbuf, sizeof errbuf, "--%s: bad value '%s'",
					         option_name(c), optarg);
					return usage_error("%s", errbuf);
				}
				so->limits[limit] = v;
				so->limit_set[limit] = 1;
				break;
			}
			/* getopt has said what was wrong */
			fputs("Try 'vigil scan --help' for more information.\n", stderr);
			return VG_EXIT_ERROR;
		}
	}
	if (optind >= argc)
		return usage_error("%s", "scan: no PATH given");
	if (so->out.action == VIGIL_ACTION_REMOVE && !so->yes)
		return usage_error("%s", "--action=remove deletes what is found "
		                   "with no copy kept: add --yes to confirm "
		                   "(or use --action=quarantine)");
	return -1;
}

/* The API key: the first line of path. 0, or -1 after saying why. */
static int read_key(const char *path, char *key, size_t cap)
{
	FILE *f = fopen(path, "r");

	if (!f || !fgets(key, (int)cap, f)) {
		vg_cli_warn("--cloud-key: %s: %s", path,
		            f ? "empty file" : strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	key[strcspn(key, "\r\n")] = '\0';
	return 0;
}

/* The cloud settings the options ask for. */
static vigil_error set_cloud(vigil_engine *e, const scan_opts *so)
{
	char key[512];
	vigil_error err = VIGIL_OK;

	if (!so->cloud_url)
		return VIGIL_OK;
	if (so->cloud_key_file) {
		if (read_key(so->cloud_key_file, key, sizeof key) != 0)
			return VIGIL_EINVAL;
		err = vigil_engine_set_cloud(e, VIGIL_CLOUD_KEY, key);
	}
	if (!err)
		err = vigil_engine_set_cloud(e, VIGIL_CLOUD_URL, so->cloud_url);
	if (!err && so->cloud_timeout[0])
		err = vigil_engine_set_cloud(e, VIGIL_CLOUD_TIMEOUT_MS,
		                             so->cloud_timeout);
	if (!err && so->cloud_policy)
		err = vigil_engine_set_cloud(e, VIGIL_CLOUD_POLICY, so->cloud_policy);
	return err;
}

/* Each signature file that does not load is reported, and skipped: so
 * every bad file is named, also with --strict-signatures, which then
 * refuses to scan once all are loaded. */
static int on_load_error(const char *path, vigil_error err,
                         const char *message, void *userdata)
{
	vg_out_sig_error(userdata, path, err, message);
	return VIGIL_CONTINUE;
}

/* The engine the options ask for, loaded and frozen; NULL after saying
 * why (on stderr, and as JSON lines with --json). */
static vigil_engine *make_engine(const scan_opts *so, vg_out *out)
{
	static const vigil_threshold yara_thresholds[2] = {
		VIGIL_THRESHOLD_YARA_MALICIOUS, VIGIL_THRESHOLD_YARA_SUSPICIOUS
	};
	const char *loading = "";
	vigil_engine *e;
	vigil_error err;
	vg_stats st;

	if ((err = vigil_engine_new(&e)) != VIGIL_OK) {
		vg_out_sig_error(out, "", err, vigil_strerror(err));
		return NULL;
	}
	vigil_engine_set_load_callback(e, on_load_error, out);
	for (int i = 0; i < VIGIL_LIMIT_COUNT; i++)
		if (so->limit_set[i] &&
		    (err = vigil_engine_set_limit(e, (vigil_limit)i, so->limits[i])))
			goto fail;
	for (int i = 0; i < VIGIL_OPTION_COUNT; i++)
		if (so->options[i] &&
		    (err = vigil_engine_set_option(e, (vigil_option)i, 1)))
			goto fail;
	if ((err = set_cloud(e, so)) != VIGIL_OK)
		goto fail;
	if (so->trust_dir &&
	    (err = vigil_engine_set_trust_dir(e, so->trust_dir)) != VIGIL_OK)
		goto fail;
	for (int i = 0; i < 2; i++)
		if (so->yara_score_set[i] &&
		    (err = vigil_engine_set_threshold(e, yara_thresholds[i],
		                                      so->yara_score[i] / 100.0)))
			goto fail;
	for (int i = 0; i < so->ndatabases; i++) {
		loading = so->databases[i].path;
		err = vigil_engine_load_as(e, loading, so->databases[i].verdict);
		if (err != VIGIL_OK)
			goto fail;
	}
	vg_out_stats(out, &st);
	if (st.sig_errors && so->strict_signatures) {
		vg_cli_warn("--strict-signatures: not scanning, %llu signature "
		            "file%s did not load", (unsigned long long)st.sig_errors,
		            st.sig_errors == 1 ? "" : "s");
		vigil_engine_free(e);
		return NULL;
	}
	loading = "";
	if (!so->no_allowlist &&
	    vg_cli_load_allowlist(e, so->allowlist ? so->allowlist
	                                           : vigil_quarantine_default_allowlist()) != 0) {
		vigil_engine_free(e);
		return NULL;
	}
	if ((err = vigil_engine_freeze(e)) != VIGIL_OK)
		goto fail;
	return e;
fail:
	/* only what the load callback cannot skip: out of memory, a
	 * library's failure, a bad option */
	vg_out_sig_error(out, loading, err, *vigil_engine_last_error(e)
	                 ? vigil_engine_last_error(e) : vigil_strerror(err));
	vigil_engine_free(e);
	return NULL;
}

static vigil_error error_of_errno(int e)
{
	switch (e) {
	case ENOENT: case ENOTDIR: return VIGIL_ENOENT;
	case EACCES: case EPERM: return VIGIL_EACCES;
	case ENOMEM: return VIGIL_ENOMEM;
	default: return VIGIL_EIO;
	}
}

/* "path: why" from libvigil, without the path we print anyway. */
static const char *without_path(const char *msg, const char *path)
{
	size_t n = strlen(path);

	if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	return msg;
}

/* The scan root a walked path came from: the longest PATH argument it
 * lies under (the library checks again, on the file system). */
static const char *root_of(const scan_job *job, const char *path)
{
	const char *best = NULL;
	size_t best_len = 0;

	for (int i = 0; i < job->nroots; i++) {
		const char *r = job->roots[i];
		size_t n = strlen(r);
		if (strncmp(path, r, n) != 0 ||
		    !(path[n] == '\0' || path[n] == '/' || (n && r[n - 1] == '/')))
			continue;
		if (!best || n > best_len) {
			best = r;
			best_len = n;
		}
	}
	return best;
}

/* --action: acts on the descriptor that was scanned. */
static void act(const scan_job *job, vigil_quarantine *q, int fd,
                const char *path, const vigil_result *r,
                char id[VIGIL_QUARANTINE_ID_SIZE], vg_out_action *a)
{
	const char *root = root_of(job, path);

	a->action = job->action;
	a->id = id;
	if (!root) {
		a->err = VIGIL_EUNSAFE;
		a->message = "not under a scanned PATH";
		return;
	}
	a->err = vigil_quarantine_act(q, job->action, fd, root, path, r, id);
	a->message = without_path(vigil_quarantine_last_error(q), path);
}

static void scan_one(const scan_job *job, vigil_scanner *s,
                     vigil_quarantine *q, const char *path, int nofollow)
{
	char id[VIGIL_QUARANTINE_ID_SIZE];
	vg_out_action a = { .id = NULL };
	/* O_NONBLOCK: a FIFO that took a file's place since the walk must
	 * not hang the worker; O_NOATIME: only the owner (or root) may */
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	            (nofollow ? O_NOFOLLOW : 0);
	vigil_result *r;
	vigil_error err;
	int fd = open(path, flags | O_NOATIME);

	if (fd < 0 && errno == EPERM)
		fd = open(path, flags);
	if (fd < 0) {
		int e = errno;
		vg_out_error(job->out, path, error_of_errno(e), strerror(e));
		return;
	}
	err = vigil_scan_fd(s, fd, path, &r);
	/* the action works on this same descriptor: no second open that
	 * could reach another file */
	if (err == VIGIL_OK && q && vigil_result_verdict(r) >= VIGIL_SUSPICIOUS)
		act(job, q, fd, path, r, id, &a);
	close(fd);
	if (err == VIGIL_OK) {
		vg_out_result(job->out, path, r, a.id ? &a : NULL);
		vigil_result_free(r);
	} else if (err == VIGIL_ETOOLARGE && job->skip_exceeds_max) {
		vg_out_skipped(job->out, path, "larger than --max-filesize");
	} else if (err == VIGIL_ETOOLARGE) {
		/* unread is not clean: the run must not exit 0 */
		vg_out_limit_skipped(job->out, path,
		                     vigil_limit_name(VIGIL_LIMIT_MAX_FILESIZE),
		                     "larger than --max-filesize");
	} else {
		vg_out_error(job->out, path, err,
		             without_path(vigil_scanner_last_error(s), path));
	}
}

/* One scan thread: its own scanner, paths from the shared queue. */
typedef struct worker_arg {
	scan_job *job;
	vigil_scanner *scanner;
	vigil_quarantine *vault;  /* with --action: one handle per thread */
} worker_arg;

static void *worker(void *arg)
{
	const worker_arg *w = arg;
	char *path = NULL;
	size_t cap = 0;
	int flags, r;

	while ((r = vg_queue_pop(w->job->queue, &path, &cap, &flags)) == 1)
		scan_one(w->job, w->scanner, w->vault, path, flags);
	if (r < 0) {
		/* ends the walk too: its pushes fail on a closed queue */
		vg_cli_warn("out of memory");
		atomic_store(&w->job->failed, 1);
		vg_queue_close(w->job->queue);
	}
	free(path);
	return NULL;
}

/* Walker callbacks. */
static int on_file(void *ud, const char *path, size_t len, int nofollow)
{
	const scan_job *job = ud;

	return vg_queue_push(job->queue, path, len, nofollow) != 0;
}

static void on_skipped(void *ud, const char *path, const char *reason)
{
	vg_out_skipped(((const scan_job *)ud)->out, path, reason);
}

static void on_error(void *ud, const char *path, int errnum)
{
	vg_out_error(((const scan_job *)ud)->out, path, error_of_errno(errnum),
	             strerror(errnum));
}

static void on_dir(void *ud, const char *path)
{
	vg_out_dir(((const scan_job *)ud)->out);
}

static int default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_JOBS ? MAX_JOBS : (int)n;
}

/*
 * Walks every root into the queue while the workers scan. The scanners
 * are made before any thread starts, so a failure there cannot leave the
 * walker waiting on a queue nobody drains.
 */
static int run_scan(scan_opts *so, char **roots, int nroots,
                    const vigil_engine *e, vg_out *out)
{
	static const vg_walk_ops ops = {
		.file = on_file, .skipped = on_skipped, .error = on_error,
		.dir = on_dir,
	};
	worker_arg workers[MAX_JOBS] = { { NULL } };
	pthread_t threads[MAX_JOBS];
	scan_job job = { .engine = e, .out = out, .action = so->out.action,
	                 .roots = roots, .nroots = nroots,
	                 .skip_exceeds_max = so->skip_exceeds_max };
	vg_progress *progress = NULL;
	vg_walker *w = NULL;
	int made = 0, started = 0, r = -1;
	vigil_error err = VIGIL_OK;

	if (!(job.queue = vg_queue_new(64 + 16 * (size_t)so->jobs)) ||
	    !(w = vg_walker_new(&so->walk, &ops, &job))) {
		vg_cli_warn("out of memory");
		goto out;
	}
	for (; made < so->jobs; made++) {
		workers[made].job = &job;
		if ((err = vigil_scanner_new(e, &workers[made].scanner)) != VIGIL_OK) {
			vg_cli_warn("cannot make a scanner: %s", vigil_strerror(err));
			goto out;
		}
		/* the vault is checked before any file is scanned: a vault that
		 * cannot take items stops the scan with its reason */
		if (so->out.action != VIGIL_ACTION_REPORT &&
		    !(workers[made].vault = vg_cli_vault_open(&so->vault,
		            so->out.action == VIGIL_ACTION_QUARANTINE))) {
			made++;
			goto out;
		}
	}
	for (int i = 0; i < made; i++)
		if (pthread_create(&threads[started], NULL, worker, &workers[i]) == 0)
			started++;
	if (!started) {
		vg_cli_warn("cannot start a scan thread");
		goto out;
	}
	if (so->progress)
		progress = vg_progress_start(out, roots, nroots, &so->walk);
	r = 0;
	for (int i = 0; r == 0 && i < nroots; i++)
		r = vg_walker_run(w, roots[i]);
	if (r < 0)
		vg_cli_warn("out of memory while walking");
	vg_queue_close(job.queue);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	vg_progress_stop(progress);
	if (atomic_load(&job.failed))
		r = -1;
out:
	for (int i = 0; i < made; i++) {
		vigil_scanner_free(workers[i].scanner);
		vigil_quarantine_free(workers[i].vault);
	}
	vg_walker_free(w);
	vg_queue_free(job.queue);
	return r < 0 ? -1 : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* run from the table in cli/main.c */
int vg_cli_scan(int argc, char **argv);

int vg_cli_scan(int argc, char **argv)
{
	scan_opts so = { .jobs = 0 };
	vigil_engine *e = NULL;
	vg_out *out = NULL;
	double t0;
	int code;

	so.databases = calloc((size_t)argc + 1, sizeof *so.databases);
	so.exclude = vg_exclude_new();
	if (!so.databases || !so.exclude) {
		vg_cli_warn("out of memory");
		code = VG_EXIT_ERROR;
		goto out;
	}
	if ((code = parse_options(argc, argv, &so)) >= 0)
		goto out;
	code = VG_EXIT_ERROR;
	if (so.no_default_signatures)
		so.options[VIGIL_OPT_NO_DEFAULT_SIGNATURES] = 1;
	if (!so.jobs)
		so.jobs = default_jobs();
	if (so.progress < 0)
		so.progress = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
	so.walk.exclude = so.exclude;
	if (!(out = vg_out_new(&so.out))) {
		vg_cli_warn("out of memory");
		goto out;
	}
	if (!(e = make_engine(&so, out))) {
		/* scripts reading --json always get their summary line */
		if (so.out.json)
			vg_out_summary(out, 0, 0);
		goto out;
	}
	/* reports are many short lines: write them in big blocks */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	/* the summary times the scan, not the loading of signatures */
	t0 = now_s();
	if (run_scan(&so, argv + optind, argc - optind, e, out) != 0)
		goto out;
	vg_out_summary(out, now_s() - t0, vigil_engine_signature_count(e));
	code = vg_out_exit_code(out);
out:
	vg_out_free(out);
	vigil_engine_free(e);
	vg_exclude_free(so.exclude);
	free(so.databases);
	return code;
}
