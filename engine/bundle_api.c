/*
 * bundle_api.c - the public vigil_bundle handle of vigil/bundle.h:
 * open, verify, check, sign and describe a bundle file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "engine/bundle.h"
#include "vigil/bundle.h"

#define VG_BUNDLE_HANDLE_MAGIC 0x5647424eu /* "VGBN" */

struct vigil_bundle {
	uint32_t magic;
	int open;
	vg_bundle b;
	char *path;
	char signer[17];
	char digest[2 * VG_BUNDLE_DIGEST_LEN + 1];
	char errmsg[VG_ERRMSG_MAX];
};

static int handle_ok(const vigil_bundle *h)
{
	return h && h->magic == VG_BUNDLE_HANDLE_MAGIC;
}

/* Records "path: why" and returns the status's error. */
static vigil_error fail(vigil_bundle *h, vg_bundle_status st, const char *why)
{
	snprintf(h->errmsg, sizeof h->errmsg, "%.200s: %.300s",
	         h->path ? h->path : "bundle", why);
	return vg_bundle_error(st);
}

VIGIL_API vigil_error vigil_bundle_new(vigil_bundle **out)
{
	vigil_bundle *h;

	if (!out)
		return VIGIL_EINVAL;
	if (!(*out = h = calloc(1, sizeof *h)))
		return VIGIL_ENOMEM;
	h->magic = VG_BUNDLE_HANDLE_MAGIC;
	h->b.fd = -1;
	return VIGIL_OK;
}

static void close_handle(vigil_bundle *h)
{
	if (h->open)
		vg_bundle_close(&h->b);
	h->open = 0;
	free(h->path);
	h->path = NULL;
}

VIGIL_API void vigil_bundle_free(vigil_bundle *h)
{
	if (!handle_ok(h))
		return;
	close_handle(h);
	h->magic = 0;
	free(h);
}

VIGIL_API vigil_error vigil_bundle_open(vigil_bundle *h, const char *path)
{
	char why[VG_ERRMSG_MAX];
	vg_bundle_status st;

	if (!handle_ok(h) || !path)
		return VIGIL_EINVAL;
	close_handle(h);
	if (!(h->path = strdup(path)))
		return VIGIL_ENOMEM;
	h->errmsg[0] = '\0';
	st = vg_bundle_open(&h->b, path, why, sizeof why);
	h->open = 1; /* closed by the next open or free, even half made */
	if (st != VG_BUNDLE_OK) {
		vg_bundle_close(&h->b);
		h->open = 0;
		return fail(h, st, why);
	}
	return VIGIL_OK;
}

VIGIL_API vigil_error vigil_bundle_verify(vigil_bundle *h,
                                          const char *trust_dir)
{
	char why[VG_ERRMSG_MAX];
	vg_bundle_status st;

	if (!handle_ok(h) || !h->open)
		return VIGIL_EINVAL;
	st = vg_bundle_verify(&h->b, trust_dir ? trust_dir
	                                       : vigil_default_trust_dir(),
	                      why, sizeof why);
	return st == VG_BUNDLE_OK ? VIGIL_OK : fail(h, st, why);
}

VIGIL_API vigil_error vigil_bundle_check_parts(vigil_bundle *h)
{
	char why[VG_ERRMSG_MAX];
	vg_bundle_status st;

	if (!handle_ok(h) || !h->open)
		return VIGIL_EINVAL;
	st = vg_bundle_check_parts(&h->b, why, sizeof why);
	return st == VG_BUNDLE_OK ? VIGIL_OK : fail(h, st, why);
}

VIGIL_API vigil_error vigil_bundle_sign(vigil_bundle *h,
                                        const char *secret_key_path)
{
	char why[VG_ERRMSG_MAX];
	uint8_t sk[64];
	vigil_error err;

	if (!handle_ok(h) || !h->open || !secret_key_path)
		return VIGIL_EINVAL;
	if (vg_sodium_ready() != 0)
		return VIGIL_EINTERNAL;
	if (vg_key_read_secret(secret_key_path, sk, why, sizeof why) != 0) {
		snprintf(h->errmsg, sizeof h->errmsg, "%s", why);
		return VIGIL_EINVAL;
	}
	err = vg_bundle_sign_file(&h->b, h->path, sk, why, sizeof why);
	sodium_memzero(sk, sizeof sk);
	if (err != VIGIL_OK)
		snprintf(h->errmsg, sizeof h->errmsg, "%.200s: %.300s", h->path,
		         why);
	return err;
}

VIGIL_API uint64_t vigil_bundle_version(const vigil_bundle *h)
{
	return handle_ok(h) && h->open ? h->b.version : 0;
}

VIGIL_API uint64_t vigil_bundle_created(const vigil_bundle *h)
{
	return handle_ok(h) && h->open ? h->b.created : 0;
}

VIGIL_API const char *vigil_bundle_signer(vigil_bundle *h)
{
	if (!handle_ok(h) || !h->open || h->b.sig_alg == VG_BUNDLE_UNSIGNED)
		return "";
	vg_key_id(h->b.pubkey, h->signer);
	return h->signer;
}

VIGIL_API size_t vigil_bundle_part_count(const vigil_bundle *h)
{
	return handle_ok(h) && h->open ? h->b.nparts : 0;
}

VIGIL_API vigil_error vigil_bundle_part(vigil_bundle *h, size_t i,
                                        vigil_bundle_part_info *out)
{
	const vg_bundle_part *p;

	if (!handle_ok(h) || !h->open || !out || i >= h->b.nparts)
		return VIGIL_EINVAL;
	p = &h->b.parts[i];
	if (vg_sodium_ready() != 0)
		return VIGIL_EINTERNAL;
	sodium_bin2hex(h->digest, sizeof h->digest, p->digest, sizeof p->digest);
	out->kind = vg_part_kind_name(p->kind);
	out->name = p->name;
	out->offset = p->offset;
	out->size = p->size;
	out->count = p->count;
	out->digest = h->digest;
	return VIGIL_OK;
}

VIGIL_API const char *vigil_bundle_last_error(const vigil_bundle *h)
{
	return handle_ok(h) ? h->errmsg : "invalid bundle handle";
}
