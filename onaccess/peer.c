/*
 * peer.c - peer credentials and per-thread filesystem identity.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "onaccess/peer.h"

int vg_peer_get(int fd, vg_peer *p)
{
	struct ucred uc;
	socklen_t len = sizeof uc;
	struct passwd pw, *res = NULL;
	char buf[4096];

	memset(p, 0, sizeof *p);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0)
		return -1;
	p->pid = uc.pid;
	p->uid = uc.uid;
	p->gid = uc.gid;
	p->ngroups = 1;
	p->groups[0] = uc.gid;
	/* the peer's supplementary groups, as its account lists them */
	if (getpwuid_r(uc.uid, &pw, buf, sizeof buf, &res) == 0 && res) {
		int n = VG_PEER_MAX_GROUPS;
		if (getgrouplist(pw.pw_name, uc.gid, p->groups, &n) >= 0)
			p->ngroups = n;
		else
			p->ngroups = VG_PEER_MAX_GROUPS;
	}
	return 0;
}

int vg_peer_in_group(const vg_peer *p, gid_t gid)
{
	if (p->uid == 0)
		return 1;
	for (int i = 0; i < p->ngroups; i++)
		if (p->groups[i] == gid)
			return 1;
	return 0;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int vg_lookup_uid(const char *s, uid_t *out)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (all_digits(s)) {
		unsigned long v = strtoul(s, NULL, 10);
		if (v > 0xfffffffeUL)
			return -1;
		*out = (uid_t)v;
		return 0;
	}
	if (getpwnam_r(s, &pw, buf, sizeof buf, &res) != 0 || !res)
		return -1;
	*out = pw.pw_uid;
	return 0;
}

int vg_lookup_gid(const char *s, gid_t *out)
{
	struct group gr, *res = NULL;
	char buf[16384];

	if (all_digits(s)) {
		unsigned long v = strtoul(s, NULL, 10);
		if (v > 0xfffffffeUL)
			return -1;
		*out = (gid_t)v;
		return 0;
	}
	if (getgrnam_r(s, &gr, buf, sizeof buf, &res) != 0 || !res)
		return -1;
	*out = gr.gr_gid;
	return 0;
}

/* The raw syscalls change this thread only; glibc's wrappers for
 * setgroups would change every thread of vigild. */
static __thread gid_t saved_groups[VG_PEER_MAX_GROUPS];
static __thread int nsaved = -1;

int vg_peer_become(const vg_peer *p)
{
	nsaved = getgroups(VG_PEER_MAX_GROUPS, saved_groups);
	if (syscall(SYS_setgroups, (size_t)p->ngroups, p->groups) != 0)
		return -1;
	syscall(SYS_setfsgid, p->gid);
	syscall(SYS_setfsuid, p->uid);
	/* setfsuid reports the previous value; check the new one took */
	if ((uid_t)syscall(SYS_setfsuid, -1) != p->uid ||
	    (gid_t)syscall(SYS_setfsgid, -1) != p->gid) {
		vg_peer_restore();
		errno = EPERM;
		return -1;
	}
	return 0;
}

void vg_peer_restore(void)
{
	syscall(SYS_setfsuid, geteuid());
	syscall(SYS_setfsgid, getegid());
	syscall(SYS_setgroups, (size_t)(nsaved > 0 ? nsaved : 0), saved_groups);
}
