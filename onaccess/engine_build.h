/*
 * engine_build.h - a frozen vigil engine from vigild.conf: limits,
 * options, DatabaseDirectory. Used by the engine process and by
 * vigild --check-config.
 */
#ifndef VIGIL_ONACCESS_ENGINE_BUILD_H
#define VIGIL_ONACCESS_ENGINE_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "onaccess/conf.h"
#include "vigil/vigil.h"

/*
 * Builds and freezes an engine; NULL with the reason in err. Bundles
 * older than min_bundle are refused (a reload passes the version it
 * serves: a replayed old bundle cannot take its place); 0: any.
 */
vigil_engine *vg_engine_build(const vg_config *cfg, uint64_t min_bundle,
                              char *err, size_t errlen);

/* WorkerHangTimeout in ms, with its default (MaxScanTime + 10 s). */
uint64_t vg_engine_hang_ms(const vg_config *cfg);

#endif
