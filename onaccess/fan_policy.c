/*
 * fan_policy.c - what on-access scans (see fan.h): the watched scope,
 * the prevention paths, the exclusions, and vigild's own processes.
 *
 * Everything here runs on the event thread, which must never open a
 * file on a watched filesystem (it would wait for its own verdict):
 * user names are resolved once at start, and per event only /proc is
 * read (never marked: a pseudo filesystem).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onaccess/fan.h"

static int add_path(char ***list, size_t *n, const char *path)
{
	char **grown = realloc(*list, (*n + 1) * sizeof **list);
	size_t len;
	char *copy;

	if (!grown)
		return -1;
	*list = grown;
	if (!(copy = strdup(path)))
		return -1;
	/* "/srv/" and "/srv" are the same tree; "/" stays "/" */
	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = 0;
	(*list)[(*n)++] = copy;
	return 0;
}

/* Watched paths as the kernel names them (symbolic links resolved). */
static int add_real(char ***list, size_t *n, const char *path)
{
	char real[PATH_MAX];
	return add_path(list, n, realpath(path, real) ? real : path);
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* vigild's pid, set by fan_policy_init before any thread reads it */
static pid_t self;

int fan_policy_init(fan_policy *p, const vg_config *cfg, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	self = getpid();
	pthread_mutex_init(&p->md_mu, NULL);
	if (!(p->ex = vg_exclude_new()) || !(p->md = pcre2_match_data_create(1, NULL)))
		goto nomem;
	for (size_t i = 0; i < vg_conf_list_count(cfg, VG_CONF_OA_INCLUDE_PATH); i++)
		if (add_real(&p->include, &p->ninclude,
		             vg_conf_list(cfg, VG_CONF_OA_INCLUDE_PATH, i)) != 0)
			goto nomem;
	for (size_t i = 0; i < vg_conf_list_count(cfg, VG_CONF_OA_MOUNT_PATH); i++) {
		struct stat st;
		const char *path = vg_conf_list(cfg, VG_CONF_OA_MOUNT_PATH, i);
		if (stat(path, &st) != 0) {
			snprintf(err, errlen, "OnAccessMountPath %s: %s", path, strerror(errno));
			return -1;
		}
		if (p->nfs < FAN_MAX_MARKS)
			p->fs_devs[p->nfs++] = st.st_dev;
	}
	p->prevent_all = vg_conf_bool(cfg, VG_CONF_OA_PREVENTION);
	for (size_t i = 0; i < vg_conf_list_count(cfg, VG_CONF_OA_PREVENTION_PATH); i++)
		if (add_real(&p->prevent, &p->nprevent,
		             vg_conf_list(cfg, VG_CONF_OA_PREVENTION_PATH, i)) != 0)
			goto nomem;
	for (size_t i = 0; i < vg_conf_list_count(cfg, VG_CONF_OA_EXCLUDE_PATH); i++) {
		const char *x = vg_conf_list(cfg, VG_CONF_OA_EXCLUDE_PATH, i);
		if (strpbrk(x, "*?[")) {
			if (vg_exclude_add(p->ex, x, err, errlen) != 0)
				return -1;
		} else if (add_path(&p->ex_prefix, &p->nex_prefix, x) != 0) {
			goto nomem;
		}
	}
	for (size_t i = 0; i < vg_conf_list_count(cfg, VG_CONF_OA_EXCLUDE_REGEX); i++) {
		char pat[4096 + 4];
		snprintf(pat, sizeof pat, "re:%s", vg_conf_list(cfg, VG_CONF_OA_EXCLUDE_REGEX, i));
		if (vg_exclude_add(p->ex, pat, err, errlen) != 0) {
			char why[512];
			snprintf(why, sizeof why, "OnAccessExcludeRegex: %s", err);
			snprintf(err, errlen, "%s", why);
			return -1;
		}
	}
	for (size_t i = 0; i < vg_conf_list_count(cfg, VG_CONF_OA_EXCLUDE_EXE); i++)
		if (add_path(&p->ex_exe, &p->nex_exe,
		             vg_conf_list(cfg, VG_CONF_OA_EXCLUDE_EXE, i)) != 0)
			goto nomem;
	{
		size_t nu = vg_conf_list_count(cfg, VG_CONF_OA_EXCLUDE_UID),
		       nn = vg_conf_list_count(cfg, VG_CONF_OA_EXCLUDE_UNAME);
		if (nu + nn && !(p->ex_uid = calloc(nu + nn, sizeof *p->ex_uid)))
			goto nomem;
		for (size_t i = 0; i < nu; i++) {
			const char *v = vg_conf_list(cfg, VG_CONF_OA_EXCLUDE_UID, i);
			char *end;
			unsigned long u = strtoul(v, &end, 10);
			if (!*v || *end || u > UINT32_MAX - 1) {
				snprintf(err, errlen, "OnAccessExcludeUID %s: not a uid", v);
				return -1;
			}
			p->ex_uid[p->nex_uid++] = (uid_t)u;
		}
		for (size_t i = 0; i < nn; i++) {
			const char *v = vg_conf_list(cfg, VG_CONF_OA_EXCLUDE_UNAME, i);
			struct passwd *pw = getpwnam(v);
			if (!pw) {
				snprintf(err, errlen, "OnAccessExcludeUname %s: no such user", v);
				return -1;
			}
			p->ex_uid[p->nex_uid++] = pw->pw_uid;
		}
	}
	p->ex_root = vg_conf_bool(cfg, VG_CONF_OA_EXCLUDE_ROOT);
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

void fan_policy_free(fan_policy *p)
{
	free_list(p->include, p->ninclude);
	free_list(p->prevent, p->nprevent);
	free_list(p->ex_prefix, p->nex_prefix);
	free_list(p->ex_exe, p->nex_exe);
	free(p->ex_uid);
	vg_exclude_free(p->ex);
	if (p->md)
		pcre2_match_data_free(p->md);
	pthread_mutex_destroy(&p->md_mu);
	memset(p, 0, sizeof *p);
}

int fan_path_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	if (n == 1 && prefix[0] == '/')
		return path[0] == '/';
	return strncmp(path, prefix, n) == 0 && (path[n] == 0 || path[n] == '/');
}

int fan_policy_in_scope(const fan_policy *p, const char *path, dev_t dev)
{
	for (size_t i = 0; i < p->nfs; i++)
		if (p->fs_devs[i] == dev)
			return 1;
	for (size_t i = 0; i < p->ninclude; i++)
		if (fan_path_under(path, p->include[i]))
			return 1;
	return 0;
}

int fan_policy_prevents(const fan_policy *p, const char *path)
{
	if (p->prevent_all)
		return 1;
	for (size_t i = 0; i < p->nprevent; i++)
		if (fan_path_under(path, p->prevent[i]))
			return 1;
	return 0;
}

void fan_proc_exe(pid_t pid, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
	n = readlink(link, buf, len - 1);
	buf[n > 0 ? n : 0] = 0;
}

uid_t fan_proc_uid(pid_t pid)
{
	char dir[32];
	struct stat st;

	/* /proc/PID belongs to the process's effective uid (as clamonacc
	 * reads it) */
	snprintf(dir, sizeof dir, "/proc/%d", (int)pid);
	return stat(dir, &st) == 0 ? st.st_uid : (uid_t)-1;
}

const char *fan_policy_excluded(fan_policy *p, const char *path, pid_t pid)
{
	size_t len = strlen(path);
	const char *base = strrchr(path, '/');

	for (size_t i = 0; i < p->nex_prefix; i++)
		if (fan_path_under(path, p->ex_prefix[i]))
			return "path";
	if (!vg_exclude_empty(p->ex)) {
		int hit;
		/* the match data is one: the event thread and the thread
		 * screening a notification may both be here */
		pthread_mutex_lock(&p->md_mu);
		hit = vg_exclude_match(p->ex, p->md, path, len,
		                       base ? (size_t)(base + 1 - path) : 0);
		pthread_mutex_unlock(&p->md_mu);
		if (hit)
			return "path";
	}
	if (p->nex_uid || p->ex_root) {
		uid_t u = fan_proc_uid(pid);
		if (u == 0 && p->ex_root)
			return "uid";
		for (size_t i = 0; i < p->nex_uid; i++)
			if (p->ex_uid[i] == u)
				return "uid";
	}
	if (p->nex_exe) {
		char exe[PATH_MAX];
		fan_proc_exe(pid, exe, sizeof exe);
		for (size_t i = 0; *exe && i < p->nex_exe; i++)
			if (!strcmp(exe, p->ex_exe[i]))
				return "executable";
	}
	return NULL;
}

/* The parent of pid from /proc/PID/stat, or 0. */
static pid_t parent_of(pid_t pid)
{
	char path[40], buf[512], *close_paren;
	ssize_t n;
	int fd, ppid = 0;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* "pid (comm) S ppid ...": comm may hold spaces and parentheses */
	if (!(close_paren = strrchr(buf, ')')) ||
	    sscanf(close_paren + 1, " %*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

int fan_is_self(pid_t pid)
{
	/* events name the thread group: every thread of vigild is self */
	return pid == self;
}

int fan_is_known_own(vg_pool *pool, pid_t pid)
{
	return fan_is_self(pid) || vg_pool_owns_pid(pool, pid);
}

int fan_is_own(vg_pool *pool, pid_t pid)
{
	pid_t ppid;

	if (fan_is_known_own(pool, pid))
		return 1;
	/* an engine process vigild is starting, or a worker its engine
	 * process forked and has not announced yet */
	ppid = parent_of(pid);
	return ppid && fan_is_known_own(pool, ppid);
}
