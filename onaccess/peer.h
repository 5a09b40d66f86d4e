/*
 * peer.h - who is on the other end of a Unix socket (SO_PEERCRED), and
 * file access with that peer's rights.
 *
 * vigild runs as root, but a client must not be able to make it read a
 * file the client could not read itself (clamd's socket can: clamav
 * #1169). Path scans therefore open files, and walk directories, with
 * the peer's filesystem identity: the calling THREAD switches its fsuid,
 * fsgid and supplementary groups (raw syscalls, which act on one thread
 * only) and the kernel does the permission checks; changing the fsuid
 * away from 0 also drops the thread's CAP_DAC_OVERRIDE and
 * CAP_DAC_READ_SEARCH. The descriptor opened this way is then handed to a
 * scan worker.
 */
#ifndef VIGIL_ONACCESS_PEER_H
#define VIGIL_ONACCESS_PEER_H

#include <sys/types.h>

#define VG_PEER_MAX_GROUPS 256

typedef struct vg_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int ngroups; /* supplementary groups, the primary one included */
	gid_t groups[VG_PEER_MAX_GROUPS];
} vg_peer;

/* Fills p from a connected Unix socket; -1 with errno on failure. */
int vg_peer_get(int fd, vg_peer *p);

/* 1 when the peer is root or a member of gid. */
int vg_peer_in_group(const vg_peer *p, gid_t gid);

/* A user or group given by name or number; -1 when unknown. */
int vg_lookup_uid(const char *s, uid_t *out);
int vg_lookup_gid(const char *s, gid_t *out);

/*
 * Takes on the peer's filesystem identity for this thread (0, or -1
 * with errno), and gives it back. Between the two, open(), opendir()
 * and stat() check the peer's rights. Nothing else may run on the
 * thread in between.
 */
int vg_peer_become(const vg_peer *p);
void vg_peer_restore(void);

#endif /* VIGIL_ONACCESS_PEER_H */
