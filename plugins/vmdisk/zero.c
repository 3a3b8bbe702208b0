/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's zero and trim (see zero.h for the policy).
 *
 * Methods that the storage does not support (EOPNOTSUPP) are
 * remembered in d->no_punch_hole and d->no_zero_range, atomic flags
 * that only ever go from false to true, so each is tried once, not on
 * every request.  The internal helpers return 1 (done), 0 (no method
 * applies: the caller reports ENOTSUP silently) or -1 (a real error,
 * errno set; disk_zero and disk_trim print the one message).
 *
 * Block devices take only ranges aligned to the logical sector: an
 * unaligned zero is left to nbdkit's write fallback, and an unaligned
 * trim discards only the whole sectors inside it.
 */
#include <config.h>

#define _GNU_SOURCE 1          /* O_DIRECT, fallocate, statx */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "cleanup.h"
#include "rounding.h"
#include "zero.h"

#define PUNCH (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)

/* Scoped shared hold of d->rmw_lock, only with cache=none. */
static void
maybe_rwunlock (pthread_rwlock_t **l)
{
  if (*l)
    cleanup_rwunlock (l);
}
#define HOLD_SHARED_IF_DIRECT(d)                                        \
  __attribute__ ((cleanup (maybe_rwunlock), unused))                    \
  pthread_rwlock_t *CLEANUP_UNIQUE (_maybe) =                           \
    (d)->direct ? cleanup_rdlock (&(d)->rmw_lock) : NULL

/* fallocate (mode) unless *unsupported says it is known not to work. */
static int
try_fallocate (struct disk *d, bool *unsupported, int mode,
               const char *what, uint64_t offset, uint32_t count)
{
  if (__atomic_load_n (unsupported, __ATOMIC_RELAXED))
    return 0;
  if (fallocate (d->fd, mode, offset, count) == 0)
    return 1;
  if (errno != EOPNOTSUPP && errno != ENOSYS)
    return -1;
  __atomic_store_n (unsupported, true, __ATOMIC_RELAXED);
  if (vmdisk_debug_verbose)
    nbdkit_debug ("vmdisk: %s: %s is not supported here, not trying "
                  "it again", d->path, what);
  return 0;
}

static int
file_zero (struct disk *d, uint32_t count, uint64_t offset, bool may_trim)
{
  int r = 0;

  if (may_trim)
    r = try_fallocate (d, &d->no_punch_hole, PUNCH, "punch hole",
                       offset, count);
  if (r == 0)
    r = try_fallocate (d, &d->no_zero_range, FALLOC_FL_ZERO_RANGE,
                       "zero range", offset, count);
  return r;
}

static int
bdev_zero (struct disk *d, uint32_t count, uint64_t offset, bool may_trim,
           bool fast)
{
  uint64_t range[2] = { offset, count };
  int r = 0;

  if (!IS_ALIGNED (offset, (uint64_t) d->lbs) || !IS_ALIGNED (count, d->lbs))
    return 0;
  /* On a block device, punching is a zero-out that never falls back
   * to writing zeroes, so it is the only method that is always fast.
   */
  if (may_trim)
    r = try_fallocate (d, &d->no_punch_hole, PUNCH, "punch (zero-out "
                       "without fallback)", offset, count);
  if (r != 0 || fast)
    return r;
  if (ioctl (d->fd, BLKZEROOUT, range) == 0)
    return 1;
  return errno == EOPNOTSUPP ? 0 : -1;
}

int
disk_zero (struct disk *d, uint32_t count, uint64_t offset, bool may_trim,
           bool fast, bool fua)
{
  int r;

  {
    HOLD_SHARED_IF_DIRECT (d);
    r = d->is_bdev ? bdev_zero (d, count, offset, may_trim, fast)
                   : file_zero (d, count, offset, may_trim);
  }
  if (r == 0) {
    if (vmdisk_debug_verbose)
      nbdkit_debug ("vmdisk: zero of %" PRIu32 " bytes at %" PRIu64
                    ": no %smethod, ENOTSUP", count, offset,
                    fast ? "fast " : "");
    errno = ENOTSUP;
    return -1;
  }
  if (r == -1) {
    disk_error ("zero: %s: %" PRIu32 " bytes at %" PRIu64 ": %m",
                d->path, count, offset);
    return -1;
  }
  return fua ? disk_flush (d) : 0;
}

static int
bdev_trim (struct disk *d, uint32_t count, uint64_t offset)
{
  uint64_t start = ROUND_UP (offset, (uint64_t) d->lbs);
  uint64_t end = ROUND_DOWN (offset + count, (uint64_t) d->lbs);
  uint64_t range[2] = { start, end - start };

  if (end <= start)
    return 1;
  if (ioctl (d->fd, BLKDISCARD, range) == 0)
    return 1;
  return errno == EOPNOTSUPP ? 0 : -1;
}

int
disk_trim (struct disk *d, uint32_t count, uint64_t offset, bool fua)
{
  int r;

  {
    HOLD_SHARED_IF_DIRECT (d);
    r = d->is_bdev ? bdev_trim (d, count, offset)
                   : try_fallocate (d, &d->no_punch_hole, PUNCH,
                                    "punch hole", offset, count);
  }
  if (r == -1) {
    disk_error ("trim: %s: %" PRIu32 " bytes at %" PRIu64 ": %m",
                d->path, count, offset);
    return -1;
  }
  return fua ? disk_flush (d) : 0;
}
