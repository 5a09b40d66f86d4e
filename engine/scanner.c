/*
 * scanner.c - per-thread scanners and the three ways into a scan: a
 * path, a file descriptor, a buffer.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "engine/cache.h"
#include "engine/map.h"
#include "engine/vg.h"
#include "worker/worker.h"

static int scanner_ok(const vigil_scanner *s)
{
	return s && s->magic == VG_SCANNER_MAGIC;
}

static vigil_error scanner_fail(vigil_scanner *s, vigil_error err,
                                const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static vigil_error scanner_fail(vigil_scanner *s, vigil_error err,
                                const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
	va_end(ap);
	return err;
}

vigil_error vigil_scanner_new(const vigil_engine *e, vigil_scanner **out)
{
	vigil_scanner *s;

	if (!out || !e || e->magic != VG_ENGINE_MAGIC)
		return VIGIL_EINVAL;
	*out = NULL;
	if (!e->frozen)
		return VIGIL_ENOTFROZEN;
	if (!(s = calloc(1, sizeof *s)))
		return VIGIL_ENOMEM;
	s->magic = VG_SCANNER_MAGIC;
	s->engine = e;
	s->owner_uid = (uid_t)-1;
	for (int i = 0; i < VG_STAGE_COUNT; i++) {
		vigil_error err;
		if (!vg_stages[i]->scanner_new)
			continue;
		err = vg_stages[i]->scanner_new(e, &s->stage_state[i]);
		if (err != VIGIL_OK) {
			vigil_scanner_free(s);
			return err;
		}
	}
	*out = s;
	return VIGIL_OK;
}

void vigil_scanner_free(vigil_scanner *s)
{
	if (!scanner_ok(s))
		return;
	for (int i = 0; i < VG_STAGE_COUNT; i++)
		if (s->stage_state[i] && vg_stages[i]->scanner_free)
			vg_stages[i]->scanner_free(s->stage_state[i]);
	free(s->buf);
	vg_job_bufs_free(s);
	s->magic = 0;
	free(s);
}

void vigil_scanner_set_callback(vigil_scanner *s, vigil_finding_cb cb,
                                void *userdata)
{
	if (!scanner_ok(s))
		return;
	s->cb = cb;
	s->cb_userdata = userdata;
}

const char *vigil_scanner_last_error(const vigil_scanner *s)
{
	return scanner_ok(s) ? s->errmsg : "invalid scanner";
}

/* The owner's user name, remembered for the last uid looked up: name
 * service look-ups cost far more than a scan of a small file. */
static const char *owner_name(vigil_scanner *s, uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (uid == s->owner_uid)
		return s->owner;
	if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res)
		snprintf(s->owner, sizeof s->owner, "%s", pw.pw_name);
	else
		snprintf(s->owner, sizeof s->owner, "%u", (unsigned)uid);
	s->owner_uid = uid;
	return s->owner;
}

/* What a cache key must cover besides the bytes: the name and owner,
 * when some rule reads them. */
static void name_key(const vigil_engine *e, const char *path,
                     const char *owner, uint64_t key[2])
{
	XXH3_state_t st;
	XXH128_hash_t h;

	key[0] = key[1] = 0;
	if (!e->cache_keys_name)
		return;
	XXH3_128bits_reset(&st);
	XXH3_128bits_update(&st, path, strlen(path) + 1);
	XXH3_128bits_update(&st, owner, strlen(owner) + 1);
	h = XXH3_128bits_digest(&st);
	key[0] = h.low64;
	key[1] = h.high64;
}

/* A regular file's identity: unchanged identity means unchanged bytes,
 * since any write moves the change time. */
static void identity_key(const struct stat *st, const uint64_t nkey[2],
                         uint64_t key[2])
{
	uint64_t id[11] = {
		st->st_dev, st->st_ino, (uint64_t)st->st_size,
		(uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
		(uint64_t)st->st_ctim.tv_sec, (uint64_t)st->st_ctim.tv_nsec,
		st->st_uid, nkey[0], nkey[1], 0x6964 /* domain: "id" */
	};
	XXH128_hash_t h = XXH3_128bits(id, sizeof id);
	key[0] = h.low64;
	key[1] = h.high64;
}

/* Scans bytes already in memory as a top-level object. */
static vigil_error scan_object(vigil_scanner *s, const uint8_t *data,
                               size_t size, const char *path,
                               const char *owner, const uint64_t *idkey,
                               const uint64_t nkey[2], vigil_result **out)
{
	const vigil_engine *e = s->engine;
	uint64_t t0 = vg_now_us();
	uint64_t max_ms = e->limits[VIGIL_LIMIT_MAX_SCAN_MS];
	vg_ctx ctx = { .scanner = s, .engine = e };
	vg_layer top = {
		.data = data, .size = size, .fd = -1,
		.name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path,
		.path = path, .layer_path = "", .owner = owner,
	};
	vigil_error err;

	if (!(ctx.result = vg_result_new()))
		return VIGIL_ENOMEM;
	if (max_ms)
		ctx.budget.deadline_us = t0 + max_ms * 1000;
	memcpy(ctx.name_key, nkey, sizeof ctx.name_key);

	err = vg_pipeline_run(&ctx, &top);
	/* a failure recorded where it could not be returned still fails
	 * the scan: never a CLEAN result from a scan that went wrong */
	if (err == VIGIL_OK)
		err = ctx.err;
	if (err != VIGIL_OK) {
		vigil_result_free(ctx.result);
		return scanner_fail(s, err, "%s: %s", *path ? path : "(memory)",
		                    vigil_strerror(err));
	}
	vg_hex(top.digest.sha256, 32, ctx.result->sha256);
	ctx.result->type = vg_filetype_name(top.type);
	ctx.result->size = size;
	ctx.result->time_us = vg_now_us() - t0;
	/* Only complete verdicts are remembered: a limit or a stop request
	 * may end the next scan differently. */
	if (!ctx.stop && !ctx.incomplete) {
		if (!ctx.result->cached)
			vg_cache_put(e->cache, ctx.content_key, e->generation,
			             ctx.result);
		if (idkey)
			vg_cache_put(e->cache, idkey, e->generation, ctx.result);
	}
	*out = ctx.result;
	return VIGIL_OK;
}

static vigil_error scan_open_fd(vigil_scanner *s, int fd, const char *name,
                                vigil_result **out)
{
	const vigil_engine *e = s->engine;
	struct stat st;
	uint64_t nkey[2], idkey[2];
	const char *owner = "";
	int is_reg;
	vg_map m;
	vigil_error err;

	if (fstat(fd, &st) != 0)
		return scanner_fail(s, VIGIL_EIO, "%s: %s", name, strerror(errno));
	is_reg = S_ISREG(st.st_mode);
	if (S_ISDIR(st.st_mode))
		return scanner_fail(s, VIGIL_ENOTREG, "%s: is a directory", name);
	if (is_reg)
		owner = owner_name(s, st.st_uid);
	name_key(e, name, owner, nkey);

	if (is_reg && e->cache) {
		uint64_t t0 = vg_now_us();
		vigil_result *hit;
		identity_key(&st, nkey, idkey);
		if ((hit = vg_cache_get(e->cache, idkey, e->generation))) {
			/* report cached findings to the callback too */
			for (size_t i = 0; s->cb && i < hit->nfindings; i++)
				if (s->cb(&hit->findings[i], s->cb_userdata) != VIGIL_CONTINUE)
					break;
			hit->cached = 1;
			hit->time_us = vg_now_us() - t0;
			*out = hit;
			return VIGIL_OK;
		}
	}

	err = vg_map_fd(s, fd, is_reg, (uint64_t)st.st_size,
	                vg_limit(e, VIGIL_LIMIT_MAX_FILESIZE), 1, &m);
	if (err == VIGIL_ETOOLARGE)
		return scanner_fail(s, err, "%s: larger than the file size limit",
		                    name);
	if (err != VIGIL_OK)
		return scanner_fail(s, err, "%s: %s", name, vigil_strerror(err));
	err = scan_object(s, m.data, m.size, name, owner,
	                  is_reg && e->cache ? idkey : NULL, nkey, out);
	vg_unmap(s, &m);
	return err;
}

static int check_args(vigil_scanner *s, vigil_result **out)
{
	if (!out)
		return 0;
	*out = NULL;
	if (!scanner_ok(s))
		return 0;
	s->errmsg[0] = '\0';
	return 1;
}

vigil_error vigil_scan_path(vigil_scanner *s, const char *path,
                            vigil_result **out)
{
	vigil_error err;
	int fd;

	if (!check_args(s, out) || !path)
		return VIGIL_EINVAL;
	/* O_NOATIME keeps scans from touching access times; only the
	 * owner (or root) may ask for it, so retry without. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		return scanner_fail(s, vg_error_from_errno(e), "%s: %s", path,
		                    strerror(e));
	}
	err = scan_open_fd(s, fd, path, out);
	close(fd);
	return err;
}

vigil_error vigil_scan_fd(vigil_scanner *s, int fd, const char *name,
                          vigil_result **out)
{
	if (!check_args(s, out) || fd < 0)
		return VIGIL_EINVAL;
	return scan_open_fd(s, fd, name ? name : "", out);
}

vigil_error vigil_scan_mem(vigil_scanner *s, const void *data, size_t size,
                           const char *name, vigil_result **out)
{
	uint64_t nkey[2];

	if (!check_args(s, out) || (!data && size))
		return VIGIL_EINVAL;
	if (size > vg_limit(s->engine, VIGIL_LIMIT_MAX_FILESIZE))
		return scanner_fail(s, VIGIL_ETOOLARGE,
		                    "buffer larger than the file size limit");
	if (!name)
		name = "";
	name_key(s->engine, name, "", nkey);
	return scan_object(s, data ? data : (const void *)"", size, name, "",
	                   NULL, nkey, out);
}
