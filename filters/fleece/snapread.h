/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the snapshot export's data operations.
 *
 * Each takes the barrier's read side itself and checks that the
 * connection's generation is still the active one (EIO otherwise).
 * next is the snapshot connection's own plugin context, disk the
 * index of its disk (disks.h).
 */
#ifndef FLEECE_SNAPREAD_H
#define FLEECE_SNAPREAD_H

#include <stddef.h>
#include <stdint.h>

#include <nbdkit-filter.h>

/* Read the snapshot: clean blocks from the plugin under a read hold,
 * preserved blocks from the store, zero blocks as zeroes.  EIO if the
 * snapshot is broken (even if it broke during the read) or the range
 * was released.
 */
extern int snap_pread (nbdkit_next *next, size_t disk, uint64_t gen,
                       void *buf, uint32_t count, uint64_t offset,
                       int *err);

/* Extents of the snapshot (base:allocation). */
extern int snap_extents (nbdkit_next *next, size_t disk, uint64_t gen,
                         uint32_t count, uint64_t offset, uint32_t flags,
                         struct nbdkit_extents *extents, int *err);

/* Trim on the snapshot: release the whole blocks inside the range. */
extern int snap_release (size_t disk, uint64_t gen, uint32_t count,
                         uint64_t offset, int *err);

/* Cache: prefetch the clean blocks of the range in the plugin. */
extern int snap_cache (nbdkit_next *next, size_t disk, uint64_t gen,
                       uint32_t count, uint64_t offset, int *err);

#endif /* FLEECE_SNAPREAD_H */
