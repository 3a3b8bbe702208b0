/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's direct I/O: alignment and bounce buffers.
 *
 * A request [offset, offset + count) is widened to the aligned span
 * [ROUND_DOWN (offset), ROUND_UP (offset + count)) and moved through
 * an aligned bounce buffer at most BOUNCE_MAX bytes at a time (one
 * loop, used by reads and writes alike).  A fully aligned request
 * whose buffer is also aligned skips the bounce buffer.
 *
 * For a write, a block only partly covered by the request (the first
 * block of the span if offset is unaligned, the last if the end is)
 * is read from the disk before the new bytes are merged in: a
 * read-modify-write, done under d->rmw_lock held exclusively (see
 * direct.h).  Aligned writes hold it shared.
 *
 * The span never passes the end of the disk because disk_open
 * refuses a size that is not a multiple of the alignment.
 */
#include <config.h>

#define _GNU_SOURCE 1          /* O_DIRECT, fallocate, statx */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "cleanup.h"
#include "ispowerof2.h"
#include "minmax.h"
#include "rounding.h"
#include "direct.h"

/* Largest span staged in the bounce buffer at once. */
#define BOUNCE_MAX (1024 * 1024)

/* The largest alignment nbdkit can advertise as a minimum block size. */
#define ALIGN_MAX 65536

void
direct_probe_alignment (struct disk *d)
{
  uint32_t align = d->is_bdev ? d->lbs : 4096;
  uint32_t mem_align = 4096;

#ifdef STATX_DIOALIGN
  struct statx stx;

  if (statx (d->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
      (stx.stx_mask & STATX_DIOALIGN) &&
      is_power_of_2 (stx.stx_dio_offset_align) &&
      stx.stx_dio_offset_align <= ALIGN_MAX &&
      is_power_of_2 (stx.stx_dio_mem_align)) {
    align = stx.stx_dio_offset_align;
    mem_align = stx.stx_dio_mem_align;
  }
#endif
  d->align = align;
  /* posix_memalign needs at least a multiple of sizeof (void *). */
  d->mem_align = MAX (mem_align, (uint32_t) sizeof (void *));
}

/* One chunk of the aligned span: [pos, pos + len). */
typedef int (*chunk_fn) (struct disk *d, char *bounce, uint64_t pos,
                         size_t len, char *buf, uint64_t offset,
                         uint32_t count);

/* Run fn over the aligned span of [offset, offset + count) in chunks of
 * at most BOUNCE_MAX bytes, with one aligned bounce buffer.
 */
static int
for_each_chunk (struct disk *d, char *buf, uint32_t count, uint64_t offset,
                chunk_fn fn)
{
  uint64_t start = ROUND_DOWN (offset, (uint64_t) d->align);
  uint64_t end = ROUND_UP (offset + count, (uint64_t) d->align);
  size_t bounce_len = MIN (end - start, (uint64_t) BOUNCE_MAX);
  CLEANUP_FREE void *bounce = NULL;
  uint64_t pos;
  int r;

  r = posix_memalign (&bounce, d->mem_align, bounce_len);
  if (r != 0) {
    bounce = NULL;
    errno = r;
    return -1;
  }
  for (pos = start; pos < end; pos += bounce_len) {
    bounce_len = MIN (end - pos, (uint64_t) BOUNCE_MAX);
    if (fn (d, bounce, pos, bounce_len, buf, offset, count) == -1)
      return -1;
  }
  return 0;
}

/* The part of chunk [pos, pos + len) that the request covers: [*lo, *hi). */
static void
overlap (uint64_t pos, size_t len, uint64_t offset, uint32_t count,
         uint64_t *lo, uint64_t *hi)
{
  *lo = MAX (pos, offset);
  *hi = MIN (pos + len, offset + count);
}

static int
read_chunk (struct disk *d, char *bounce, uint64_t pos, size_t len,
            char *buf, uint64_t offset, uint32_t count)
{
  uint64_t lo, hi;

  if (disk_full_pread (d, bounce, len, pos) == -1)
    return -1;
  overlap (pos, len, offset, count, &lo, &hi);
  memcpy (buf + (lo - offset), bounce + (lo - pos), hi - lo);
  return 0;
}

static int
write_chunk (struct disk *d, char *bounce, uint64_t pos, size_t len,
             char *buf, uint64_t offset, uint32_t count)
{
  uint64_t lo, hi;
  uint32_t a = d->align;

  overlap (pos, len, offset, count, &lo, &hi);
  /* Partly covered first or last block: read it (RMW). */
  if (lo > pos && disk_full_pread (d, bounce, a, pos) == -1)
    return -1;
  if (hi < pos + len &&
      disk_full_pread (d, bounce + len - a, a, pos + len - a) == -1)
    return -1;
  memcpy (bounce + (lo - pos), buf + (lo - offset), hi - lo);
  return disk_full_pwrite (d, bounce, len, pos);
}

static bool
is_aligned_request (const struct disk *d, const void *buf, uint32_t count,
                    uint64_t offset)
{
  return IS_ALIGNED (offset, (uint64_t) d->align) &&
    IS_ALIGNED (count, d->align) &&
    IS_ALIGNED ((uintptr_t) buf, (uintptr_t) d->mem_align);
}

int
direct_pread (struct disk *d, void *buf, uint32_t count, uint64_t offset)
{
  if (is_aligned_request (d, buf, count, offset))
    return disk_full_pread (d, buf, count, offset);
  return for_each_chunk (d, buf, count, offset, read_chunk);
}

/* An unaligned write: read-modify-write, exclusively. */
static int
rmw_pwrite (struct disk *d, const void *buf, uint32_t count,
            uint64_t offset)
{
  ACQUIRE_WRLOCK_FOR_CURRENT_SCOPE (&d->rmw_lock);

  if (vmdisk_debug_verbose)
    nbdkit_debug ("vmdisk: read-modify-write of %" PRIu32 " bytes at %"
                  PRIu64, count, offset);
  return for_each_chunk (d, (char *) buf, count, offset, write_chunk);
}

int
direct_pwrite (struct disk *d, const void *buf, uint32_t count,
               uint64_t offset)
{
  if (!IS_ALIGNED (offset, (uint64_t) d->align) ||
      !IS_ALIGNED (count, d->align))
    return rmw_pwrite (d, buf, count, offset);

  ACQUIRE_RDLOCK_FOR_CURRENT_SCOPE (&d->rmw_lock);
  if (IS_ALIGNED ((uintptr_t) buf, (uintptr_t) d->mem_align))
    return disk_full_pwrite (d, buf, count, offset);
  /* Aligned span, unaligned memory: the chunks are fully covered, so
   * write_chunk only copies, never reads.
   */
  return for_each_chunk (d, (char *) buf, count, offset, write_chunk);
}
