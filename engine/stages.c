/*
 * stages.c - the stage table, expanded from stage_list.h.
 */
#include "config.h"

#include "engine/vg.h"

#define VG_STAGE(id) extern const vg_stage vg_stage_##id;
#include "engine/stage_list.h"
#undef VG_STAGE

#define VG_STAGE(id) &vg_stage_##id,
const vg_stage *const vg_stages[VG_STAGE_COUNT] = {
#include "engine/stage_list.h"
};
#undef VG_STAGE
