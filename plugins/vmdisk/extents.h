/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's extents (allocation map of a file).
 *
 * Holes are found with lseek SEEK_DATA / SEEK_HOLE and reported as
 * holes that read as zeroes; everything else is data.  Block devices
 * do not use this (the plugin says it cannot do extents, and nbdkit
 * reports them as all data).  No lock: the map is a snapshot that
 * may already be stale when the client reads it, as with any disk.
 */
#ifndef VMDISK_EXTENTS_H
#define VMDISK_EXTENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "disk.h"

struct nbdkit_extents;

/* Add the extents of [offset, offset + count) (only the first one if
 * req_one).  0, or -1 with errno after nbdkit_error.
 */
extern int disk_extents (struct disk *d, uint32_t count, uint64_t offset,
                         bool req_one, struct nbdkit_extents *extents);

#endif /* VMDISK_EXTENTS_H */
