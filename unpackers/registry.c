/*
 * registry.c - the unpacker registry: each unpacker bids on a layer and
 * the highest bid extracts its members as child layers (libarchive's
 * format bidding; ties go to the earlier entry of unpacker_list.h, so
 * cheap and exact readers come first).
 */
#include "config.h"

#include "unpackers/unpack.h"
#include "worker/worker.h"

#define VG_UNPACKER(id) &vg_unpacker_##id,
static const vg_unpacker *const unpackers[] = {
#include "unpackers/unpacker_list.h"
};
#undef VG_UNPACKER

const vg_unpacker *vg_unpack_choose(vg_ctx *ctx, const vg_layer *layer)
{
	const vg_unpacker *best = NULL;
	int best_bid = VG_BID_NONE;

	if (layer->size == 0)
		return NULL;
	for (size_t i = 0; i < sizeof unpackers / sizeof *unpackers; i++) {
		int bid = unpackers[i]->bid(ctx, layer);
		if (bid > best_bid) {
			best_bid = bid;
			best = unpackers[i];
		}
	}
	return best;
}

int vg_unpacker_index(const vg_unpacker *u)
{
	for (size_t i = 0; i < sizeof unpackers / sizeof *unpackers; i++)
		if (unpackers[i] == u)
			return (int)i;
	return -1;
}

const vg_unpacker *vg_unpacker_at(unsigned i)
{
	return i < sizeof unpackers / sizeof *unpackers ? unpackers[i] : NULL;
}

vigil_error vg_unpack(vg_ctx *ctx, const vg_layer *layer)
{
	if (!layer->unpacker || vg_unpack_should_stop(ctx, layer))
		return VIGIL_OK;
	/* third-party parsers read hostile bytes in a worker; only layers
	 * such an unpacker bid on pay for the trip */
	if (layer->unpacker->isolated && vg_isolated(ctx->engine))
		return vg_remote_unpack(ctx, layer, layer->unpacker);
	return layer->unpacker->extract(ctx, layer);
}
