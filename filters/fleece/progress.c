/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: how many bytes a backup of the snapshot must read
 * (see progress.h).
 *
 * status reports progress = bytes-read / data-bytes, where data-bytes
 * is what the snapshot's own extents (base:allocation, as a backup
 * client sees them) do not report as zero: a clean block counts as the
 * plugin reports it, a preserved block as data, a zero block not at
 * all.  A sparse-aware copy (nbdcopy, qemu-img convert) reads exactly
 * those bytes, so a complete copy ends at 1.  Over disk-size instead,
 * a complete copy of a sparse disk ended at a few percent.
 *
 * Measured once per generation, by the first snapshot connection to
 * join it (in .prepare, or at the first data request that created
 * it), with that connection's own plugin context and the code
 * that answers a client's extents (snap_extents), in chunks of
 * CHUNK bytes: it runs after the snapshot was created and the guest
 * thawed, and live writes wait on a read hold for at most one chunk's
 * extents call.  Rejected: counting the bytes that clients were told
 * are zero (clients ask for the same extents again and again, so that
 * would need a per-block record, and a client that never asks would
 * never finish); measuring inside the creation (the lifecycle lock
 * would hold every joiner for the walk).
 *
 * Limits, by design: a block preserved after the measurement reads as
 * a whole block of data, so a copy may read up to one block more than
 * measured for each (progress is capped at 1); a snapshot pinned by
 * snapshot-begin has no measurement until its first NBD connection
 * (data-bytes is null, and progress is counted over disk-size).
 *
 * State: one generation's figure per disk (each disk's snapshot
 * export is measured by its own first connection); `lock` protects
 * it.  The walk runs
 * without the lock: state MEASURING claims the generation.
 */
#include <config.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <nbdkit-filter.h>

#include "cleanup.h"
#include "minmax.h"
#include "progress.h"
#include "quiesce-provider.h"
#include "snapread.h"
#include "snapshot.h"

#define CHUNK (256 * 1024 * 1024)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct measure {
  uint64_t gen_seen;            /* the figures below are gen_seen's */
  enum { UNKNOWN, MEASURING, KNOWN } state;
  uint64_t data_bytes;
} m[FLEECE_MAX_DISKS];

/* The disk's size in gen if gen is still the active generation, else
 * -1.
 */
static int64_t
snapshot_size (size_t disk, uint64_t gen)
{
  SNAPSHOT_SCOPE (s);

  return s && s->generation == gen ? (int64_t) s->disk[disk].size : -1;
}

/* The data bytes of [offset, offset + count).  0 or -1 (logged). */
static int
measure_chunk (nbdkit_next *next, size_t disk, uint64_t gen, uint64_t offset,
               uint32_t count, uint64_t *bytes)
{
  struct nbdkit_extents *ex = nbdkit_extents_new (offset, offset + count);
  uint64_t end = offset + count, a, b;
  size_t i;
  int err = 0;

  if (ex == NULL)
    return -1;
  if (snap_extents (next, disk, gen, count, offset, 0, ex, &err) == -1) {
    nbdkit_extents_free (ex);
    return -1;
  }
  for (i = 0; i < nbdkit_extents_count (ex); i++) {
    struct nbdkit_extent e = nbdkit_get_extent (ex, i);
    a = MAX (e.offset, offset);
    b = MIN (e.offset + e.length, end);
    if (!(e.type & NBDKIT_EXTENT_ZERO) && b > a)
      *bytes += b - a;
  }
  nbdkit_extents_free (ex);
  return 0;
}

/* Claim gen for measuring.  false if it is measured or being so. */
static bool
claim (size_t disk, uint64_t gen)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);

  if (m[disk].gen_seen == gen && m[disk].state != UNKNOWN)
    return false;
  m[disk].gen_seen = gen;
  m[disk].state = MEASURING;
  return true;
}

static void
publish (size_t disk, uint64_t gen, bool ok, uint64_t bytes)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);

  if (m[disk].gen_seen != gen)
    return;
  m[disk].state = ok ? KNOWN : UNKNOWN;
  m[disk].data_bytes = bytes;
}

void
progress_measure (nbdkit_next *next, size_t disk, uint64_t gen)
{
  int64_t size = snapshot_size (disk, gen);
  uint64_t off, bytes = 0;
  int r = 0;

  if (size == -1 || !claim (disk, gen))
    return;
  for (off = 0; off < (uint64_t) size && r == 0; off += CHUNK)
    r = measure_chunk (next, disk, gen, off,
                       MIN ((uint64_t) CHUNK, size - off), &bytes);
  publish (disk, gen, r == 0, bytes);
  if (r == 0)
    nbdkit_debug ("fleece: snapshot generation %" PRIu64 ": %" PRIu64
                  " bytes of data to back up (of %" PRId64 ")",
                  gen, bytes, size);
  else
    nbdkit_debug ("fleece: snapshot generation %" PRIu64 ": measuring "
                  "its data bytes failed (see the log): progress counts "
                  "over the disk size", gen);
}

bool
progress_data_bytes (size_t disk, uint64_t gen, uint64_t *bytes)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);

  if (m[disk].gen_seen != gen || m[disk].state != KNOWN)
    return false;
  *bytes = m[disk].data_bytes;
  return true;
}
