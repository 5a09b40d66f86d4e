/*
 * items.h - an item as the API hands it out, and loading one.
 */
#ifndef VIGIL_QUARANTINE_ITEMS_H
#define VIGIL_QUARANTINE_ITEMS_H

#include "quarantine/qv.h"
#include "quarantine/record.h"

struct vigil_quarantine_item {
	char id[VIGIL_QUARANTINE_ID_SIZE];
	vigil_error error;     /* VIGIL_OK, or why it is damaged */
	vg_qrecord rec;        /* valid when error is VIGIL_OK */
	char *json;            /* the record's text, likewise */
};

/* Reads, authenticates and parses item id into *it. On error, it->error
 * says why and the handle's message names the item. */
vigil_error vg_qitem_load(vigil_quarantine *q, const char *id,
                          vigil_quarantine_item *it);
void vg_qitem_clear(vigil_quarantine_item *it);

/* The full ID for an ID or a unique prefix of 4 or more digits; opens
 * the vault. */
vigil_error vg_qitem_find(vigil_quarantine *q, const char *id,
                          char out[VIGIL_QUARANTINE_ID_SIZE]);

#endif /* VIGIL_QUARANTINE_ITEMS_H */
