/*
 * finding_names.c - the names of vigil's own findings, expanded from
 * engine/finding_list.h, and vigil_limit_name.
 */
#include "config.h"

#include "engine/vg.h"

#define VG_LIMIT(limit, name) [VG_F_##limit] = name,
#define VG_FINDING(id, name) [VG_F_##id] = name,
const char *const vg_finding_names[VG_F_COUNT] = {
#include "engine/finding_list.h"
};
#undef VG_LIMIT
#undef VG_FINDING

/* The list holds one line per limit, in vigil_limit order. */
#define VG_LIMIT(limit, name) \
	_Static_assert(VG_F_##limit == (int)VIGIL_LIMIT_##limit, \
	               "finding_list.h: limits out of vigil_limit order");
#define VG_FINDING(id, name)
#include "engine/finding_list.h"
#undef VG_LIMIT
#undef VG_FINDING

/* ... and one for every limit */
#define VG_LIMIT(limit, name) + 1
#define VG_FINDING(id, name)
_Static_assert(0
#include "engine/finding_list.h"
               == VIGIL_LIMIT_COUNT, "finding_list.h: a limit is missing");
#undef VG_LIMIT
#undef VG_FINDING

const char *vigil_limit_name(vigil_limit limit)
{
	if ((unsigned)limit >= VIGIL_LIMIT_COUNT)
		return NULL;
	return vg_finding_names[limit];
}
