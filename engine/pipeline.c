/*
 * pipeline.c - one layer through identify, digest, cache, stages and
 * unpackers; child layers re-enter here through vg_scan_child.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/cache.h"
#include "engine/vg.h"

uint64_t vg_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

vigil_error vg_report(vg_ctx *ctx, const vg_layer *layer, const char *stage,
                      const char *name, vigil_verdict v, double score,
                      const char *detail)
{
	return vg_report_why(ctx, layer, stage, name, v, score, detail, NULL);
}

vigil_error vg_report_why(vg_ctx *ctx, const vg_layer *layer,
                          const char *stage, const char *name,
                          vigil_verdict v, double score, const char *detail,
                          const char *reason)
{
	vigil_result *r = ctx->result;
	vigil_finding_cb cb = ctx->scanner->cb;
	vigil_error err;

	err = vg_result_add(r, stage, name, layer ? layer->layer_path : "", v,
	                    score, detail, reason);
	if (err != VIGIL_OK)
		return vg_ctx_fail(ctx, err);
	if (cb && cb(&r->findings[r->nfindings - 1], ctx->scanner->cb_userdata)
	              != VIGIL_CONTINUE)
		ctx->stop = 1;
	return VIGIL_OK;
}

vigil_error vg_ctx_fail(vg_ctx *ctx, vigil_error err)
{
	if (err != VIGIL_OK) {
		if (ctx->err == VIGIL_OK)
			ctx->err = err;
		ctx->stop = 1;
	}
	return err;
}

/* 1 when this object's result already names the limit. */
static int limit_reported(const vg_ctx *ctx, const char *limit_name)
{
	const vigil_result *r = ctx->result;

	for (size_t i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].stage, "limit") == 0 &&
		    strcmp(r->findings[i].name, limit_name) == 0)
			return 1;
	return 0;
}

vigil_error vg_limit_hit(vg_ctx *ctx, const vg_layer *layer,
                         const char *limit_name, const char *reason)
{
	ctx->incomplete = 1;
	/* a bomb hits the same limit in each of its thousands of members;
	 * the first hit says all there is to say */
	if (limit_reported(ctx, limit_name))
		return VIGIL_OK;
	return vg_report(ctx, layer, "limit", limit_name, VIGIL_INCOMPLETE, 0.0,
	                 reason);
}

int vg_ctx_timed_out(vg_ctx *ctx, const vg_layer *layer)
{
	if (!ctx->budget.deadline_us || vg_now_us() < ctx->budget.deadline_us)
		return 0;
	/* no error to return from here: a failed report ends the scan
	 * through ctx */
	vg_ctx_fail(ctx, vg_limit_hit(ctx, layer, VG_F(MAX_SCAN_MS),
	                              "time per object exceeded"));
	return 1;
}

/* Digests every stage asks for, for an object of this size. */
static unsigned digests_needed(const vigil_engine *e, uint64_t size)
{
	unsigned need = 0;

	for (int i = 0; i < VG_STAGE_COUNT; i++)
		if (vg_stages[i]->digests)
			need |= vg_stages[i]->digests(e, size);
	return need;
}

const vg_digest *vg_layer_digests(const vg_layer *layer, unsigned flags,
                                  vg_digest *tmp)
{
	if ((layer->digest.have & flags) == flags)
		return &layer->digest;
	if (vg_digest_compute(layer->data, layer->size, flags, tmp) != 0)
		return NULL;
	return tmp;
}

/* Replays a cached top-level result into ctx->result. */
static vigil_error replay_cached(vg_ctx *ctx, const vigil_result *hit)
{
	for (size_t i = 0; i < hit->nfindings && !ctx->stop; i++) {
		const vigil_finding *f = &hit->findings[i];
		vg_layer at = { .layer_path = f->layer };
		vigil_error err = vg_report_why(ctx, &at, f->stage, f->name,
		                                f->verdict, f->score, f->detail,
		                                f->reason);
		if (err != VIGIL_OK)
			return err;
	}
	ctx->result->cached = 1;
	ctx->result->expires_us = hit->expires_us;
	return VIGIL_OK;
}

vigil_error vg_pipeline_run(vg_ctx *ctx, vg_layer *layer)
{
	const vigil_engine *e = ctx->engine;
	vigil_error err;

	unsigned need = digests_needed(e, layer->size);

	/* The top level always gets its SHA-256 (the result reports it)
	 * and its XXH3-128 (the cache key); members only what stages ask. */
	if (layer->depth == 0)
		need |= VG_DIGEST_SHA256 | VG_DIGEST_XXH128;
	layer->type = vg_filetype_detect(layer->data, layer->size);
	if (vg_digest_compute(layer->data, layer->size, need, &layer->digest))
		return VIGIL_EINTERNAL;

	if (layer->depth == 0) {
		vigil_result *hit;
		ctx->content_key[0] = layer->digest.xxh128[0] ^ ctx->name_key[0];
		ctx->content_key[1] = layer->digest.xxh128[1] ^ ctx->name_key[1];
		hit = vg_cache_get(e->cache, ctx->content_key, e->generation);
		if (hit) {
			err = replay_cached(ctx, hit);
			vigil_result_free(hit);
			return err;
		}
	}

	ctx->result->bytes_scanned += layer->size;
	/* who unpacks this layer is settled before any stage runs, so a
	 * stage that shares work with an unpacker (ClamAV's one libclamav
	 * pass) reads the choice instead of making its own */
	layer->unpacker = e->options[VIGIL_OPT_NO_UNPACK] ? NULL :
	                  vg_unpack_choose(ctx, layer);
	ctx->allowlisted = 0;
	ctx->ml_score = -1;
	for (int i = 0; i < VG_STAGE_COUNT; i++) {
		const vg_stage *st = vg_stages[i];
		if (!st->scan)
			continue;
		err = st->scan(ctx, layer, ctx->scanner->stage_state[i]);
		if (err != VIGIL_OK)
			return err;
		if (ctx->stop || ctx->allowlisted || vg_ctx_timed_out(ctx, layer))
			return VIGIL_OK;
	}
	return vg_unpack(ctx, layer);
}

/* "parent!name", or "name" below the top level. */
static char *child_path(const char *parent, const char *name)
{
	size_t lp = strlen(parent), ln = strlen(name);
	char *p = malloc(lp + ln + 2);

	if (!p)
		return NULL;
	if (lp) {
		memcpy(p, parent, lp);
		p[lp++] = '!';
	}
	memcpy(p + lp, name, ln + 1);
	return p;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

vigil_error vg_scan_child(vg_ctx *ctx, const vg_layer *parent,
                          const char *name, const uint8_t *data,
                          size_t size)
{
	vg_layer child;
	char *lpath, *fpath;
	int allowlisted;
	vigil_error err;

	if (ctx->child)
		return ctx->child(ctx, parent, name, data, size);
	/* the limits were checked by the member sink, the only caller */
	if (!name || !*name)
		name = "(unnamed)";
	lpath = child_path(parent->layer_path, name);
	fpath = child_path(parent->path, name);
	if (!lpath || !fpath) {
		free(lpath);
		free(fpath);
		return vg_ctx_fail(ctx, VIGIL_ENOMEM);
	}
	child = (vg_layer){
		.data = data,
		.size = size,
		.name = base_name(name),
		.path = fpath,
		.layer_path = lpath,
		.depth = parent->depth + 1,
		.fd = -1,
		.parent = parent,
		.owner = parent->owner,
	};
	/* a child's allowlisting says nothing about its container, which
	 * may still be in its own stage loop */
	allowlisted = ctx->allowlisted;
	err = vg_pipeline_run(ctx, &child);
	ctx->allowlisted = allowlisted;
	free(lpath);
	free(fpath);
	return err;
}
