/*
 * confine.c - what the kernel enforces on a worker, set once after
 * start-up (libraries and ClamAV databases loaded) and before the first
 * hostile byte:
 *
 * - an unprivileged uid ("nobody") when started as root;
 * - no new privileges, not dumpable, no core files;
 * - RLIMIT_AS: the address space at start-up plus the engine's
 *   VIGIL_LIMIT_MAX_WORKER_MEMORY (so it bounds what one job can take,
 *   whatever the databases and, under ASan, the shadow memory weigh);
 *   RLIMIT_FSIZE at the member size limit (temporary files, memfds);
 * - Landlock (where the kernel has it): the file system shrinks to the
 *   worker's private temporary folder, where libclamav writes;
 * - seccomp: an allow-list of the system calls unpacking needs; exec,
 *   sockets and ptrace kill the worker, anything else not listed fails
 *   with EPERM.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "worker/proto.h"
#include "worker/worker.h"

/* /proc/self/status, opened before confinement: the fatal-signal
 * handler reads the address space there (and so does setting the
 * limit). */
static int status_fd = -1;
static int report_fd = -1;
static uint64_t as_limit;   /* bytes; 0 for none */

/* Within this much of the limit, a failure is the limit's doing. */
#define NEAR_LIMIT (32ull << 20)

/* A "Vm...:   1234 kB" value of /proc/self/status, in bytes; 0 when
 * unknown. Async-signal-safe (pread and byte loops only). */
static uint64_t vm_field(const char *field)
{
	char buf[2048];
	size_t flen = strlen(field);
	ssize_t n;
	uint64_t kb = 0;

	if (status_fd < 0 ||
	    (n = pread(status_fd, buf, sizeof buf - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	for (char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (strncmp(p, field, flen) != 0)
			continue;
		for (p += flen; *p == ' ' || *p == '\t'; p++)
			;
		for (; *p >= '0' && *p <= '9'; p++)
			kb = kb * 10 + (uint64_t)(*p - '0');
		return kb * 1024;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Fatal signals                                                       */
/* ------------------------------------------------------------------ */

void vg_confine_dying(unsigned kind, int sig)
{
	uint32_t v[3] = { VG_MSG_DYING, kind, (uint32_t)sig };
	uint8_t rec[12];

	/* built by hand: async-signal-safe */
	for (int i = 0; i < 3; i++)
		for (int b = 0; b < 4; b++)
			rec[i * 4 + b] = (uint8_t)(v[i] >> (8 * b));
	if (report_fd >= 0)
		send(report_fd, rec, sizeof rec, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Sends DYING, then dies of sig. */
static void on_fatal(int sig)
{
	vg_confine_dying(as_limit && vm_field("VmSize:") + NEAR_LIMIT >= as_limit
	                 ? VG_DYING_MEMORY : VG_DYING_CRASH, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

void vg_confine_signals(int sock)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE,
	                             SIGILL, SIGTRAP };
	static uint8_t altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
	struct sigaction sa;

	report_fd = sock;
	/* a stack overflow must still reach the handler */
	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++)
		sigaction(fatal[i], &sa, NULL);
	/* a write past RLIMIT_FSIZE fails with EFBIG instead */
	signal(SIGXFSZ, SIG_IGN);
}

/* ------------------------------------------------------------------ */
/* Identity and resource limits                                        */
/* ------------------------------------------------------------------ */

static int drop_root(const char *tmpdir, char *why, size_t whylen)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if (!(pw = getpwnam("nobody"))) {
		snprintf(why, whylen, "no user nobody to run as");
		return -1;
	}
	if (chown(tmpdir, pw->pw_uid, pw->pw_gid) != 0 ||
	    setgroups(0, NULL) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		snprintf(why, whylen, "cannot become nobody: %s",
		         strerror(errno));
		return -1;
	}
	return 0;
}

static int set_limit(int res, uint64_t v)
{
	struct rlimit rl = { .rlim_cur = (rlim_t)v, .rlim_max = (rlim_t)v };
	return setrlimit(res, &rl);
}

static int limits(const vg_msg_config *c, char *why, size_t whylen)
{
	uint64_t mem = c->limits[VIGIL_LIMIT_MAX_WORKER_MEMORY];
	uint64_t member = c->limits[VIGIL_LIMIT_MAX_MEMBER_SIZE];

	if (set_limit(RLIMIT_CORE, 0) != 0)
		goto fail;
	/* memfds and libclamav's temporary files stop at the member limit
	 * (with room for libclamav's own bookkeeping files) */
	if (member && member < UINT64_MAX - (64u << 20) &&
	    set_limit(RLIMIT_FSIZE, member + (64u << 20)) != 0)
		goto fail;
	if (mem) {
		uint64_t base = vm_field("VmSize:");
		if (!base) {
			snprintf(why, whylen, "cannot read /proc/self/status");
			return -1;
		}
		as_limit = base + mem;
		if (set_limit(RLIMIT_AS, as_limit) != 0)
			goto fail;
	}
	return 0;
fail:
	snprintf(why, whylen, "setrlimit: %s", strerror(errno));
	return -1;
}

/* ------------------------------------------------------------------ */
/* Landlock                                                            */
/* ------------------------------------------------------------------ */

/* The file-system rights of each Landlock ABI version. */
static uint64_t landlock_fs_rights(int abi)
{
	uint64_t r = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	             LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	             LANDLOCK_ACCESS_FS_REMOVE_DIR |
	             LANDLOCK_ACCESS_FS_REMOVE_FILE |
	             LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	             LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	             LANDLOCK_ACCESS_FS_MAKE_FIFO |
	             LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	return r;
}

/* Only the private folder stays reachable. 0 also when the kernel has
 * no Landlock: seccomp still holds, and doc/design.md says what is
 * lost. */
static int landlock(const char *tmpdir, char *why, size_t whylen)
{
	struct landlock_ruleset_attr attr = { 0 };
	struct landlock_path_beneath_attr beneath = { 0 };
	int abi, rs, dir;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	                   LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0;
	attr.handled_access_fs = landlock_fs_rights(abi);
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (rs < 0)
		goto fail;
	dir = open(tmpdir, O_PATH | O_CLOEXEC | O_DIRECTORY);
	if (dir < 0) {
		close(rs);
		goto fail;
	}
	beneath.parent_fd = dir;
	beneath.allowed_access = attr.handled_access_fs &
	                         ~(uint64_t)LANDLOCK_ACCESS_FS_EXECUTE;
	if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH,
	            &beneath, 0) != 0 ||
	    syscall(SYS_landlock_restrict_self, rs, 0) != 0) {
		close(dir);
		close(rs);
		goto fail;
	}
	close(dir);
	close(rs);
	return 0;
fail:
	snprintf(why, whylen, "landlock: %s", strerror(errno));
	return -1;
}

/* ------------------------------------------------------------------ */
/* seccomp                                                             */
/* ------------------------------------------------------------------ */

/* What libarchive, libclamav and the C library need to unpack from
 * memory and descriptors, write temporary files and memfds, and talk
 * on the socket they were given. */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(lseek),
	SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(statx), SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(fcntl),
	SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(ftruncate),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(fchmod),
	SCMP_SYS(chmod), SCMP_SYS(fchmodat),
	SCMP_SYS(getdents64), SCMP_SYS(getcwd), SCMP_SYS(umask),
	/* libclamav's temporary files and folders (Landlock keeps them in
	 * the private folder) */
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(mkdir), SCMP_SYS(mkdirat),
	SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rmdir),
	SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(access),
	SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(readlink),
	SCMP_SYS(memfd_create),
	/* memory */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(mprotect), SCMP_SYS(madvise),
	/* the socket to the caller */
	SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendto),
	SCMP_SYS(recvfrom), SCMP_SYS(poll), SCMP_SYS(ppoll),
	/* signals, time, threads' bookkeeping, randomness */
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack), SCMP_SYS(getpid),
	SCMP_SYS(gettid), SCMP_SYS(tgkill), SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep), SCMP_SYS(futex),
	SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(getrandom),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	SCMP_SYS(getegid), SCMP_SYS(getrlimit), SCMP_SYS(setrlimit),
	SCMP_SYS(prlimit64),
	SCMP_SYS(getrusage), SCMP_SYS(uname), SCMP_SYS(sysinfo),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* Tried only by an attacker: the worker dies and the caller says so. */
static const int killing[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(socket),
	SCMP_SYS(socketpair), SCMP_SYS(connect), SCMP_SYS(bind),
	SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
	SCMP_SYS(process_vm_writev), SCMP_SYS(fork), SCMP_SYS(vfork),
};

static int seccomp(char *why, size_t whylen)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int r = f ? 0 : -ENOMEM;

	for (size_t i = 0; !r && i < sizeof allowed / sizeof *allowed; i++)
		if (allowed[i] >= 0)
			r = seccomp_rule_add(f, SCMP_ACT_ALLOW, allowed[i], 0);
	for (size_t i = 0; !r && i < sizeof killing / sizeof *killing; i++)
		if (killing[i] >= 0)
			r = seccomp_rule_add(f, SCMP_ACT_KILL_PROCESS, killing[i], 0);
	/* the caller's socket stays the only one it can talk on */
	if (!r)
		r = seccomp_load(f);
	seccomp_release(f);
	if (r) {
		snprintf(why, whylen, "seccomp: %s", strerror(-r));
		return -1;
	}
	return 0;
}

int vg_confine(const vg_msg_config *c, char *why, size_t whylen)
{
	status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	/* the time zone, read now: once Landlock hides /etc/localtime,
	 * glibc would try to open it again at every localtime() (libarchive
	 * and libclamav call it for every entry and temporary file) */
	tzset();
	if (drop_root(c->tmpdir, why, whylen) != 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		snprintf(why, whylen, "prctl: %s", strerror(errno));
		return -1;
	}
	if (limits(c, why, whylen) != 0 || landlock(c->tmpdir, why, whylen))
		return -1;
	/* libclamav writes relative to nothing, but a crash handler or a
	 * library that does should land in the private folder */
	if (chdir(c->tmpdir) != 0) {
		snprintf(why, whylen, "%s: %s", c->tmpdir, strerror(errno));
		return -1;
	}
	return seccomp(why, whylen);
}
