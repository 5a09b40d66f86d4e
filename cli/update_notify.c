/*
 * update_notify.c - tells running scanners that a new bundle is in
 * place, each way bounded by NotifyTimeout: NotifyCommand runs a shell
 * command, NotifyClamd sends clamd's RELOAD to a clamd-protocol socket
 * (vigild's), NotifyCicap writes "vigil:reload" to c-icap's control
 * FIFO.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/update_notify.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs cmd with sh -c in its own process group; killed at the timeout. */
static int run_command(const char *cmd, const char *bundle, uint64_t version,
                       uint64_t timeout_s)
{
	uint64_t deadline = now_ms() + timeout_s * 1000;
	char ver[32];
	int status;
	pid_t pid;

	snprintf(ver, sizeof ver, "%" PRIu64, version);
	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		setpgid(0, 0);
		setenv("VIGIL_BUNDLE", bundle, 1);
		setenv("VIGIL_BUNDLE_VERSION", ver, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			vg_cli_warn("update: NotifyCommand '%s' took longer than %" PRIu64
			            " s: killed", cmd, timeout_s);
			return -1;
		}
		usleep(10000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		vg_cli_warn("update: NotifyCommand '%s' failed (status %d)", cmd,
		            WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

/* clamd's protocol: "zRELOAD\0", answered "RELOADING". */
static int notify_clamd(const char *path, uint64_t timeout_s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = (time_t)timeout_s };
	char reply[64];
	size_t got = 0;
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		vg_cli_warn("update: NotifyClamd %s: path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    send(fd, "zRELOAD", 8, MSG_NOSIGNAL) != 8) {
		vg_cli_warn("update: NotifyClamd %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	while (got < sizeof reply - 1) {
		ssize_t n = recv(fd, reply + got, sizeof reply - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(reply, '\0', got) || memchr(reply, '\n', got))
			break;
	}
	close(fd);
	reply[got] = '\0';
	if (strncmp(reply, "RELOADING", 9) != 0) {
		vg_cli_warn("update: NotifyClamd %s: answered '%.*s', not RELOADING",
		            path, (int)strcspn(reply, "\r\n"), reply);
		return -1;
	}
	return 0;
}

/* c-icap's control FIFO: "service:command". */
static int notify_cicap(const char *path)
{
	static const char cmd[] = "vigil:reload";
	struct stat st;
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		vg_cli_warn("update: NotifyCicap %s: %s", path,
		            errno == ENXIO ? "c-icap is not reading it"
		                           : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode) ||
	    write(fd, cmd, sizeof cmd - 1) != (ssize_t)(sizeof cmd - 1)) {
		vg_cli_warn("update: NotifyCicap %s: %s", path,
		            S_ISFIFO(st.st_mode) ? strerror(errno) : "not a FIFO");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int vg_update_notify(const vg_update_conf *c, const char *bundle,
                     uint64_t version)
{
	int failed = 0;

	for (size_t i = 0; i < c->ncommands; i++)
		failed |= run_command(c->commands[i], bundle, version,
		                      c->notify_timeout) != 0;
	for (size_t i = 0; i < c->nclamd; i++)
		failed |= notify_clamd(c->clamd[i], c->notify_timeout) != 0;
	for (size_t i = 0; i < c->ncicap; i++)
		failed |= notify_cicap(c->cicap[i]) != 0;
	return failed ? -1 : 0;
}
