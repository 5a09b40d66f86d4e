/*
 * items.c - reading the vault's items: list, get, the item accessors,
 * delete and purge.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "quarantine/item.h"
#include "quarantine/items.h"
#include "quarantine/qv.h"
#include "quarantine/record.h"

vigil_error vg_qitem_load(vigil_quarantine *q, const char *id,
                          vigil_quarantine_item *it)
{
	char why[512] = "";
	size_t len;
	int fd;

	memset(it, 0, sizeof *it);
	memcpy(it->id, id, sizeof it->id);
	if ((fd = vg_item_open(q, id)) < 0)
		return it->error = errno == ENOENT ? VIGIL_ENOENT : VIGIL_EVAULT;
	it->error = vg_item_read_record(q->key, id, fd, &it->json, &len, why,
	                                sizeof why);
	close(fd);
	if (it->error == VIGIL_OK)
		it->error = vg_qrecord_parse(it->json, len, &it->rec, why, sizeof why);
	if (it->error == VIGIL_OK && strcmp(it->rec.id, id) != 0) {
		snprintf(why, sizeof why, "its record belongs to item %s", it->rec.id);
		it->error = VIGIL_EVAULT;
	}
	if (it->error != VIGIL_OK) {
		if (!*why)
			snprintf(why, sizeof why, "%s", vigil_strerror(it->error));
		vg_q_fail(q, it->error, "vault %s: item %s is damaged: %s", q->dir,
		          id, why);
		vg_qrecord_clear(&it->rec);
		free(it->json);
		it->json = NULL;
	}
	return it->error;
}

void vg_qitem_clear(vigil_quarantine_item *it)
{
	vg_qrecord_clear(&it->rec);
	free(it->json);
	it->json = NULL;
}

/* ---- enumerating ------------------------------------------------ */

struct entry {
	char id[VIGIL_QUARANTINE_ID_SIZE];
	struct timespec mtime;
};

static int older_first(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The IDs of the vault's items whose ID starts with prefix, oldest
 * first (by the item file's time, which is when it was written). */
static vigil_error ids(vigil_quarantine *q, const char *prefix,
                       struct entry **out, size_t *count)
{
	size_t n = 0, cap = 0, plen = strlen(prefix);
	struct entry *e = NULL;
	struct dirent *de;
	struct stat st;
	int dfd;
	DIR *d;

	if ((dfd = vg_q_dir_stream_fd(q)) < 0 || !(d = fdopendir(dfd))) {
		int er = errno;
		if (dfd >= 0)
			close(dfd);
		return vg_q_fail_errno(q, er, "vault %s", q->dir);
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char id[VIGIL_QUARANTINE_ID_SIZE];
		if (len != VIGIL_QUARANTINE_ID_SIZE - 1 + strlen(VG_Q_ITEM_SUFFIX) ||
		    strcmp(de->d_name + VIGIL_QUARANTINE_ID_SIZE - 1, VG_Q_ITEM_SUFFIX))
			continue;
		memcpy(id, de->d_name, VIGIL_QUARANTINE_ID_SIZE - 1);
		id[VIGIL_QUARANTINE_ID_SIZE - 1] = '\0';
		if (!vg_q_is_id(id) || strncmp(id, prefix, plen) != 0 ||
		    fstatat(q->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 64;
			struct entry *g = realloc(e, c * sizeof *g);
			if (!g) {
				free(e);
				closedir(d);
				return vg_q_fail(q, VIGIL_ENOMEM, "out of memory");
			}
			e = g;
			cap = c;
		}
		memcpy(e[n].id, id, sizeof id);
		e[n].mtime = st.st_mtim;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(e, n, sizeof *e, older_first);
	*out = e;
	*count = n;
	return VIGIL_OK;
}

vigil_error vigil_quarantine_list(vigil_quarantine *q, vigil_quarantine_cb cb,
                                  void *userdata)
{
	struct entry *e = NULL;
	vigil_error err;
	size_t n = 0;

	if (!vg_q_ok(q) || !cb)
		return VIGIL_EINVAL;
	q->errmsg[0] = '\0';
	if ((err = vg_q_open(q)) != VIGIL_OK || (err = ids(q, "", &e, &n)))
		return err;
	for (size_t i = 0; i < n; i++) {
		vigil_quarantine_item it;
		int stop;
		/* gone since the listing (deleted by another process): skip */
		if (vg_qitem_load(q, e[i].id, &it) == VIGIL_ENOENT)
			continue;
		stop = cb(&it, userdata) != VIGIL_CONTINUE;
		vg_qitem_clear(&it);
		if (stop)
			break;
	}
	free(e);
	q->errmsg[0] = '\0';
	return VIGIL_OK;
}

vigil_error vg_qitem_find(vigil_quarantine *q, const char *id,
                          char out[VIGIL_QUARANTINE_ID_SIZE])
{
	struct entry *e = NULL;
	size_t n = 0, len = id ? strlen(id) : 0;
	vigil_error err;

	if (len < 4 || len > VIGIL_QUARANTINE_ID_SIZE - 1 ||
	    strspn(id, "0123456789abcdef") != len)
		return vg_q_fail(q, VIGIL_EINVAL, "'%s' is not an item ID (16 "
		                 "hex digits, or a unique prefix of 4 or more)",
		                 id ? id : "");
	if ((err = vg_q_open(q)) != VIGIL_OK)
		return err;
	if (vg_q_is_id(id)) {
		memcpy(out, id, VIGIL_QUARANTINE_ID_SIZE);
		return VIGIL_OK;
	}
	if ((err = ids(q, id, &e, &n)) != VIGIL_OK)
		return err;
	if (n == 1)
		memcpy(out, e[0].id, VIGIL_QUARANTINE_ID_SIZE);
	free(e);
	if (n == 0)
		return vg_q_fail(q, VIGIL_ENOENT, "no item %s in vault %s", id, q->dir);
	if (n > 1)
		return vg_q_fail(q, VIGIL_EINVAL, "%zu items start with %s; give "
		                 "more digits", n, id);
	return VIGIL_OK;
}

vigil_error vigil_quarantine_get(vigil_quarantine *q, const char *id,
                                 vigil_quarantine_item **out)
{
	char full[VIGIL_QUARANTINE_ID_SIZE];
	vigil_quarantine_item *it;
	vigil_error err;

	if (!vg_q_ok(q) || !out)
		return VIGIL_EINVAL;
	*out = NULL;
	q->errmsg[0] = '\0';
	if ((err = vg_qitem_find(q, id, full)) != VIGIL_OK)
		return err;
	if (!(it = malloc(sizeof *it)))
		return vg_q_fail(q, VIGIL_ENOMEM, "out of memory");
	if ((err = vg_qitem_load(q, full, it)) != VIGIL_OK) {
		free(it);
		return err;
	}
	*out = it;
	return VIGIL_OK;
}

void vigil_quarantine_item_free(vigil_quarantine_item *it)
{
	if (!it)
		return;
	vg_qitem_clear(it);
	free(it);
}

/* ---- accessors -------------------------------------------------- */

const char *vigil_quarantine_item_id(const vigil_quarantine_item *it)
{
	return it ? it->id : "";
}

vigil_error vigil_quarantine_item_error(const vigil_quarantine_item *it)
{
	return it ? it->error : VIGIL_EINVAL;
}

const char *vigil_quarantine_item_path(const vigil_quarantine_item *it,
                                       size_t *len)
{
	if (len)
		*len = it && it->rec.path ? it->rec.path_len : 0;
	return it && it->rec.path ? it->rec.path : "";
}

uint64_t vigil_quarantine_item_size(const vigil_quarantine_item *it)
{
	return it ? it->rec.size : 0;
}

const char *vigil_quarantine_item_sha256(const vigil_quarantine_item *it)
{
	return it ? it->rec.sha256 : "";
}

int64_t vigil_quarantine_item_time_ns(const vigil_quarantine_item *it)
{
	return it ? it->rec.time_ns : 0;
}

const char *vigil_quarantine_item_threat(const vigil_quarantine_item *it)
{
	return it && it->rec.threat ? it->rec.threat : "";
}

vigil_verdict vigil_quarantine_item_verdict(const vigil_quarantine_item *it)
{
	return it ? it->rec.verdict : VIGIL_CLEAN;
}

const char *vigil_quarantine_item_record(const vigil_quarantine_item *it)
{
	return it && it->json ? it->json : "";
}

/* ---- delete and purge ------------------------------------------- */

vigil_error vigil_quarantine_delete(vigil_quarantine *q, const char *id)
{
	char full[VIGIL_QUARANTINE_ID_SIZE];
	vigil_error err;

	if (!vg_q_ok(q))
		return VIGIL_EINVAL;
	q->errmsg[0] = '\0';
	if ((err = vg_qitem_find(q, id, full)) != VIGIL_OK)
		return err;
	return vg_item_remove(q, full);
}

vigil_error vigil_quarantine_purge(vigil_quarantine *q, int64_t before,
                                   uint64_t *deleted)
{
	struct entry *e = NULL;
	uint64_t gone = 0;
	vigil_error err;
	size_t n = 0;

	if (!vg_q_ok(q))
		return VIGIL_EINVAL;
	q->errmsg[0] = '\0';
	if (deleted)
		*deleted = 0;
	if ((err = vg_q_open(q)) != VIGIL_OK || (err = ids(q, "", &e, &n)))
		return err;
	for (size_t i = 0; i < n && err == VIGIL_OK; i++) {
		vigil_quarantine_item it;
		/* the record's time, which is authenticated, decides */
		if (vg_qitem_load(q, e[i].id, &it) != VIGIL_OK)
			continue;
		if (it.rec.time_ns < before && (err = vg_item_remove(q, it.id)) == VIGIL_OK)
			gone++;
		vg_qitem_clear(&it);
	}
	free(e);
	if (err == VIGIL_OK)
		q->errmsg[0] = '\0';
	if (deleted)
		*deleted = gone;
	return err;
}
