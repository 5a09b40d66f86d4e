/*
 * fan_marks.c - vigild's fanotify group and its marks (see fan.h).
 *
 * One mark per watched filesystem (FAN_MARK_FILESYSTEM) or mount
 * (FAN_MARK_MOUNT), never one per directory, no inotify. The verdict
 * cache lives in the kernel: after a clean scan an evictable inode
 * ignore mark without FAN_MARK_IGNORED_SURV_MODIFY, so the next open of
 * the unchanged file makes no event at all, a write clears it, and it
 * pins no inode. A kernel that lacks a flag gets the next best thing and
 * a log line saying so.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "onaccess/fan.h"
#include "onaccess/log.h"

/* Filesystems never marked: pseudo filesystems (nothing to scan, and
 * marking them can stall the system) and network or FUSE filesystems
 * (a scan reads over the network while the opener waits; a FUSE daemon
 * that opens its own files would wait for itself). */
static const struct fs_type {
	const char *name;
	unsigned long magic;
	int never; /* excluded by default */
} fs_types[] = {
	{ "proc", 0x9fa0, 1 }, { "sysfs", 0x62656572, 1 },
	{ "cgroup", 0x27e0eb, 1 }, { "cgroup2", 0x63677270, 1 },
	{ "devpts", 0x1cd1, 1 }, { "debugfs", 0x64626720, 1 },
	{ "tracefs", 0x74726163, 1 }, { "securityfs", 0x73636673, 1 },
	{ "bpf", 0xcafe4a11, 1 }, { "pstore", 0x6165676c, 1 },
	{ "configfs", 0x62656570, 1 }, { "efivarfs", 0xde5e81e4, 1 },
	{ "mqueue", 0x19800202, 1 }, { "nsfs", 0x6e736673, 1 },
	{ "binfmt_misc", 0x42494e4d, 1 }, { "rpc_pipefs", 0x67596969, 1 },
	{ "autofs", 0x0187, 1 }, { "nfs", 0x6969, 1 }, { "cifs", 0xff534d42, 1 },
	{ "smb2", 0xfe534d42, 1 }, { "smb", 0x517b, 1 }, { "fuse", 0x65735546, 1 },
	{ "9p", 0x01021997, 1 }, { "ceph", 0x00c36400, 1 }, { "afs", 0x5346414f, 1 },
	{ "coda", 0x73757245, 1 },
	/* local filesystems an admin may exclude by name */
	{ "tmpfs", 0x01021994, 0 }, { "ext4", 0xef53, 0 }, { "xfs", 0x58465342, 0 },
	{ "btrfs", 0x9123683e, 0 }, { "overlay", 0x794c7630, 0 },
	{ "ramfs", 0x858458f6, 0 }, { "vfat", 0x4d44, 0 }, { "squashfs", 0x73717368, 0 },
	{ "iso9660", 0x9660, 0 }, { "zfs", 0x2fc12fc1, 0 }, { "f2fs", 0xf2f52010, 0 },
};
#define NFS_TYPES (sizeof fs_types / sizeof fs_types[0])

static const char *fs_name(unsigned long magic)
{
	for (size_t i = 0; i < NFS_TYPES; i++)
		if (fs_types[i].magic == magic)
			return fs_types[i].name;
	return NULL;
}

/* Why a filesystem is not marked, or NULL. */
static const char *fs_excluded(const vg_config *cfg, unsigned long magic,
                               char *err, size_t errlen, int *bad)
{
	for (size_t i = 0; i < NFS_TYPES; i++)
		if (fs_types[i].magic == magic && fs_types[i].never)
			return fs_types[i].name;
	for (size_t i = 0; i < vg_conf_list_count(cfg, VG_CONF_OA_EXCLUDE_FSTYPE); i++) {
		const char *t = vg_conf_list(cfg, VG_CONF_OA_EXCLUDE_FSTYPE, i);
		unsigned long m = 0;
		char *end;
		if (!strncasecmp(t, "0x", 2)) {
			m = strtoul(t + 2, &end, 16);
			if (*end || end == t + 2)
				m = 0;
		} else {
			for (size_t j = 0; j < NFS_TYPES; j++)
				if (!strcasecmp(fs_types[j].name, t))
					m = fs_types[j].magic;
		}
		if (!m) {
			snprintf(err, errlen, "OnAccessExcludeFSType %s: unknown filesystem type "
			         "(a name such as tmpfs or ext4, or a magic number 0x...)", t);
			*bad = 1;
			return NULL;
		}
		if (m == magic)
			return t;
	}
	return NULL;
}

static int lacks(const fan_kernel *k, const char *flag)
{
	size_t n = strlen(flag);
	for (const char *p = k->lacks; (p = strstr(p, flag)); p += n)
		if ((p == k->lacks || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
			return 1;
	return 0;
}

int fan_kernel_open(fan_kernel *k, int want_ignore, char *err, size_t errlen)
{
	const char *t = getenv("VIGILD_TEST_KERNEL_LACKS");

	memset(k, 0, sizeof *k);
	snprintf(k->lacks, sizeof k->lacks, "%s", t ? t : "");
	/* content class: permission events come before the opener sees a
	 * byte; O_NOATIME: our reads leave no trace; no FAN_UNLIMITED_*:
	 * the kernel's queue and mark limits hold */
	k->fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK,
	                      O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NOATIME);
	if (k->fd < 0) {
		snprintf(err, errlen, "fanotify_init: %s%s", strerror(errno),
		         errno == EPERM ? " (on-access scanning needs root, "
		                          "CAP_SYS_ADMIN)" : "");
		return -1;
	}
	k->fs_marks = !lacks(k, "FAN_MARK_FILESYSTEM");
	if (!want_ignore) {
		k->ignore_flag = 0;
	} else if (lacks(k, "FAN_MARK_EVICTABLE")) {
		vg_log(VG_LOG_WARNING, "on-access: the kernel lacks FAN_MARK_EVICTABLE (5.19): "
		       "ignore marks would pin inodes, so none are placed; every access "
		       "is scanned (the workers' caches still answer repeats)");
		k->ignore_flag = 0;
	} else if (lacks(k, "FAN_MARK_IGNORE")) {
		vg_log(VG_LOG_INFO, "on-access: the kernel lacks FAN_MARK_IGNORE (6.0): "
		       "ignore marks use FAN_MARK_IGNORED_MASK");
		k->ignore_flag = FAN_MARK_IGNORED_MASK;
	} else {
		k->ignore_flag = FAN_MARK_IGNORE;
	}
	return 0;
}

static int mark_one(fan_kernel *k, const vg_config *cfg, const char *conf_path,
                    int filesystem, const char *directive, char *err, size_t errlen)
{
	char real[PATH_MAX];
	struct statfs sf;
	struct stat st;
	const char *why;
	int bad = 0;
	fan_mark_info *m;

	if (!realpath(conf_path, real) || statfs(real, &sf) != 0 || stat(real, &st) != 0) {
		snprintf(err, errlen, "%s %s: %s", directive, conf_path, strerror(errno));
		return -1;
	}
	why = fs_excluded(cfg, (unsigned long)sf.f_type, err, errlen, &bad);
	if (bad)
		return -1;
	if (why) {
		vg_log(VG_LOG_WARNING, "on-access: %s %s is on a %s filesystem: not marked",
		       directive, conf_path, why);
		return 0;
	}
	if (k->nmarks >= FAN_MAX_MARKS) {
		snprintf(err, errlen, "%s %s: more than %d watched paths", directive,
		         conf_path, FAN_MAX_MARKS);
		return -1;
	}
	if (filesystem && !k->fs_marks) {
		vg_log(VG_LOG_WARNING, "on-access: the kernel lacks FAN_MARK_FILESYSTEM (4.20): "
		       "%s %s marks its mount only", directive, conf_path);
		filesystem = 0;
	}
	if (fanotify_mark(k->fd, FAN_MARK_ADD | (filesystem ? FAN_MARK_FILESYSTEM
	                                                    : FAN_MARK_MOUNT),
	                  k->mask, AT_FDCWD, real) != 0) {
		if (filesystem && errno == EINVAL) {
			k->fs_marks = 0;
			return mark_one(k, cfg, conf_path, 1, directive, err, errlen);
		}
		snprintf(err, errlen, "%s %s: fanotify_mark: %s", directive, conf_path,
		         strerror(errno));
		return -1;
	}
	m = &k->marks[k->nmarks++];
	snprintf(m->path, sizeof m->path, "%s", real);
	m->filesystem = filesystem;
	m->dev = st.st_dev;
	vg_log(VG_LOG_INFO, "on-access: watching %s (%s mark, %s)", real,
	       filesystem ? "filesystem" : "mount",
	       fs_name((unsigned long)sf.f_type) ? fs_name((unsigned long)sf.f_type)
	                                         : "filesystem");
	return 0;
}

int fan_kernel_mark(fan_kernel *k, const vg_config *cfg, char *err, size_t errlen)
{
	size_t want = 0;

	for (size_t i = 0; i < vg_conf_list_count(cfg, VG_CONF_OA_MOUNT_PATH); i++, want++)
		if (mark_one(k, cfg, vg_conf_list(cfg, VG_CONF_OA_MOUNT_PATH, i), 1,
		             "OnAccessMountPath", err, errlen) != 0)
			return -1;
	for (size_t i = 0; i < vg_conf_list_count(cfg, VG_CONF_OA_INCLUDE_PATH); i++, want++)
		if (mark_one(k, cfg, vg_conf_list(cfg, VG_CONF_OA_INCLUDE_PATH, i), 0,
		             "OnAccessIncludePath", err, errlen) != 0)
			return -1;
	if (want && !k->nmarks) {
		snprintf(err, errlen, "no watched path could be marked");
		return -1;
	}
	return 0;
}

static int ignore_call(fan_kernel *k, unsigned op, int fd)
{
	unsigned flags = op | k->ignore_flag | FAN_MARK_EVICTABLE;
	if (k->ignore_flag == FAN_MARK_IGNORE && lacks(k, "FAN_MARK_IGNORE")) {
		errno = EINVAL;
		return -1;
	}
	return fanotify_mark(k->fd, flags, k->ignore_mask, fd, NULL);
}

static int same_state(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int fan_kernel_ignore(fan_kernel *k, int fd, const struct stat *before)
{
	struct stat now;

	if (!k->ignore_flag || k->fd < 0)
		return 0;
	if (ignore_call(k, FAN_MARK_ADD, fd) != 0) {
		if (errno == EINVAL && k->ignore_flag == FAN_MARK_IGNORE) {
			vg_log(VG_LOG_INFO, "on-access: the kernel refuses FAN_MARK_IGNORE: "
			       "ignore marks use FAN_MARK_IGNORED_MASK");
			k->ignore_flag = FAN_MARK_IGNORED_MASK;
			return fan_kernel_ignore(k, fd, before);
		}
		if (errno == EINVAL) {
			vg_log(VG_LOG_WARNING, "on-access: the kernel refuses evictable ignore "
			       "marks (%s): none are placed, every access is scanned",
			       strerror(errno));
			k->ignore_flag = 0;
		}
		return -1;
	}
	/* a write between the event and the mark cleared nothing: the
	 * verdict is for the bytes we saw, so take the mark back */
	if (fstat(fd, &now) != 0 || !same_state(before, &now)) {
		ignore_call(k, FAN_MARK_REMOVE, fd);
		return 0;
	}
	return 1;
}

int fan_kernel_flush(fan_kernel *k)
{
	if (k->fd < 0)
		return 0;
	/* without FAN_MARK_MOUNT or FAN_MARK_FILESYSTEM, FLUSH removes the
	 * inode marks only: the ignore marks; the watches stay */
	return fanotify_mark(k->fd, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL);
}

long fan_kernel_live_ignores(const fan_kernel *k)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	long n = 0;
	FILE *f;

	if (k->fd < 0)
		return -1;
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", k->fd);
	if (!(f = fopen(path, "re")))
		return -1;
	while (getline(&line, &cap, f) > 0)
		if (!strncmp(line, "fanotify ino:", 13) && strstr(line, "ignored_mask:") &&
		    !strstr(line, "ignored_mask:0\n") && !strstr(line, "ignored_mask:0 "))
			n++;
	free(line);
	fclose(f);
	return n;
}

void fan_kernel_close(fan_kernel *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

const char *fan_kind_name(fan_kind k)
{
	switch (k) {
	case FAN_KIND_EXEC: return "open_exec_perm";
	case FAN_KIND_OPEN_PERM: return "open_perm";
	case FAN_KIND_OPEN: return "open";
	case FAN_KIND_CLOSE_WRITE: return "close_write";
	default: return "?";
	}
}
