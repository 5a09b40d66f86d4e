/*
 * quarantine_cmd.c - `vigil quarantine list|show|restore|delete|purge`,
 * and the vault and allowlist set-up `vigil scan` shares with it.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/quarantine_cmd.h"

/* ---- shared with vigil scan -------------------------------------- */

vigil_quarantine *vg_cli_vault_open(const vg_vault_opts *o, int check)
{
	vigil_quarantine *q;
	vigil_error err;

	if ((err = vigil_quarantine_new(o->dir, &q)) != VIGIL_OK) {
		vg_cli_warn("%s", vigil_strerror(err));
		return NULL;
	}
	vigil_quarantine_set_agent(q, "vigil " VIGIL_VERSION_STRING);
	if (o->max_size_set)
		vigil_quarantine_set_max_size(q, o->max_size);
	if (check && (err = vigil_quarantine_check(q)) != VIGIL_OK) {
		vg_cli_warn("%s", *vigil_quarantine_last_error(q)
		            ? vigil_quarantine_last_error(q) : vigil_strerror(err));
		vigil_quarantine_free(q);
		return NULL;
	}
	return q;
}

int vg_cli_load_allowlist(vigil_engine *e, const char *path)
{
	struct stat st;
	vigil_error err;

	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;  /* nothing allowlisted yet */
		vg_cli_warn("allowlist %s: %s", path, strerror(errno));
		return -1;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022)) {
		vg_cli_warn("allowlist %s: refused: it must belong to root or to "
		            "you and be writable by no one else", path);
		return -1;
	}
	if ((err = vigil_engine_load(e, path)) != VIGIL_OK) {
		vg_cli_warn("%s", *vigil_engine_last_error(e)
		            ? vigil_engine_last_error(e) : vigil_strerror(err));
		return -1;
	}
	return 0;
}

/* ---- printing ---------------------------------------------------- */

/* Length of a valid UTF-8 sequence at p, or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
	           : p[0] >= 0xe0 && p[0] <= 0xef ? 3
	           : p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : 0;

	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* overlong three- and four-byte forms, surrogates, past U+10FFFF */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;
	return len;
}

/* A path on one line whatever its bytes: controls, backslashes and
 * bytes that are not UTF-8 as \xNN (ls -b style), so a name with a
 * newline cannot fake another entry. */
static void print_path(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t len = p[i] >= 0x80 ? utf8_len(p + i, n - i) : 1;
		if (p[i] == '\\') {
			fputs("\\\\", stdout);
		} else if (p[i] < 0x20 || p[i] == 0x7f || !len) {
			printf("\\x%02x", p[i]);
			len = 1;
		} else {
			fwrite(p + i, 1, len, stdout);
		}
		i += len;
	}
}

static void print_time_ns(int64_t ns, int with_ns)
{
	time_t t = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;
	char buf[64];

	if (frac < 0) {
		frac += 1000000000;
		t--;
	}
	if (!localtime_r(&t, &tm) ||
	    !strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm)) {
		printf("%lld", (long long)ns);
		return;
	}
	fputs(buf, stdout);
	if (with_ns)
		printf(".%09ld", frac);
	if (strftime(buf, sizeof buf, " %z", &tm))
		fputs(buf, stdout);
}

/* ---- options ----------------------------------------------------- */

enum { OPT_VAULT = 256, OPT_JSON, OPT_TO, OPT_FORCE, OPT_ALLOW,
       OPT_ALLOWLIST, OPT_OLDER };
/* A set of options, for what each command takes. */
#define BIT(opt) (1u << ((opt) - OPT_VAULT))

static void usage(FILE *f)
{
	fputs(
"Usage: vigil quarantine [--vault=DIR] COMMAND [OPTION]... [ID]\n"
"List, inspect, restore and delete what `vigil scan --action=quarantine`\n"
"put in the vault.\n"
"\n"
"Commands:\n"
"  list [--json]           every item, oldest first: ID, date, size, threat,\n"
"                          original path (--json: one record per line)\n"
"  show ID [--json]        one item's record\n"
"  restore ID [--to=PATH] [--force] [--allow [--allowlist=FILE]]\n"
"                          put the file back with its owner, mode, times,\n"
"                          extended attributes and ACLs; --force replaces\n"
"                          an existing file; --allow adds its hash to the\n"
"                          local allowlist so scans stop finding it\n"
"  delete ID               delete an item for good\n"
"  purge --older-than=AGE  delete items older than AGE (30d, 12h, 2w ...)\n"
"\n"
"ID is an item's 16 hex digits, or a unique prefix of 4 or more.\n"
"\n"
"Options (each command takes them too):\n"
"      --vault=DIR         the vault (default " VIGIL_DEFAULT_VAULT_DIR ")\n"
"  -h, --help              show this help\n"
"\n"
"Exit status: 0 done, 2 an error (the item stays where it was).\n", f);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("vigil: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'vigil quarantine --help' for more information.\n", stderr);
	return VG_EXIT_ERROR;
}

/* What the commands may be given. */
typedef struct qopts {
	vg_vault_opts vault;
	int json, force, allow;
	const char *to, *allowlist;
	int64_t older_than_s;   /* -1: not given */
} qopts;

/* "30d": a number and a unit (s, m, h, d, w). No unit is an error, so a
 * slip cannot purge everything older than 30 seconds. */
static int parse_age(const char *s, int64_t *out)
{
	static const struct { char unit; int64_t s; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 604800 },
	};
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno || end == s || !end[0] || end[1])
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (*end == units[i].unit) {
			if (v > (unsigned long long)(INT64_MAX / 1000000000 / units[i].s))
				return -1;
			*out = (int64_t)v * units[i].s;
			return 0;
		}
	return -1;
}

/* Options of one command; returns -1 to go on, else the exit code. */
static int parse(int argc, char **argv, unsigned allowed, qopts *o)
{
	static const struct option longs[] = {
		{ "vault", required_argument, NULL, OPT_VAULT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "to", required_argument, NULL, OPT_TO },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "allow", no_argument, NULL, OPT_ALLOW },
		{ "allowlist", required_argument, NULL, OPT_ALLOWLIST },
		{ "older-than", required_argument, NULL, OPT_OLDER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c, idx;

	/* 0, not 1: glibc then forgets the state of the previous parse */
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longs, &idx)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return VG_EXIT_CLEAN;
		}
		if (c == '?')
			return usage_error("%s", "bad option");
		if (c != OPT_VAULT && !(allowed & BIT(c)))
			return usage_error("'%s' does not take that option", argv[0]);
		switch (c) {
		case OPT_VAULT: o->vault.dir = optarg; break;
		case OPT_JSON: o->json = 1; break;
		case OPT_TO: o->to = optarg; break;
		case OPT_FORCE: o->force = 1; break;
		case OPT_ALLOW: o->allow = 1; break;
		case OPT_ALLOWLIST: o->allowlist = optarg; break;
		case OPT_OLDER:
			if (parse_age(optarg, &o->older_than_s) != 0)
				return usage_error("--older-than: '%s' is not an age like "
				                   "30d, 12h, 90m, 2w", optarg);
			break;
		}
	}
	return -1;
}

/* The one ID argument of show, restore and delete. */
static const char *one_id(int argc, char **argv)
{
	return optind == argc - 1 ? argv[optind] : NULL;
}

static int fail(vigil_quarantine *q, vigil_error err)
{
	const char *msg = vigil_quarantine_last_error(q);

	vg_cli_warn("%s", *msg ? msg : vigil_strerror(err));
	return VG_EXIT_ERROR;
}

/* ---- the commands ------------------------------------------------ */

typedef struct list_state {
	int json;
	uint64_t items, damaged, bytes;
} list_state;

static int list_one(const vigil_quarantine_item *it, void *ud)
{
	list_state *ls = ud;
	vigil_error err = vigil_quarantine_item_error(it);
	size_t len;
	const char *path;

	ls->items++;
	if (err != VIGIL_OK) {
		ls->damaged++;
		if (ls->json) {
			json_t *o = json_pack("{s:s, s:s, s:i}", "id",
			                      vigil_quarantine_item_id(it), "error",
			                      vigil_strerror(err), "code", (int)err);
			if (o && json_dumpf(o, stdout, JSON_COMPACT) == 0)
				putchar('\n');
			json_decref(o);
		} else {
			printf("%s  DAMAGED: %s (vigil quarantine show %s)\n",
			       vigil_quarantine_item_id(it), vigil_strerror(err),
			       vigil_quarantine_item_id(it));
		}
		return VIGIL_CONTINUE;
	}
	ls->bytes += vigil_quarantine_item_size(it);
	if (ls->json) {
		/* the record itself, on one line */
		json_t *o = json_loads(vigil_quarantine_item_record(it), 0, NULL);
		if (o && json_dumpf(o, stdout, JSON_COMPACT) == 0)
			putchar('\n');
		json_decref(o);
		return VIGIL_CONTINUE;
	}
	path = vigil_quarantine_item_path(it, &len);
	printf("%s  ", vigil_quarantine_item_id(it));
	print_time_ns(vigil_quarantine_item_time_ns(it), 0);
	printf("  %10llu  %s  ", (unsigned long long)vigil_quarantine_item_size(it),
	       vigil_quarantine_item_threat(it));
	print_path(path, len);
	putchar('\n');
	return VIGIL_CONTINUE;
}

static int cmd_list(vigil_quarantine *q, const qopts *o, int argc, char **argv)
{
	list_state ls = { .json = o->json };
	vigil_error err;

	if (optind != argc)
		return usage_error("%s", "list takes no arguments");
	if ((err = vigil_quarantine_list(q, list_one, &ls)) != VIGIL_OK)
		return fail(q, err);
	if (ls.damaged)
		vg_cli_warn("%llu of %llu items are damaged",
		            (unsigned long long)ls.damaged,
		            (unsigned long long)ls.items);
	return ls.damaged ? VG_EXIT_ERROR : VG_EXIT_CLEAN;
}

static void show_text(const vigil_quarantine_item *it)
{
	json_t *r = json_loads(vigil_quarantine_item_record(it), 0, NULL);
	json_t *x, *f;
	size_t len, i;
	const char *path = vigil_quarantine_item_path(it, &len);

	printf("ID:          %s\nPath:        ", vigil_quarantine_item_id(it));
	print_path(path, len);
	printf("\nSize:        %llu\nSHA-256:     %s\n",
	       (unsigned long long)vigil_quarantine_item_size(it),
	       vigil_quarantine_item_sha256(it));
	printf("Verdict:     %s (%s)\n",
	       vigil_verdict_name(vigil_quarantine_item_verdict(it)),
	       vigil_quarantine_item_threat(it));
	if (!r)
		return;
	printf("Owner:       uid %lld, gid %lld\nMode:        %s\n",
	       (long long)json_integer_value(json_object_get(r, "uid")),
	       (long long)json_integer_value(json_object_get(r, "gid")),
	       json_string_value(json_object_get(r, "mode")));
	printf("Modified:    ");
	print_time_ns(json_integer_value(json_object_get(r, "mtime_ns")), 1);
	printf("\nAccessed:    ");
	print_time_ns(json_integer_value(json_object_get(r, "atime_ns")), 1);
	putchar('\n');
	json_array_foreach(json_object_get(r, "xattrs"), i, x) {
		const char *v = json_string_value(json_object_get(x, "value_b64"));
		size_t n = v ? strlen(v) : 0, pad = 0;
		while (pad < n && pad < 2 && v[n - 1 - pad] == '=')
			pad++;
		printf("Attribute:   %s (%zu bytes)\n",
		       json_string_value(json_object_get(x, "name")), n / 4 * 3 - pad);
	}
	json_array_foreach(json_object_get(r, "findings"), i, f) {
		const char *layer = json_string_value(json_object_get(f, "layer"));
		printf("Finding:     %s %s by %s%s%s\n",
		       json_string_value(json_object_get(f, "name")),
		       json_string_value(json_object_get(f, "verdict")),
		       json_string_value(json_object_get(f, "stage")),
		       layer && *layer ? " in " : "", layer ? layer : "");
	}
	printf("Quarantined: ");
	print_time_ns(vigil_quarantine_item_time_ns(it), 0);
	printf(" by %s (pid %lld) on %s\n",
	       json_string_value(json_object_get(r, "agent")),
	       (long long)json_integer_value(json_object_get(r, "pid")),
	       json_string_value(json_object_get(r, "host")));
	json_decref(r);
}

static int cmd_show(vigil_quarantine *q, const qopts *o, int argc, char **argv)
{
	vigil_quarantine_item *it;
	const char *id = one_id(argc, argv);
	vigil_error err;

	if (!id)
		return usage_error("%s", "show takes one ID");
	if ((err = vigil_quarantine_get(q, id, &it)) != VIGIL_OK)
		return fail(q, err);
	if (o->json)
		printf("%s\n", vigil_quarantine_item_record(it));
	else
		show_text(it);
	vigil_quarantine_item_free(it);
	return VG_EXIT_CLEAN;
}

static int cmd_restore(vigil_quarantine *q, const qopts *o, int argc,
                       char **argv)
{
	const char *id = one_id(argc, argv);
	const char *allowlist = o->allowlist ? o->allowlist
	                                     : vigil_quarantine_default_allowlist();
	vigil_quarantine_item *it;
	vigil_error err;
	char *path;

	if (!id)
		return usage_error("%s", "restore takes one ID");
	if (o->allowlist && !o->allow)
		return usage_error("%s", "--allowlist goes with --allow");
	if ((err = vigil_quarantine_get(q, id, &it)) != VIGIL_OK)
		return fail(q, err);
	path = strdup(o->to ? o->to : vigil_quarantine_item_path(it, NULL));
	id = vigil_quarantine_item_id(it);
	/* allowlist first: if that fails, nothing has moved yet */
	if (!path) {
		err = VIGIL_ENOMEM;
	} else if (o->allow && (err = vigil_quarantine_allow(q, id, allowlist))) {
		;
	} else if ((err = vigil_quarantine_restore(q, id, o->to,
	                o->force ? VIGIL_RESTORE_FORCE : 0)) == VIGIL_OK) {
		printf("Restored %s to ", id);
		print_path(path, strlen(path));
		printf(".\n");
		if (o->allow)
			printf("Allowlisted SHA-256 %s in %s.\n",
			       vigil_quarantine_item_sha256(it), allowlist);
	}
	free(path);
	vigil_quarantine_item_free(it);
	return err == VIGIL_OK ? VG_EXIT_CLEAN : fail(q, err);
}

static int cmd_delete(vigil_quarantine *q, const qopts *o, int argc,
                      char **argv)
{
	const char *id = one_id(argc, argv);
	vigil_error err;

	if (!id)
		return usage_error("%s", "delete takes one ID");
	if ((err = vigil_quarantine_delete(q, id)) != VIGIL_OK)
		return fail(q, err);
	printf("Deleted %s.\n", id);
	return VG_EXIT_CLEAN;
}

static int cmd_purge(vigil_quarantine *q, const qopts *o, int argc,
                     char **argv)
{
	struct timespec now;
	uint64_t n;
	vigil_error err;

	if (optind != argc || o->older_than_s < 0)
		return usage_error("%s", "purge takes --older-than=AGE and no "
		                   "arguments");
	clock_gettime(CLOCK_REALTIME, &now);
	err = vigil_quarantine_purge(q, ((int64_t)now.tv_sec - o->older_than_s) *
	                             1000000000 + now.tv_nsec, &n);
	if (err != VIGIL_OK)
		return fail(q, err);
	printf("Deleted %llu item%s.\n", (unsigned long long)n, n == 1 ? "" : "s");
	return VG_EXIT_CLEAN;
}

typedef int (*qcmd)(vigil_quarantine *, const qopts *, int, char **);

static const struct {
	const char *name;
	unsigned options;       /* BIT()s of the options it takes */
	qcmd run;
} commands[] = {
	{ "list", BIT(OPT_JSON), cmd_list },
	{ "show", BIT(OPT_JSON), cmd_show },
	{ "restore", BIT(OPT_TO) | BIT(OPT_FORCE) | BIT(OPT_ALLOW) |
	             BIT(OPT_ALLOWLIST), cmd_restore },
	{ "delete", 0, cmd_delete },
	{ "purge", BIT(OPT_OLDER), cmd_purge },
};

int vg_cli_quarantine(int argc, char **argv)
{
	static const struct option lead[] = {
		{ "vault", required_argument, NULL, OPT_VAULT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	qopts o = { .older_than_s = -1 };
	vigil_quarantine *q;
	int c, code;

	/* options before the command ("+": stop at the command) */
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", lead, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return VG_EXIT_CLEAN;
		}
		if (c != OPT_VAULT)
			return usage_error("%s", "bad option");
		o.vault.dir = optarg;
	}
	if (optind >= argc)
		return usage_error("%s", "quarantine: no command given");
	argc -= optind;
	argv += optind;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		if ((code = parse(argc, argv, commands[i].options, &o)) >= 0)
			return code;
		if (!(q = vg_cli_vault_open(&o.vault, 0)))
			return VG_EXIT_ERROR;
		code = commands[i].run(q, &o, argc, argv);
		vigil_quarantine_free(q);
		return code;
	}
	return usage_error("quarantine: unknown command '%s'", argv[0]);
}
