/* stage_yara.c - placeholder until the YARA stage lands. */
#include "config.h"
#include "engine/vg.h"
const vg_stage vg_stage_yara = { .name = "yara" };
