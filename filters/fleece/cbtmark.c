/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: marking writes in a changed-block map, durably, with
 * one fdatasync for many writers (see cbt.h, cbtdisk.h).
 *
 * A writer whose granules all carry the current code already returns
 * after reading them (no lock, no I/O): they were made durable before
 * map[] showed them.  Otherwise, under the disk's lock, it queues its
 * range in the batch being collected and waits until that batch is
 * durable.  If no sync is running it becomes the syncer itself: it
 * takes the whole batch, drops the lock, writes the code over every
 * queued range and fdatasyncs once, then retakes the lock, publishes
 * the new codes in map[] (remembering, for the active snapshot's view,
 * what each granule held before) and wakes the batch's writers.
 * Writers arriving meanwhile collect the next batch, which the next
 * syncer takes as a whole: under load one sync covers many writes.
 *
 * A failed map write or sync fails every write of its batch and all
 * later ones of the disk (EIO): a write that cannot be tracked is not
 * let through.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nbdkit-filter.h>

#include "cbt.h"
#include "cbtdisk.h"
#include "cleanup.h"
#include "fleece.h"

/* Are granules [first, end) all marked with code?  No lock. */
static bool
all_marked (const struct cdisk *d, uint64_t first, uint64_t end,
            uint8_t code)
{
  uint64_t g;

  for (g = first; g < end; g++)
    if (__atomic_load_n (&d->map[g], __ATOMIC_ACQUIRE) != code)
      return false;
  return true;
}

/* Write code over the granules of ranges r[0..n), then fdatasync.
 * No lock held (the ranges are the syncer's own copy).  0 or -1.
 */
static int
write_ranges (int fd, const struct cbt_range *r, size_t n, uint8_t code)
{
  uint8_t buf[4096];
  uint64_t g, len;
  size_t i;

  memset (buf, code, sizeof buf);
  for (i = 0; i < n; i++)
    for (g = r[i].first; g < r[i].end; g += len) {
      len = r[i].end - g < sizeof buf ? r[i].end - g : sizeof buf;
      if (pwrite (fd, buf, len, CBTMAP_DATA + g) != (ssize_t) len) {
        if (errno == 0)
          errno = EIO;
        return -1;
      }
    }
  return fdatasync (fd);
}

/* The syncer's batch is durable: publish it in map[].  Lock held. */
static void
publish (struct cdisk *d, const struct cbt_range *r, size_t n,
         uint8_t code)
{
  uint64_t g;
  size_t i;

  for (i = 0; i < n; i++)
    for (g = r[i].first; g < r[i].end; g++) {
      if (d->map[g] == code)
        continue;
      if (!d->saved[g]) {
        d->prev[g] = d->map[g];
        d->saved[g] = 1;
      }
      __atomic_store_n (&d->map[g], code, __ATOMIC_RELEASE);
    }
}

/* Become the syncer of the batch collected so far.  Lock held on entry
 * and exit, dropped during the I/O.
 */
static void
sync_batch (struct cdisk *d, uint8_t code)
{
  struct cbt_range r[CBT_PENDING_MAX];
  size_t n = d->npend;
  uint64_t batch = d->batch;
  int e = 0;

  memcpy (r, d->pend, n * sizeof r[0]);
  d->npend = 0;
  d->batch++;
  d->syncing = true;
  pthread_mutex_unlock (&d->lock);
  if (fleece_debug_verbose)
    nbdkit_debug ("fleece: cbt: one sync for %zu range%s", n,
                  n == 1 ? "" : "s");
  if (fleece_debug_cbt_sync_delay_ms > 0)
    nbdkit_nanosleep (fleece_debug_cbt_sync_delay_ms / 1000,
                      (fleece_debug_cbt_sync_delay_ms % 1000) * 1000000);
  if (write_ranges (d->fd, r, n, code) == -1)
    e = errno;
  pthread_mutex_lock (&d->lock);
  if (e == 0)
    publish (d, r, n, code);
  else {
    errno = e;
    nbdkit_error ("fleece: cbt: writing the map %s: %m: writes to this "
                  "disk fail from now on (they could not be tracked)",
                  d->path);
    d->failed = true;
  }
  d->done = batch;
  d->syncing = false;
  pthread_cond_broadcast (&d->synced);
}

int
cbt_mark_range (struct cdisk *d, uint64_t first, uint64_t end)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&d->lock);
  uint8_t code = cbtmap_code (cbt_gen);
  uint64_t mine;

  while (!d->failed && !all_marked (d, first, end, code)) {
    if (d->npend == CBT_PENDING_MAX) {
      if (!d->syncing)
        sync_batch (d, code);
      else
        pthread_cond_wait (&d->synced, &d->lock);
      continue;                 /* then look again */
    }
    d->pend[d->npend].first = first;
    d->pend[d->npend++].end = end;
    mine = d->batch;
    while (d->done < mine && !d->failed &&
           !all_marked (d, first, end, code)) {  /* an earlier batch's */
      if (!d->syncing)
        sync_batch (d, code);
      else
        pthread_cond_wait (&d->synced, &d->lock);
    }
  }
  if (d->failed) {
    errno = EIO;
    return -1;
  }
  return 0;
}

int
cbt_mark (nbdkit_next *next, size_t disk, uint64_t offset, uint64_t count,
          int *err)
{
  struct cdisk *d = &cbt_disks[disk];
  unsigned shift = fleece_cfg.cbt_shift;
  uint64_t first, end;
  int64_t size;

  if (!cbt_enabled () || count == 0)
    return 0;
  if (!__atomic_load_n (&d->attached, __ATOMIC_ACQUIRE)) {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&d->lock);
    if (!d->attached &&
        ((size = next->get_size (next)) == -1 ||
         cbt_attach (disk, size) == -1)) {
      *err = EIO;
      return -1;
    }
  }
  first = offset >> shift;
  end = ((offset + count - 1) >> shift) + 1;
  if (end > d->ngran) {         /* the disk grew since the map was sized */
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&d->lock);
    snprintf (d->distrust, sizeof d->distrust, "the disk grew while "
              "served (the map covers %" PRIu64 " bytes)", d->h.disk_size);
    end = d->ngran;
  }
  if (first >= end || all_marked (d, first, end, cbtmap_code (cbt_gen)))
    return 0;
  if (cbt_mark_range (d, first, end) == -1) {
    *err = errno;
    return -1;
  }
  return 0;
}
