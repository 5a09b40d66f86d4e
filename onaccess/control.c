/*
 * control.c - the control socket: one command line per connection,
 * PING, STATUS, STATS or RELOAD, one reply. Only root and members of
 * ControlGroup get an answer (SO_PEERCRED); `vigil daemon` is the
 * client (cli/daemon_cmd.c). Replies: "PONG", a JSON object, or
 * "RELOADED <message>" / "ERROR <message>".
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "onaccess/daemon.h"
#include "onaccess/log.h"
#include "onaccess/peer.h"
#include "onaccess/sockutil.h"

#define CONTROL_TIMEOUT_MS 2000

static struct {
	vg_daemon *d;
	int fd;
	gid_t group;
	int have_group;
	char *path;
	pthread_t thread;
	volatile int stop;
	uint64_t served, refused;
	pthread_mutex_t mu;
} ctl = { .fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER };

static void reply(int fd, const char *s)
{
	vg_write_all(fd, s, strlen(s), CONTROL_TIMEOUT_MS);
}

static void serve(int fd)
{
	char line[128];
	size_t n = 0;
	vg_peer peer;
	long long end = vg_now_ms() + CONTROL_TIMEOUT_MS;

	while (n < sizeof line - 1) {
		long long left = end - vg_now_ms();
		ssize_t r;
		if (left <= 0 || vg_wait_readable(fd, (int)left) <= 0) {
			vg_log(VG_LOG_WARNING, "control socket: no command within "
			       "%d ms", CONTROL_TIMEOUT_MS);
			return;
		}
		r = recv(fd, line + n, sizeof line - 1 - n, MSG_DONTWAIT);
		if (r <= 0) {
			/* EBADF here would mean another thread closed our fd */
			vg_log(VG_LOG_WARNING, "control socket: %s",
			       r < 0 ? strerror(errno) : "closed before a command");
			return;
		}
		n += (size_t)r;
		if (memchr(line, '\n', n))
			break;
	}
	line[n] = 0;
	line[strcspn(line, "\r\n")] = 0;
	/* checked after the read, so a refused client reads its answer
	 * instead of a broken pipe */
	if (vg_peer_get(fd, &peer) != 0 ||
	    !(peer.uid == 0 || (ctl.have_group && vg_peer_in_group(&peer, ctl.group)))) {
		pthread_mutex_lock(&ctl.mu);
		ctl.refused++;
		pthread_mutex_unlock(&ctl.mu);
		vg_log(VG_LOG_WARNING, "control socket: refused uid %u",
		       (unsigned)peer.uid);
		reply(fd, "ERROR permission denied\n");
		return;
	}

	pthread_mutex_lock(&ctl.mu);
	ctl.served++;
	pthread_mutex_unlock(&ctl.mu);
	if (!strcasecmp(line, "PING")) {
		reply(fd, "PONG\n");
	} else if (!strcasecmp(line, "STATUS") || !strcasecmp(line, "STATS")) {
		json_t *o = vg_daemon_stats(ctl.d);
		char *s;
		if (!strcasecmp(line, "STATUS")) {
			/* the short form: is it serving, with what */
			json_t *pool = json_object_get(o, "pool");
			json_t *st = json_pack("{s:s, s:i, s:O, s:O, s:O, s:O, s:O}",
				"state", "serving", "pid", (int)getpid(),
				"generation", json_object_get(pool, "generation"),
				"signatures", json_object_get(pool, "signatures"),
				"bundle_version", json_object_get(pool, "bundle_version"),
				"workers", json_object_get(pool, "workers"),
				"last_reload", json_object_get(pool, "last_reload"));
			json_decref(o);
			o = st;
		}
		s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (s) {
			reply(fd, s);
			reply(fd, "\n");
			free(s);
		} else {
			reply(fd, "ERROR out of memory\n");
		}
	} else if (!strcasecmp(line, "RELOAD")) {
		char msg[300], out[320];
		int rc = vg_pool_reload(ctl.d->pool, 1, msg, sizeof msg);
		snprintf(out, sizeof out, "%s %s\n", rc == 0 ? "RELOADED" : "ERROR", msg);
		reply(fd, out);
	} else {
		reply(fd, "ERROR unknown command (PING, STATUS, STATS, RELOAD)\n");
	}
}

static void *control_thread(void *arg)
{
	(void)arg;
	while (!ctl.stop) {
		int c;
		if (vg_wait_readable(ctl.fd, 500) <= 0)
			continue;
		c = accept4(ctl.fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve(c);
		close(c);
	}
	return NULL;
}

static int control_start(vg_daemon *d, char *err, size_t errlen)
{
	const char *path = vg_conf_str(d->cfg, VG_CONF_CONTROL_SOCKET);
	const char *group = vg_conf_str(d->cfg, VG_CONF_CONTROL_GROUP);

	ctl.d = d;
	if (!*path)
		return 0;
	if (*group) {
		if (vg_lookup_gid(group, &ctl.group) != 0) {
			snprintf(err, errlen, "ControlGroup %s: no such group", group);
			return -1;
		}
		ctl.have_group = 1;
	}
	ctl.fd = vg_listen_unix(path, ctl.have_group ? 0660 : 0600,
	                        ctl.have_group ? ctl.group : (gid_t)-1, 16, 1,
	                        err, errlen);
	if (ctl.fd < 0)
		return -1;
	ctl.path = strdup(path);
	if (pthread_create(&ctl.thread, NULL, control_thread, NULL) != 0) {
		snprintf(err, errlen, "control thread: %s", strerror(errno));
		close(ctl.fd);
		ctl.fd = -1;
		return -1;
	}
	return 0;
}

static void control_stop(void)
{
	if (ctl.fd < 0)
		return;
	ctl.stop = 1;
	pthread_join(ctl.thread, NULL);
	close(ctl.fd);
	ctl.fd = -1;
	if (ctl.path)
		unlink(ctl.path);
	free(ctl.path);
	ctl.path = NULL;
}

static void control_stats(json_t *o)
{
	pthread_mutex_lock(&ctl.mu);
	json_object_set_new(o, "control", json_pack("{s:I, s:I}",
		"served", (json_int_t)ctl.served, "refused", (json_int_t)ctl.refused));
	pthread_mutex_unlock(&ctl.mu);
}

/* no heartbeat: a RELOAD holds this thread while the engine loads */
const vg_service vg_service_control = {
	"control", control_start, control_stop, control_stats, NULL,
};
