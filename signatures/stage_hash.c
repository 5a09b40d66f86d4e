/* stage_hash.c - placeholder until the hash stage lands. */
#include "config.h"
#include "engine/vg.h"
const vg_stage vg_stage_hash = { .name = "hash" };
