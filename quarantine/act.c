/*
 * act.c - vigil_quarantine_act: the safety rules, then quarantine or
 * remove (see quarantine.h).
 *
 * The action works on the descriptor that was scanned, so what is
 * checked, copied and judged is one file: its name is matched to the
 * descriptor's device and inode once the directory is open and again
 * right before the unlink, and the copied bytes are matched to the
 * scan's SHA-256. What no system call can close is the moment between
 * that last check and unlink(2) (there is no "unlink if inode"); a
 * swap in it needs write access to the directory, and then unlinks
 * only a name the swapper could have removed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/vg.h"
#include "quarantine/item.h"
#include "quarantine/meta.h"
#include "quarantine/qv.h"
#include "quarantine/record.h"
#include "quarantine/resolve.h"

static void hook(const char *point)
{
	if (vg_q_test_hook)
		vg_q_test_hook(point);
}

/* The name in dirfd still refers to the scanned file. */
static vigil_error same_file(vigil_quarantine *q, int dirfd, const char *name,
                             const struct stat *scanned, const char *path)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return vg_q_fail(q, VIGIL_ECHANGED, "%s: no longer there; "
			                 "nothing done", path);
		return vg_q_fail_errno(q, errno, "%s", path);
	}
	if (S_ISLNK(st.st_mode))
		return vg_q_fail(q, VIGIL_EUNSAFE, "%s: is a symbolic link; not "
		                 "following it", path);
	if (st.st_dev != scanned->st_dev || st.st_ino != scanned->st_ino)
		return vg_q_fail(q, VIGIL_ECHANGED, "%s: replaced by another file "
		                 "since it was scanned; left alone", path);
	return VIGIL_OK;
}

/* The most severe finding's name. */
static const char *threat_of(const vigil_result *r)
{
	const char *name = "";
	vigil_verdict best = VIGIL_CLEAN;

	for (size_t i = 0; i < vigil_result_finding_count(r); i++) {
		const vigil_finding *f = vigil_result_finding(r, i);
		if (vigil_finding_verdict(f) > best) {
			best = vigil_finding_verdict(f);
			name = vigil_finding_name(f);
		}
	}
	return name;
}

/* The absolute path the item records: the directory's real path (so a
 * restore needs no symbolic link) and the name. */
static int record_path(vg_qrecord *rec, int dirfd, const char *name,
                       const char *path)
{
	char *dir = vg_dir_path(dirfd), cwd[4096];
	int n;

	if (dir)
		n = asprintf(&rec->path, "%s%s%s", dir,
		             dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	else if (path[0] == '/')
		n = asprintf(&rec->path, "%s", path);
	else if (getcwd(cwd, sizeof cwd))
		n = asprintf(&rec->path, "%s/%s", cwd, path);
	else
		n = -1;
	free(dir);
	if (n < 0) {
		rec->path = NULL;
		return -1;
	}
	rec->path_len = (size_t)n;
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int same_times(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Copies the scanned file into a durable vault item. */
static vigil_error store(vigil_quarantine *q, int fd, const struct stat *st,
                         int dirfd, const char *name, const char *path,
                         const vigil_result *res, char id[VIGIL_QUARANTINE_ID_SIZE])
{
	vg_qrecord rec = { .verdict = vigil_result_verdict(res) };
	vg_item_writer w = { .fd = -1 };
	uint8_t sha[32];
	uint64_t size, reserve;
	struct stat after;
	vigil_error err;
	char *json = NULL;

	if ((err = vg_q_open(q)) != VIGIL_OK)
		return err;
	if (record_path(&rec, dirfd, name, path) != 0 ||
	    !(rec.agent = strdup(q->agent)) || !(rec.threat = strdup(threat_of(res)))) {
		err = vg_q_fail(q, VIGIL_ENOMEM, "out of memory");
		goto out;
	}
	if (vg_meta_read(fd, st, &rec) != 0) {
		err = vg_q_fail_errno(q, errno, "%s: cannot read its attributes", path);
		goto out;
	}
	/* the item's size, with room for the record */
	reserve = vg_item_overhead((uint64_t)st->st_size) + (uint64_t)st->st_size +
	          4096 + rec.path_len * 2;
	for (size_t i = 0; i < rec.nxattrs; i++)
		reserve += rec.xattrs[i].len * 4 / 3 + 64;
	if ((err = vg_item_begin(q, reserve, &w)) != VIGIL_OK)
		goto out;
	memcpy(rec.id, w.id, sizeof rec.id);
	if ((err = vg_item_payload(q, &w, fd, &size, sha)) != VIGIL_OK)
		goto out;
	sodium_bin2hex(rec.sha256, sizeof rec.sha256, sha, sizeof sha);
	rec.size = size;
	if (*vigil_result_sha256(res) && strcmp(rec.sha256, vigil_result_sha256(res))) {
		err = vg_q_fail(q, VIGIL_ECHANGED, "%s: its bytes are not the ones "
		                "that were scanned (written to since); left alone", path);
		goto out;
	}
	if (fstat(fd, &after) != 0 || after.st_size != st->st_size ||
	    (uint64_t)after.st_size != size ||
	    !same_times(&after.st_mtim, &st->st_mtim) ||
	    !same_times(&after.st_ctim, &st->st_ctim)) {
		err = vg_q_fail(q, VIGIL_ECHANGED, "%s: changed while it was being "
		                "copied; left alone", path);
		goto out;
	}
	rec.time_ns = now_ns();
	if (!(json = vg_qrecord_to_json(&rec, res))) {
		err = vg_q_fail(q, VIGIL_ENOMEM, "out of memory");
		goto out;
	}
	if ((err = vg_item_finish(q, &w, json, strlen(json))) == VIGIL_OK)
		memcpy(id, w.id, VIGIL_QUARANTINE_ID_SIZE);
out:
	vg_item_abort(q, &w);
	free(json);
	vg_qrecord_clear(&rec);
	return err;
}

/* Withdraws an item whose original stays in place; keeps the action's
 * message, adding to it only if the item could not go. */
static void withdraw(vigil_quarantine *q, const char *id)
{
	char keep[VG_Q_ERRMSG_MAX];

	memcpy(keep, q->errmsg, sizeof keep);
	if (vg_item_remove(q, id) != VIGIL_OK) {
		size_t n = strlen(keep);
		snprintf(keep + n, sizeof keep - n, " (and item %s stays in the "
		         "vault: %.300s)", id, q->errmsg);
	}
	memcpy(q->errmsg, keep, sizeof keep);
}

vigil_error vigil_quarantine_act(vigil_quarantine *q, vigil_action action,
                                 int fd, const char *root, const char *path,
                                 const vigil_result *result,
                                 char id[VIGIL_QUARANTINE_ID_SIZE])
{
	char why[512], item[VIGIL_QUARANTINE_ID_SIZE] = "";
	const char *name;
	vigil_verdict v;
	struct stat st;
	vigil_error err;
	int dirfd = -1;

	if (!vg_q_ok(q))
		return VIGIL_EINVAL;
	q->errmsg[0] = '\0';
	if (id)
		id[0] = '\0';
	if (fd < 0 || !root || !path || !result ||
	    (unsigned)action > VIGIL_ACTION_REMOVE)
		return vg_q_fail(q, VIGIL_EINVAL, "invalid argument");
	v = vigil_result_verdict(result);
	if (v < VIGIL_SUSPICIOUS)
		return vg_q_fail(q, VIGIL_ENODETECTION, "%s: verdict %s: nothing to "
		                 "act on", path, vigil_verdict_name(v));
	if (fstat(fd, &st) != 0)
		return vg_q_fail_errno(q, errno, "%s", path);
	if (!S_ISREG(st.st_mode))
		return vg_q_fail(q, VIGIL_ENOTREG, "%s: not a regular file", path);
	if ((err = vg_resolve_parent(root, path, &dirfd, &name, why,
	                             sizeof why)) != VIGIL_OK)
		return vg_q_fail(q, err, "%s: %s; nothing done", path, why);
	if ((err = same_file(q, dirfd, name, &st, path)) != VIGIL_OK ||
	    action == VIGIL_ACTION_REPORT)
		goto out;
	/* a read-only file system or an immutable directory: say so before
	 * copying anything */
	if (faccessat(dirfd, ".", W_OK, AT_EACCESS) != 0) {
		err = vg_q_fail_errno(q, errno, "%s: cannot be removed from its "
		                      "directory; nothing done", path);
		goto out;
	}
	if (action == VIGIL_ACTION_QUARANTINE &&
	    (err = store(q, fd, &st, dirfd, name, path, result, item)) != VIGIL_OK)
		goto out;
	hook("unlink");
	if ((err = same_file(q, dirfd, name, &st, path)) != VIGIL_OK) {
		if (*item)
			withdraw(q, item);
		goto out;
	}
	if (unlinkat(dirfd, name, 0) != 0) {
		err = vg_q_fail_errno(q, errno, "%s: cannot remove it; left in place",
		                      path);
		if (*item)
			withdraw(q, item);
		goto out;
	}
	vg_q_fsync_dir(dirfd);
	if (id)
		memcpy(id, item, sizeof item);
out:
	close(dirfd);
	return err;
}
