/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: copy-before-write, the live export's side.
 *
 * Call with the barrier's read side held (SNAPSHOT_SCOPE) and s the
 * active snapshot's part for the request's disk, before passing a live
 * write, zero or trim of [offset, offset+count) to the plugin.
 */
#ifndef FLEECE_CBW_H
#define FLEECE_CBW_H

#include <stdbool.h>
#include <stdint.h>

#include <nbdkit-filter.h>

#include "snapshot.h"

/* Preserve every clean block of disk s's range (old data from next, via
 * the store), then wait for older snapshot reads of the range.  On
 * return 0 the request may go down.  With fast_zero, a range that
 * needs a copy fails at once with *err = ENOTSUP and nothing changes.
 * On a copy failure: with on-cbw-error=break-snapshot the snapshot is
 * broken and 0 is returned (the guest write goes on); with fail-write
 * -1 is returned with *err set and the blocks stay clean.
 */
extern int cbw_preserve (nbdkit_next *next, struct snap_disk *s,
                         uint64_t offset, uint32_t count, bool fast_zero,
                         int *err);

/* The extents hints of a new snapshot of size bytes (struct snap's
 * windows): one byte per 4 MiB window of the disk, all unknown; freed
 * with free.  NULL with errno ENOMEM.
 */
extern uint8_t *cbw_windows_new (uint64_t size);

#endif /* FLEECE_CBW_H */
