/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's zero and trim.
 *
 * zero: on a file, punch a hole when the client allows deallocation
 * (may_trim), else FALLOC_FL_ZERO_RANGE; on a block device, punch
 * (a zero-out that never falls back to writing) when may_trim, else
 * BLKZEROOUT.  When no method is fast (fast) or none exists, fail
 * with ENOTSUP and no message: nbdkit then writes zeroes itself, or
 * for a fast zero tells the client it would not be fast.
 *
 * trim: punch a hole in a file, BLKDISCARD the aligned part of the
 * range on a block device.  Trim is advisory: where unsupported it
 * succeeds and does nothing.
 *
 * Both hold d->rmw_lock shared with cache=none (see disk.h) and
 * fdatasync afterwards when fua.
 */
#ifndef VMDISK_ZERO_H
#define VMDISK_ZERO_H

#include <stdbool.h>
#include <stdint.h>

#include "disk.h"

/* Make [offset, offset + count) read as zeroes.  0, or -1 with errno
 * (ENOTSUP: fall back to writing zeroes; else after nbdkit_error).
 */
extern int disk_zero (struct disk *d, uint32_t count, uint64_t offset,
                      bool may_trim, bool fast, bool fua);

/* Deallocate [offset, offset + count) if the storage can.  0, or -1
 * with errno after nbdkit_error.
 */
extern int disk_trim (struct disk *d, uint32_t count, uint64_t offset,
                      bool fua);

#endif /* VMDISK_ZERO_H */
