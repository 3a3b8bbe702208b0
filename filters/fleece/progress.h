/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: how many bytes a backup of the snapshot must read
 * (status: data-bytes and progress; see progress.c for why it is
 * measured this way).
 *
 * Locking rule: both functions take the module's own mutex briefly and
 * never hold it on return; progress_measure does I/O without it.
 */
#ifndef FLEECE_PROGRESS_H
#define FLEECE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nbdkit-filter.h>

/* Per disk (the index in disks.h).  When a snapshot connection to
 * disk joins generation gen (in .prepare, or at
 * its first data request when that created the snapshot), after the
 * snapshot was created (never under the freeze or the barrier).  If
 * no one has measured gen, or is measuring it, measure
 * it now with next (the connection's own plugin context): the bytes
 * of the snapshot that its extents do not report as zero.  A failure
 * is logged and leaves gen unmeasured, for a later connection.
 */
extern void progress_measure (nbdkit_next *next, size_t disk,
                              uint64_t gen);

/* Disk's data bytes in gen, if measured: true and *bytes set. */
extern bool progress_data_bytes (size_t disk, uint64_t gen,
                                 uint64_t *bytes);

#endif /* FLEECE_PROGRESS_H */
