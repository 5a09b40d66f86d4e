/*
 * daemon_cmd.c - `vigil daemon ping|status|stats|reload`: the client of
 * vigild's control socket (root and ControlGroup only). One command
 * line out, one reply line back, printed as is.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
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

int vg_cli_daemon(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_SOCKET, *cmd;
	uint64_t timeout_ms = 120000;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[64], buf[65536];
	size_t n = 0;
	int fd, c;

	while ((c = getopt_long(argc, argv, "s:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 't':
			if (vg_cli_parse_seconds_ms(optarg, &timeout_ms) != 0 || !timeout_ms) {
				vg_cli_warn("bad --timeout '%s'", optarg);
				return VG_EXIT_ERROR;
			}
			break;
		case 'h': usage(stdout); return VG_EXIT_CLEAN;
		default: usage(stderr); return VG_EXIT_ERROR;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return VG_EXIT_ERROR;
	}
	cmd = argv[optind];
	if (strcmp(cmd, "ping") && strcmp(cmd, "status") && strcmp(cmd, "stats") &&
	    strcmp(cmd, "reload")) {
		vg_cli_warn("unknown daemon command '%s'", cmd);
		usage(stderr);
		return VG_EXIT_ERROR;
	}
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
	while (n < sizeof buf - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;
		if (poll(&p, 1, (int)timeout_ms) <= 0) {
			vg_cli_warn("%s: no answer", path);
			close(fd);
			return VG_EXIT_ERROR;
		}
		if ((r = read(fd, buf + n, sizeof buf - 1 - n)) <= 0)
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
	fputs(buf, stdout);
	if (buf[n - 1] != '\n')
		putchar('\n');
	return strncmp(buf, "ERROR", 5) == 0 ? VG_EXIT_ERROR : VG_EXIT_CLEAN;
}
