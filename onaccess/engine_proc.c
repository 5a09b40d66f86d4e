/*
 * engine_proc.c - the engine process and its scan workers.
 *
 * vigild starts one engine process per signature generation (exec of
 * itself, so it starts single-threaded and clean). It loads and freezes
 * the engine, says READY or FAILED, then forks a worker each time vigild
 * asks: the workers share the engine's pages copy-on-write. vigild
 * itself never loads signatures or touches a scanned byte.
 *
 * A worker takes one job at a time: a descriptor and a name, scans it
 * with its own vigil_scanner (its verdict cache is the engine's, copied
 * at fork: per worker), and sends one reply. It dies with its engine
 * process (PR_SET_PDEATHSIG), and drops root before its first scan.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "onaccess/conf.h"
#include "onaccess/engine_build.h"
#include "onaccess/pool.h"
#include "onaccess/wire.h"
#include "vigil/vigil.h"

static int send_zy(int sock, const vg_zy_msg *m, const int *fds, int nfds)
{
	uint8_t buf[2048];
	size_t n = vg_zy_encode(buf, sizeof buf, m);
	struct iovec iov = { buf, n };
	union {
		char c[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { 0 };

	if (!n)
		return -1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *c;
		memset(&u, 0, sizeof u);
		msg.msg_control = u.c;
		msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* Fills a reply from a scan result. */
static void fill_reply(vg_reply *rep, uint64_t id, const vigil_result *r)
{
	vg_reply_init(rep, id, VG_REPLY_SCANNED);
	rep->verdict = (int)vigil_result_verdict(r);
	rep->cached = vigil_result_cached(r);
	rep->size = vigil_result_size(r);
	rep->time_us = vigil_result_time_us(r);
	rep->bytes_scanned = vigil_result_bytes_scanned(r);
	snprintf(rep->sha256, sizeof rep->sha256, "%s", vigil_result_sha256(r));
	rep->type = vg_reply_strdup(rep, vigil_result_type(r),
	                            strlen(vigil_result_type(r)));
	for (size_t i = 0; i < vigil_result_finding_count(r); i++) {
		const vigil_finding *f = vigil_result_finding(r, i);
		if (vg_reply_add_finding(rep, vigil_finding_stage(f),
		                         vigil_finding_name(f),
		                         vigil_finding_layer(f),
		                         (int)vigil_finding_verdict(f),
		                         vigil_finding_score(f),
		                         vigil_finding_detail(f)) != 0)
			break;
	}
}

/* Receives one job; returns its descriptor (or -1 if none came with
 * it), 0 on a clean end, -2 on a malformed message. */
static int recv_job(int sock, uint8_t *buf, vg_wire_job *job, int *fd_out)
{
	struct iovec iov = { buf, VG_WIRE_MAX };
	union {
		char c[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { 0 };
	ssize_t n;

	*fd_out = -1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.c;
	msg.msg_controllen = sizeof u.c;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[4];
		memcpy(fds, CMSG_DATA(c), (k > 4 ? 4 : k) * sizeof(int));
		for (size_t i = 0; i < k && i < 4; i++) {
			if (*fd_out < 0)
				*fd_out = fds[i];
			else
				close(fds[i]);
		}
	}
	if (vg_wire_job_decode(buf, (size_t)n, job) != 0 ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return -2;
	return 1;
}

/* Drops root: a worker reads only the descriptors it is handed. */
static void drop_privileges(void)
{
	struct passwd *pw;

	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (geteuid() != 0 || !(pw = getpwnam("nobody")))
		return;
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "vigild worker: cannot drop root: %s\n",
		        strerror(errno));
		_exit(1);
	}
}

static void worker_main(const vigil_engine *engine, int sock)
{
	static uint8_t in[VG_WIRE_MAX], out[VG_WIRE_MAX];
	static vg_reply rep;
	static vg_wire_job job;
	struct rlimit nocore = { 0, 0 };
	vigil_scanner *s = NULL;

	/* a worker killed by a hostile file leaves no core of its bytes */
	setrlimit(RLIMIT_CORE, &nocore);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	drop_privileges();
	if (vigil_scanner_new(engine, &s) != VIGIL_OK)
		_exit(1);
	for (;;) {
		int fd, rc = recv_job(sock, in, &job, &fd);
		vigil_result *r = NULL;
		vigil_error err;
		size_t n;

		if (rc == 0)
			break;
		if (rc < 0 || fd < 0) {
			/* vigild never sends this: a bug; say so and go on */
			vg_reply_init(&rep, rc < 0 ? 0 : job.job_id, VG_REPLY_ERROR);
			rep.error = VIGIL_EINTERNAL;
			rep.message = "malformed job";
		} else if ((err = vigil_scan_fd(s, fd, job.name, &r)) != VIGIL_OK) {
			const char *why = vigil_scanner_last_error(s);
			vg_reply_init(&rep, job.job_id, VG_REPLY_ERROR);
			rep.error = (int)err;
			rep.message = vg_reply_strdup(&rep, why, strlen(why));
		} else {
			fill_reply(&rep, job.job_id, r);
		}
		vigil_result_free(r);
		if (fd >= 0)
			close(fd);
		n = vg_wire_reply_encode(out, &rep);
		if (!n || send(sock, out, n, MSG_NOSIGNAL) != (ssize_t)n)
			break;
	}
	vigil_scanner_free(s);
	_exit(0);
}

/* Forks one worker and hands vigild its socket and a pidfd. */
static void spawn_worker(const vigil_engine *engine, int sock,
                         const sigset_t *oldmask)
{
	int sp[2], pidfd;
	pid_t pid;
	vg_zy_msg m = { 0 };

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		close(sock);
		close(sp[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() == 1)
			_exit(1);
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		worker_main(engine, sp[1]);
	}
	close(sp[1]);
	if (pid < 0) {
		close(sp[0]);
		return;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	m.kind = VG_ZY_WORKER;
	m.pid = (uint32_t)pid;
	if (pidfd >= 0) {
		int fds[2] = { sp[0], pidfd };
		send_zy(sock, &m, fds, 2);
		close(pidfd);
	} else {
		send_zy(sock, &m, sp, 1);
	}
	close(sp[0]);
}

int vg_engine_process_main(int sock, const char *config_path,
                           uint64_t min_bundle)
{
	char err[1024];
	vg_config *cfg;
	vigil_engine *engine = NULL;
	vg_zy_msg m = { 0 };
	sigset_t mask, oldmask;
	int sfd;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() == 1)
		return 1;
	if (!(cfg = vg_config_load(config_path, err, sizeof err)) ||
	    !(engine = vg_engine_build(cfg, min_bundle, err, sizeof err))) {
		m.kind = VG_ZY_FAILED;
		snprintf(m.text, sizeof m.text, "%s", err);
		send_zy(sock, &m, NULL, 0);
		vg_config_free(cfg);
		return 1;
	}
	vg_config_free(cfg);
	m.kind = VG_ZY_READY;
	m.count = vigil_engine_signature_count(engine);
	m.version = vigil_engine_bundle_version(engine);
	snprintf(m.text, sizeof m.text, "%llu signatures",
	         (unsigned long long)m.count);
	if (send_zy(sock, &m, NULL, 0) != 0)
		return 1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return 1;
	for (;;) {
		struct pollfd p[2] = { { sock, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents) {
			struct signalfd_siginfo si;
			int st;
			pid_t pid;
			while (read(sfd, &si, sizeof si) == sizeof si)
				;
			while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
				vg_zy_msg d = { 0 };
				d.kind = VG_ZY_DIED;
				d.pid = (uint32_t)pid;
				d.status = st;
				send_zy(sock, &d, NULL, 0);
			}
		}
		if (p[0].revents) {
			uint8_t buf[64];
			vg_zy_msg req;
			ssize_t n = recv(sock, buf, sizeof buf, 0);
			if (n <= 0)
				break; /* vigild is done with this generation */
			if (vg_zy_decode(buf, (size_t)n, &req) == 0 &&
			    req.kind == VG_ZY_SPAWN)
				spawn_worker(engine, sock, &oldmask);
		}
	}
	/* workers die with us (PR_SET_PDEATHSIG) */
	vigil_engine_free(engine);
	return 0;
}
