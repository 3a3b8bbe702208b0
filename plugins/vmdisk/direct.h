/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's direct I/O (cache=none, O_DIRECT).
 *
 * O_DIRECT needs the file offset, the length and the memory buffer of
 * each request aligned (struct disk's align and mem_align).  NBD
 * clients owe us none of that, and nbdkit's buffers are not aligned,
 * so requests are staged through an aligned bounce buffer; an
 * unaligned write becomes a read-modify-write of its first and last
 * blocks.
 *
 * Locking (d->rmw_lock, see disk.h): an unaligned write holds it
 * exclusively from the read to the write, so no other write, zero or
 * trim of the same blocks can slip in between and be lost; aligned
 * writes hold it shared; reads take nothing (a read racing a write may
 * see either version of a block, as on any disk).
 */
#ifndef VMDISK_DIRECT_H
#define VMDISK_DIRECT_H

#include <stdint.h>

#include "disk.h"

/* Set d->align and d->mem_align for the open O_DIRECT descriptor. */
extern void direct_probe_alignment (struct disk *d);

/* Read or write exactly count bytes at offset through O_DIRECT, with
 * any alignment.  offset + count must be within d->size, which is a
 * multiple of d->align.  0, or -1 with errno set and no message.
 */
extern int direct_pread (struct disk *d, void *buf, uint32_t count,
                         uint64_t offset);
extern int direct_pwrite (struct disk *d, const void *buf, uint32_t count,
                          uint64_t offset);

#endif /* VMDISK_DIRECT_H */
