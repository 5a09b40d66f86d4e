/*
 * update_cmd.c - `vigil update`: fetch the newest signed bundle from the
 * configured mirrors, check it, install it atomically keeping the one
 * before for --rollback, and tell running scanners to reload.
 *
 * Files in DatabaseDirectory, for BundleName main.vgb:
 *   main.vgb              the installed bundle (what scanners load)
 *   main.vgb.prev         the one before it, for --rollback
 *   .main.vgb.part        a download in progress, resumed next time
 *   .main.vgb.part.meta   the server validator of that download
 *   .main.vgb.state       the validator of the installed copy (ETag)
 *   .main.vgb.skip        a version rolled back from: not reinstalled
 *   .main.vgb.lock        held while an update runs
 * Only main.vgb ends in .vgb, so `vigil scan -d DIR` loads it alone.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/update_cmd.h"
#include "cli/update_conf.h"
#include "cli/update_fetch.h"
#include "cli/update_install.h"
#include "cli/update_notify.h"
#include "vigil/bundle.h"
#include "vigil/vigil.h"

#ifndef VIGIL_SYSCONFDIR
#define VIGIL_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONF VIGIL_SYSCONFDIR "/vigil/vigil-update.conf"

/* Exit codes, for cron and systemd (doc/vigil.1). */
enum {
	EXIT_INSTALLED = 0,
	EXIT_UP_TO_DATE = 1,
	EXIT_FAILED = 2,
	EXIT_NOT_NOTIFIED = 3
};

typedef struct update {
	vg_update_conf conf;
	const char *trust;
	int force, quiet;
	char cur[4096], prev[4200], part[4200], meta[4200], state[4200],
	     skip[4200], lock[4200];
	uint64_t installed;     /* version of the valid installed bundle */
	uint64_t skipped;       /* version rolled back from, or 0 */
} update;

static void usage(FILE *f)
{
	fputs(
"Usage: vigil update [--config FILE] [--force] [--quiet]\n"
"       vigil update --rollback [--config FILE]\n"
"Fetch the newest signed signature bundle from the mirrors of the\n"
"configuration, install it if it is newer, and tell scanners to reload.\n"
"\n"
"  -c, --config=FILE   configuration (default " DEFAULT_CONF ")\n"
"      --force         install even a version that is not newer\n"
"      --rollback      go back to the bundle installed before\n"
"  -q, --quiet         no summary line when all went well\n"
"  -h, --help          show this help\n"
"\n"
"Exit status: 0 installed (or rolled back), 1 already up to date,\n"
"2 failed (the installed bundle is unchanged), 3 installed but a\n"
"scanner could not be told to reload.\n", f);
}

static int paths(update *u)
{
	const char *d = u->conf.dir, *n = u->conf.bundle;
	int bad = 0;

	bad |= snprintf(u->cur, sizeof u->cur, "%s/%s", d, n) >= (int)sizeof u->cur;
	snprintf(u->prev, sizeof u->prev, "%s.prev", u->cur);
	snprintf(u->part, sizeof u->part, "%s/.%s.part", d, n);
	snprintf(u->meta, sizeof u->meta, "%s/.%s.part.meta", d, n);
	snprintf(u->state, sizeof u->state, "%s/.%s.state", d, n);
	snprintf(u->skip, sizeof u->skip, "%s/.%s.skip", d, n);
	snprintf(u->lock, sizeof u->lock, "%s/.%s.lock", d, n);
	return bad ? -1 : 0;
}

/* Version of the bundle at path if a trusted key signed it, else 0;
 * why says what is wrong when why is not NULL. */
static uint64_t trusted_version(const update *u, const char *path,
                                char *why, size_t whylen)
{
	vigil_bundle *b = NULL;
	uint64_t v = 0;

	if (why)
		why[0] = '\0';
	if (vigil_bundle_new(&b) != VIGIL_OK)
		return 0;
	if (vigil_bundle_open(b, path) == VIGIL_OK &&
	    vigil_bundle_verify(b, u->trust) == VIGIL_OK &&
	    vigil_bundle_check_parts(b) == VIGIL_OK)
		v = vigil_bundle_version(b);
	else if (why)
		snprintf(why, whylen, "%s", vigil_bundle_last_error(b));
	vigil_bundle_free(b);
	return v;
}

static uint64_t read_number(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strtoull(buf, NULL, 10);
}

static void drop_part(const update *u)
{
	unlink(u->part);
	unlink(u->meta);
}

/* What one mirror's answer comes to. */
enum outcome { NEXT, UP_TO_DATE, INSTALLED };

/* Checks a complete download and installs it if it is newer. */
static enum outcome consider(update *u, const char *url,
                             const vg_fetch_res *r, uint64_t *version)
{
	char why[600];
	uint64_t v = trusted_version(u, u->part, why, sizeof why);

	if (!v) {
		/* garbage or a bad signature: nothing of it is worth keeping */
		vg_cli_warn("update: %s: refused: %s", url,
		            strstr(why, ": ") ? strstr(why, ": ") + 2 : why);
		drop_part(u);
		return NEXT;
	}
	*version = v;
	if (!u->force && v == u->installed) {
		drop_part(u);
		vg_validator_write(u->state, url, &r->got);
		return UP_TO_DATE;
	}
	if (!u->force && v < u->installed) {
		vg_cli_warn("update: %s: offers version %" PRIu64 ", older than "
		            "version %" PRIu64 " installed: refused (--force "
		            "installs it)", url, v, u->installed);
		drop_part(u);
		return NEXT;
	}
	if (!u->force && v <= u->skipped) {
		vg_cli_warn("update: %s: version %" PRIu64 " was rolled back; "
		            "waiting for a newer one (--force installs it)", url, v);
		drop_part(u);
		return UP_TO_DATE;
	}
	if (vg_update_install(u->cur, u->prev, u->part) != 0) {
		vg_cli_warn("update: cannot install %s: %s", u->cur, strerror(errno));
		return NEXT;
	}
	unlink(u->meta);
	unlink(u->skip);
	vg_validator_write(u->state, url, &r->got);
	return INSTALLED;
}

static int run_update(update *u)
{
	uint64_t version = 0;
	enum outcome o = NEXT;
	int all_refused = 1;

	for (uint64_t round = 0; round < u->conf.max_attempts && o == NEXT;
	     round++) {
		if (round > 0 && !all_refused)
			sleep(1); /* the network may come back */
		all_refused = 1;
		for (size_t i = 0; i < u->conf.nmirrors && o == NEXT; i++) {
			const char *url = u->conf.mirrors[i];
			vg_validator have;
			vg_fetch_res r;
			vg_fetch_req q = {
				.url = url, .part = u->part, .part_meta = u->meta,
				.max_size = u->conf.max_size,
				.connect_timeout = u->conf.connect_timeout,
				.receive_timeout = u->conf.receive_timeout,
			};
			if (u->installed && !u->force &&
			    vg_validator_read(u->state, url, &have) == 0)
				q.have = &have;
			switch (vg_fetch(&q, &r)) {
			case VG_FETCH_NOT_MODIFIED:
				version = u->installed;
				o = UP_TO_DATE;
				break;
			case VG_FETCH_FAILED:
				vg_cli_warn("update: %s: %s", url, r.err);
				all_refused = 0;
				break;
			case VG_FETCH_DONE:
				o = consider(u, url, &r, &version);
				if (o == INSTALLED && !u->quiet)
					printf("vigil update: installed version %" PRIu64
					       " (was %" PRIu64 ") from %s\n", version,
					       u->installed, url);
				break;
			}
		}
	}
	if (o == UP_TO_DATE) {
		if (!u->quiet)
			printf("vigil update: up to date (version %" PRIu64 ")\n",
			       u->installed ? u->installed : version);
		return EXIT_UP_TO_DATE;
	}
	if (o == NEXT) {
		printf("vigil update: failed: no mirror gave a newer valid bundle; "
		       "%s unchanged\n", u->cur);
		return EXIT_FAILED;
	}
	if (vg_update_notify(&u->conf, u->cur, version) != 0)
		return EXIT_NOT_NOTIFIED;
	return EXIT_INSTALLED;
}

static int run_rollback(update *u)
{
	char why[600], text[32];
	uint64_t pv = trusted_version(u, u->prev, why, sizeof why);
	int n;

	if (!pv) {
		vg_cli_warn("update: no bundle to roll back to: %s", why);
		printf("vigil update: rollback failed; %s unchanged\n", u->cur);
		return EXIT_FAILED;
	}
	if (vg_update_swap(u->cur, u->prev) != 0) {
		vg_cli_warn("update: cannot roll back: %s", strerror(errno));
		printf("vigil update: rollback failed\n");
		return EXIT_FAILED;
	}
	/* the newer version stays out until a newer one still comes */
	n = snprintf(text, sizeof text, "%" PRIu64 "\n", u->installed);
	if (u->installed > pv && vg_cli_write_atomic(u->skip, text, (size_t)n,
	                                             0644) != 0)
		vg_cli_warn("update: %s: %s", u->skip, strerror(errno));
	unlink(u->state);
	printf("vigil update: rolled back to version %" PRIu64 " (from %" PRIu64
	       ")\n", pv, u->installed);
	if (vg_update_notify(&u->conf, u->cur, pv) != 0)
		return EXIT_NOT_NOTIFIED;
	return EXIT_INSTALLED;
}

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "force", no_argument, NULL, 'f' },
	{ "rollback", no_argument, NULL, 'r' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

int vg_cli_update(int argc, char **argv)
{
	const char *conf_path = DEFAULT_CONF;
	update u = { 0 };
	char err[1024];
	int c, rollback = 0, lock_fd, code;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:qh", long_options, NULL)) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'f': u.force = 1; break;
		case 'r': rollback = 1; break;
		case 'q': u.quiet = 1; break;
		case 'h': usage(stdout); return EXIT_INSTALLED;
		default:
			fputs("Try 'vigil update --help' for more information.\n",
			      stderr);
			return EXIT_FAILED;
		}
	}
	if (optind < argc) {
		vg_cli_warn("update: unexpected argument '%s'", argv[optind]);
		return EXIT_FAILED;
	}
	if (vg_update_conf_defaults(&u.conf) != 0 ||
	    vg_update_conf_load(&u.conf, conf_path, err, sizeof err) != 0) {
		vg_cli_warn("update: %s", err);
		vg_update_conf_free(&u.conf);
		return EXIT_FAILED;
	}
	u.trust = u.conf.trust ? u.conf.trust : vigil_default_trust_dir();
	if (paths(&u) != 0 || (!rollback && u.conf.nmirrors == 0)) {
		vg_cli_warn("update: %s: %s", conf_path, u.conf.nmirrors ?
		            "DatabaseDirectory too long" : "no DatabaseMirror");
		vg_update_conf_free(&u.conf);
		return EXIT_FAILED;
	}
	/* one update at a time in a directory */
	lock_fd = open(u.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
		vg_cli_warn("update: %s: %s", u.lock, lock_fd < 0 ? strerror(errno)
		            : "another vigil update is running");
		if (lock_fd >= 0)
			close(lock_fd);
		vg_update_conf_free(&u.conf);
		return EXIT_FAILED;
	}
	if (access(u.cur, F_OK) == 0 &&
	    !(u.installed = trusted_version(&u, u.cur, err, sizeof err)))
		vg_cli_warn("update: the installed bundle is not valid: %s", err);
	u.skipped = read_number(u.skip);
	if (rollback) {
		code = run_rollback(&u);
	} else if (vg_fetch_init() != 0) {
		vg_cli_warn("update: libcurl cannot start");
		code = EXIT_FAILED;
	} else {
		code = run_update(&u);
		vg_fetch_cleanup();
	}
	fflush(stdout);
	close(lock_fd);
	vg_update_conf_free(&u.conf);
	return code;
}
