/*
 * slot.h - the engine srv_vigil scans with, and its reload. A slot is one
 * loaded and frozen vigil engine plus the URL rules and the ISTag that go
 * with it. Requests take a reference to the current slot for their whole
 * life; a reload builds a new slot and publishes it, and the old one is
 * freed when its last request lets go. No lock is held during a scan.
 */
#ifndef VIGIL_ICAP_SLOT_H
#define VIGIL_ICAP_SLOT_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

#include "icap/conf.h"
#include "icap/urlrules.h"

struct vg_slot;

/* Loads a new slot from the settings; NULL with a message in err.
 * Bundles older than min_bundle are refused (a reload passes the
 * version it serves); 0: any. */
struct vg_slot *vg_slot_load(const struct vg_icap_conf *conf,
                             uint64_t min_bundle, char *err, size_t errlen);

/* Makes s the current slot; the previous one goes when unused. */
void vg_slot_publish(struct vg_slot *s);

/* The current slot with a reference taken, or NULL before the first load. */
struct vg_slot *vg_slot_acquire(void);
void vg_slot_release(struct vg_slot *s);

/* Drops the current slot (service shutdown). */
void vg_slot_shutdown(void);

/* A scanner on the slot's engine, from its pool; give it back with put. */
vigil_scanner *vg_slot_scanner_get(struct vg_slot *s);
void vg_slot_scanner_put(struct vg_slot *s, vigil_scanner *sc);

const vigil_engine *vg_slot_engine(const struct vg_slot *s);
const struct vg_urlrules *vg_slot_urlrules(const struct vg_slot *s);
/* ISTag value: the same for the same signatures, rules and settings. */
const char *vg_slot_istag(const struct vg_slot *s);
uint64_t vg_slot_signatures(const struct vg_slot *s);
/* The version of the bundle the slot loaded; 0: none. */
uint64_t vg_slot_bundle_version(const struct vg_slot *s);

#endif
