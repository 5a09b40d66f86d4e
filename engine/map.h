/*
 * map.h - bring an object's bytes into memory: read(2) for ordinary
 * sizes, mmap(2) for very large regular files, a growing buffer for
 * pipes and sockets.
 */
#ifndef VIGIL_MAP_H
#define VIGIL_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "engine/vg.h"
#include "engine/attrs.h"

typedef struct vg_map {
	const uint8_t *data;
	size_t size;
	void *mapped;    /* mmap base to unmap, or NULL */
	uint8_t *owned;  /* malloc'd buffer to free, or NULL */
	size_t ownedcap;
	int shared;      /* read into the scanner's buffer */
} vg_map;

/*
 * Maps fd (a regular file of st_size bytes when is_reg, else a stream
 * read to its end). Refuses more than max bytes with VIGIL_ETOOLARGE.
 * With shared, reads into (and grows) the scanner's reusable buffer:
 * only for the top-level object, since one scanner has one such buffer.
 * Layers below the top pass shared = 0 and get a private buffer.
 */
VG_MUST_CHECK
vigil_error vg_map_fd(vigil_scanner *s, int fd, int is_reg, uint64_t st_size,
                      uint64_t max, int shared, vg_map *m);
void vg_unmap(vigil_scanner *s, vg_map *m);

#endif
