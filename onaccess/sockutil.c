/*
 * sockutil.c - see sockutil.h.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "onaccess/sockutil.h"

long long vg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof dir, "%s", path);
	if (!(slash = strrchr(dir, '/')) || slash == dir)
		return;
	*slash = 0;
	if (mkdir(dir, 0755) != 0 && errno == ENOENT) {
		make_parent(dir);
		mkdir(dir, 0755);
	}
}

int vg_listen_unix(const char *path, mode_t mode, gid_t gid, int backlog,
                   int fix_stale, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	make_parent(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		if (errno != EADDRINUSE)
			goto fail;
		/* someone listening there, or a socket left by a dead daemon */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int live = probe >= 0 &&
		           connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (probe >= 0)
			close(probe);
		if (live || !fix_stale) {
			snprintf(err, errlen, "%s: %s", path,
			         live ? "another daemon listens there"
			              : "stale socket (set FixStaleSocket yes)");
			close(fd);
			return -1;
		}
		unlink(path);
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
			goto fail;
	}
	if (chmod(path, mode) != 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0) ||
	    listen(fd, backlog) != 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	close(fd);
	return -1;
}

int vg_wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int rc;

	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	return rc;
}

int vg_write_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	const char *p = buf;
	long long end = vg_now_ms() + timeout_ms;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = { fd, POLLOUT, 0 };
			long long left = end - vg_now_ms();
			if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}
