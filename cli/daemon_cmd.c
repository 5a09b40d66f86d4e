/*
 * daemon_cmd.c - `vigil daemon ping|status|stats|reload`, and `vigil
 * onaccess` (the on-access part of the same replies): the client of
 * vigild's control socket (root and ControlGroup only). One command
 * line out, one reply line back, printed as is.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"

#define DEFAULT_SOCKET "/run/vigild/control.sock"

static void usage(FILE *f)
{
	fputs("Usage: vigil daemon [--socket PATH] [--timeout SECONDS] COMMAND\n"
	      "Talk to a running vigild through its control socket.\n"
	      "\n"
	      "Commands:\n"
	      "  ping     check that vigild answers\n"
	      "  status   serving state, signature generation, workers (JSON)\n"
	      "  stats    every counter of every service (JSON)\n"
	      "  reload   load the signatures again; waits for the outcome\n"
	      "\n"
	      "  -s, --socket PATH      control socket (default " DEFAULT_SOCKET ")\n"
	      "  -t, --timeout SECONDS  give up after this long (default 120)\n"
	      "\n"
	      "Exit codes: 0 done, 2 vigild unreachable, refused or reload failed.\n",
	      f);
}

/* One command to the control socket; the reply line in buf. Returns 0
 * or VG_EXIT_ERROR (after a message). */
static int control_request(const char *path, uint64_t timeout_ms, const char *cmd,
                           char *buf, size_t buflen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[64];
	size_t n = 0;
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		vg_cli_warn("%s: socket path too long", path);
		return VG_EXIT_ERROR;
	}
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		vg_cli_warn("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return VG_EXIT_ERROR;
	}
	snprintf(line, sizeof line, "%s\n", cmd);
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0) {
		vg_cli_warn("%s: %s", path, strerror(errno));
		close(fd);
		return VG_EXIT_ERROR;
	}
	while (n < buflen - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;
		if (poll(&p, 1, (int)timeout_ms) <= 0) {
			vg_cli_warn("%s: no answer", path);
			close(fd);
			return VG_EXIT_ERROR;
		}
		if ((r = read(fd, buf + n, buflen - 1 - n)) < 0) {
			/* a reset (the server gave up on the request) is not an
			 * orderly end: say which */
			vg_cli_warn("%s: %s", path, strerror(errno));
			close(fd);
			return VG_EXIT_ERROR;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (memchr(buf, '\n', n))
			break;
	}
	close(fd);
	buf[n] = 0;
	if (!n) {
		vg_cli_warn("%s: connection closed without an answer", path);
		return VG_EXIT_ERROR;
	}
	return 0;
}

/* Options and the command word, shared by `daemon` and `onaccess`. */
static int parse_args(int argc, char **argv, void (*use)(FILE *), const char **path,
                      uint64_t *timeout_ms, const char **cmd)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': *path = optarg; break;
		case 't':
			if (vg_cli_parse_seconds_ms(optarg, timeout_ms) != 0 || !*timeout_ms) {
				vg_cli_warn("bad --timeout '%s'", optarg);
				return VG_EXIT_ERROR;
			}
			break;
		case 'h': use(stdout); return -1;
		default: use(stderr); return VG_EXIT_ERROR;
		}
	}
	if (optind + 1 != argc) {
		use(stderr);
		return VG_EXIT_ERROR;
	}
	*cmd = argv[optind];
	if (strcmp(*cmd, "ping") && strcmp(*cmd, "status") && strcmp(*cmd, "stats") &&
	    strcmp(*cmd, "reload")) {
		vg_cli_warn("unknown %s command '%s'", use == usage ? "daemon" : "onaccess", *cmd);
		use(stderr);
		return VG_EXIT_ERROR;
	}
	return 0;
}

static void print_reply(const char *buf)
{
	size_t n = strlen(buf);
	fputs(buf, stdout);
	if (n && buf[n - 1] != '\n')
		putchar('\n');
}

int vg_cli_daemon(int argc, char **argv)
{
	const char *path = DEFAULT_SOCKET, *cmd;
	uint64_t timeout_ms = 120000;
	char buf[65536];
	int rc = parse_args(argc, argv, usage, &path, &timeout_ms, &cmd);

	if (rc)
		return rc < 0 ? VG_EXIT_CLEAN : rc;
	if (control_request(path, timeout_ms, cmd, buf, sizeof buf) != 0)
		return VG_EXIT_ERROR;
	print_reply(buf);
	return strncmp(buf, "ERROR", 5) == 0 ? VG_EXIT_ERROR : VG_EXIT_CLEAN;
}

static void onaccess_usage(FILE *f)
{
	fputs("Usage: vigil onaccess [--socket PATH] [--timeout SECONDS] COMMAND\n"
	      "On-access scanning of a running vigild, through its control socket.\n"
	      "\n"
	      "Commands:\n"
	      "  ping     check that vigild answers\n"
	      "  status   watched filesystems, kernel features, pending events (JSON)\n"
	      "  stats    on-access counters: events per kind, answers and their\n"
	      "           latency, scans, ignore marks, top processes and paths by\n"
	      "           scan time, and the scan pool's counters (JSON)\n"
	      "  reload   load the signatures again and flush the kernel's verdict\n"
	      "           cache; waits for the outcome\n"
	      "\n"
	      "  -s, --socket PATH      control socket (default " DEFAULT_SOCKET ")\n"
	      "  -t, --timeout SECONDS  give up after this long (default 120)\n"
	      "\n"
	      "Exit codes: 0 done, 2 vigild unreachable, refused, on-access not\n"
	      "configured, or reload failed.\n",
	      f);
}

int vg_cli_onaccess(int argc, char **argv)
{
	const char *path = DEFAULT_SOCKET, *cmd;
	uint64_t timeout_ms = 120000;
	static char buf[1 << 20];
	json_t *all, *oa, *out;
	char *text;
	int rc = parse_args(argc, argv, onaccess_usage, &path, &timeout_ms, &cmd);

	if (rc)
		return rc < 0 ? VG_EXIT_CLEAN : rc;
	if (!strcmp(cmd, "ping") || !strcmp(cmd, "reload")) {
		if (control_request(path, timeout_ms, cmd, buf, sizeof buf) != 0)
			return VG_EXIT_ERROR;
		print_reply(buf);
		return strncmp(buf, "ERROR", 5) == 0 ? VG_EXIT_ERROR : VG_EXIT_CLEAN;
	}
	if (control_request(path, timeout_ms, "stats", buf, sizeof buf) != 0)
		return VG_EXIT_ERROR;
	if (!strncmp(buf, "ERROR", 5)) {
		print_reply(buf);
		return VG_EXIT_ERROR;
	}
	if (!(all = json_loads(buf, 0, NULL))) {
		vg_cli_warn("%s: not a JSON reply", path);
		return VG_EXIT_ERROR;
	}
	if (!(oa = json_object_get(all, "onaccess"))) {
		vg_cli_warn("vigild does not scan on access (no OnAccessIncludePath or "
		            "OnAccessMountPath)");
		json_decref(all);
		return VG_EXIT_ERROR;
	}
	if (!strcmp(cmd, "stats")) {
		out = json_pack("{s:O, s:O}", "onaccess", oa, "pool",
		                json_object_get(all, "pool"));
	} else {
		json_t *pool = json_object_get(all, "pool");
		out = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "state", "watching",
		                "watched", json_object_get(oa, "watched"),
		                "ignore_mark_flag", json_object_get(oa, "ignore_mark_flag"),
		                "generation", json_object_get(pool, "generation"),
		                "signatures", json_object_get(pool, "signatures"),
		                "workers", json_object_get(pool, "workers"),
		                "pending", json_object_get(oa, "pending"),
		                "events", json_object_get(oa, "events"));
	}
	text = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
	json_decref(out);
	json_decref(all);
	if (!text) {
		vg_cli_warn("out of memory");
		return VG_EXIT_ERROR;
	}
	puts(text);
	free(text);
	return VG_EXIT_CLEAN;
}
