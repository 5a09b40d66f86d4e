/*
 * registry.c - the unpacker registry: each unpacker bids on a layer and
 * the highest bid extracts its members as child layers.
 */
#include "config.h"

#include "engine/vg.h"

vigil_error vg_unpack(vg_ctx *ctx, const vg_layer *layer)
{
	(void)ctx;
	(void)layer;
	return VIGIL_OK;
}
