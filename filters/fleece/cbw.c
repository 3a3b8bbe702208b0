/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: copy-before-write (see cbw.h).
 *
 * A live request over blocks [first, last]:
 *   1. blocks_claim: wait out copies of those blocks by other writers,
 *      then own every clean one (COPYING), all in one critical section.
 *   2. For each run of owned blocks (adjacent blocks are copied in one
 *      request, at most COPY_MAX bytes): ask the plugin's extents
 *      (unless the hints say the run is all data); zero/hole blocks
 *      are settled ZERO without reading; the rest is read from the
 *      plugin, written to the store, settled PRESERVED.
 *   3. blocks_wait_readers: older snapshot reads of the range finish.
 *   4. The caller passes the request down.
 * The request holds the barrier's read side throughout, so the
 * snapshot cannot be switched or ended under it.
 *
 * Failures in 2 (plugin read error, store full or I/O error, a copy
 * slower than cbw-timeout) go through one path, fail(): the owned
 * blocks are given back, and either the snapshot is broken (logged
 * once, with the cause) or the request fails.  Not handled: a copy
 * cannot be interrupted, so cbw-timeout is checked when the copy
 * returns; the guest write waited for it either way.
 *
 * Extents hints (s->windows, one byte per 4 MiB window of the disk,
 * atomic): the first copy in a window asks the plugin about the whole
 * window; if it is all data the window is marked DATA and later copies
 * in it ask nothing (before: two lseeks per first write, 10% of the
 * server's CPU in the copy-heavy phase); otherwise MIXED, and each
 * copy asks about its own run, as all did before.  Safe whatever the
 * plugin does later: a DATA hint only makes a copy read and store
 * what a fresh query might have let it settle ZERO (a clean block
 * keeps its old content, so reading it is always right); no hint ever
 * says zero.  A stale DATA costs store space, never correctness.
 * Races are harmless: two copies may both ask and store an answer.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-filter.h>

#include "cbw.h"
#include "cleanup.h"
#include "fleece.h"
#include "minmax.h"
#include "monotime.h"
#include "stats.h"
#include "store.h"

#define COPY_MAX (4 * 1024 * 1024)
#define WINDOW_SHIFT 22         /* 4 MiB */

enum window { WINDOW_UNKNOWN = 0, WINDOW_DATA, WINDOW_MIXED };

uint8_t *
cbw_windows_new (uint64_t size)
{
  return calloc ((size >> WINDOW_SHIFT) + 1, 1);
}

/* Give back [first, last] (still ours) and apply the failure policy. */
static int
fail (struct snap *s, uint64_t first, uint64_t last, int e,
      const char *cause, int *err)
{
  if (!fleece_cfg.fail_write) {
    if (blocks_unclaim (s->blocks, first, last, cause))
      nbdkit_error ("fleece: snapshot generation %" PRIu64 " is broken "
                    "and will fail every read: %s", s->generation, cause);
    return 0;
  }
  blocks_unclaim (s->blocks, first, last, NULL);
  nbdkit_error ("fleece: live write refused to keep snapshot generation "
                "%" PRIu64 " exact (on-cbw-error=fail-write): %s",
                s->generation, cause);
  *err = e;
  return -1;
}

/* The plugin's extents of [off, off+len), or NULL if it has none or
 * cannot say (then everything is copied: never wrong, only slower).
 */
static struct nbdkit_extents *
get_extents (nbdkit_next *next, uint64_t off, uint64_t len)
{
  struct nbdkit_extents *ex;
  int err = 0;

  if (next->can_extents (next) != 1)
    return NULL;
  ex = nbdkit_extents_new (off, off + len);
  if (ex && next->extents (next, len, off, 0, ex, &err) == -1) {
    nbdkit_extents_free (ex);
    ex = NULL;
  }
  return ex;
}

/* Is [off, off+len) covered by extents of ex that are all zero (zero
 * true) or all not zero (false)?  *i walks ex forward, so a run's
 * blocks are scanned once; a gap or a shorter list answers false.
 */
static bool
all_of (struct nbdkit_extents *ex, size_t *i, uint64_t off, uint64_t len,
        bool zero)
{
  size_t n = ex ? nbdkit_extents_count (ex) : 0;
  struct nbdkit_extent e;

  for (; *i < n; ++*i) {
    e = nbdkit_get_extent (ex, *i);
    if (e.offset + e.length <= off)
      continue;
    if (((e.type & NBDKIT_EXTENT_ZERO) != 0) != zero || e.offset > off)
      return false;
    if (e.offset + e.length >= off + len)
      return true;
    len -= e.offset + e.length - off;
    off = e.offset + e.length;
  }
  return false;
}

/* The extents for a run [off, end) of snapshot s, or NULL when the
 * hints say it is all data (or the plugin cannot say: then everything
 * is copied).  An unknown window is asked about whole, and its answer
 * kept; see "Extents hints" above.
 */
static struct nbdkit_extents *
run_extents (nbdkit_next *next, struct snap *s, uint64_t off, uint64_t end)
{
  const uint64_t w0 = off >> WINDOW_SHIFT, w1 = (end - 1) >> WINDOW_SHIFT;
  struct nbdkit_extents *ex;
  bool unknown = false;
  uint64_t w, wend;
  uint8_t h;

  for (w = w0; w <= w1; w++) {
    h = __atomic_load_n (&s->windows[w], __ATOMIC_RELAXED);
    if (h == WINDOW_MIXED)
      return get_extents (next, off, end - off);
    unknown |= h == WINDOW_UNKNOWN;
  }
  if (!unknown)
    return NULL;                /* every window of the run is data */
  /* Not past this connection's size (copy_run checked only [off,
   * end)): a window it does not cover is then not all data, MIXED.
   */
  wend = MIN ((w1 + 1) << WINDOW_SHIFT, s->size);
  wend = MIN (wend, (uint64_t) next->get_size (next));
  ex = get_extents (next, w0 << WINDOW_SHIFT, wend - (w0 << WINDOW_SHIFT));
  if (ex == NULL)
    return NULL;
  for (w = w0; w <= w1; w++) {
    uint64_t woff = w << WINDOW_SHIFT;
    size_t i = 0;
    h = all_of (ex, &i, woff,
                MIN (woff + (1 << WINDOW_SHIFT), s->size) - woff, false)
      ? WINDOW_DATA : WINDOW_MIXED;
    __atomic_store_n (&s->windows[w], h, __ATOMIC_RELAXED);
  }
  return ex;
}

/* Read the owned data blocks [first, last] from the plugin and store
 * them.  0 or -1 after fail().
 */
static int
copy_data (nbdkit_next *next, struct snap *s, uint64_t first, uint64_t last,
           int *err)
{
  const unsigned shift = fleece_cfg.block_shift;
  uint64_t off = first << shift;
  uint64_t len = MIN ((last + 1) << shift, s->size) - off;
  uint64_t account = (last - first + 1) << shift, t0 = monotime_ns ();
  CLEANUP_FREE char *buf = malloc (len);
  char why[512];

  if (buf == NULL)
    return fail (s, first, last, ENOMEM, "out of memory for a copy", err);
  if (next->pread (next, buf, len, off, 0, err) == -1) {
    snprintf (why, sizeof why, "reading old data from the plugin at "
              "offset %" PRIu64 " failed: %s", off, strerror (*err));
    return fail (s, first, last, *err ? *err : EIO, why, err);
  }
  if (fleece_debug_cbw_delay_ms > 0)
    nbdkit_nanosleep (fleece_debug_cbw_delay_ms / 1000,
                      (fleece_debug_cbw_delay_ms % 1000) * 1000000);
  if (store_write (buf, len, off, account, why, sizeof why) == -1)
    return fail (s, first, last, errno, why, err);
  if (fleece_cfg.cbw_timeout_ns &&
      monotime_ns () - t0 > fleece_cfg.cbw_timeout_ns) {
    snprintf (why, sizeof why, "copying %" PRIu64 " bytes at offset %"
              PRIu64 " took %.0f ms, more than cbw-timeout=%.0f ms (the "
              "plugin is too slow: raise cbw-timeout)", len, off,
              (monotime_ns () - t0) / 1e6, fleece_cfg.cbw_timeout_ns / 1e6);
    store_discard (off, len, account);
    return fail (s, first, last, EIO, why, err);
  }
  blocks_settle (s->blocks, first, last, BLOCK_PRESERVED);
  latency_add (&fleece_stats.copy, monotime_ns () - t0);
  STATS_ADD (bytes_copied, len);
  return 0;
}

/* Copy the owned blocks [first, last] (one run): blocks the plugin
 * reports zero are settled ZERO, maximal runs of the others are
 * copied in one request each.  0 or -1 after fail().
 */
static int
copy_run (nbdkit_next *next, struct snap *s, uint64_t first, uint64_t last,
          int *err)
{
  const unsigned shift = fleece_cfg.block_shift;
  uint64_t off = first << shift, end = MIN ((last + 1) << shift, s->size);
  struct nbdkit_extents *ex;
  uint64_t b = first, data_first = 0;
  bool in_data = false;
  size_t ei = 0;
  int r = 0;
  char why[256];

  /* This connection's view of the plugin may be smaller than the
   * snapshot (nbdkit's file plugin reads the size per connection).
   */
  if (next->get_size (next) < (int64_t) end) {
    snprintf (why, sizeof why, "the disk is smaller than when snapshot "
              "generation %" PRIu64 " was taken: its old data at offset "
              "%" PRIu64 " cannot be preserved", s->generation, off);
    return fail (s, first, last, EIO, why, err);
  }
  ex = run_extents (next, s, off, end);

  for (b = first; b <= last && r == 0; b++) {
    uint64_t boff = b << shift, blen = MIN (boff + (1 << shift), s->size) - boff;
    if (!all_of (ex, &ei, boff, blen, true)) {
      if (!in_data)
        data_first = b;
      in_data = true;
      continue;
    }
    if (in_data &&
        (r = copy_data (next, s, data_first, b - 1, err)) == 0 &&
        blocks_broken (s->blocks, NULL, 0))
      break;                    /* no point copying into a broken one */
    in_data = false;
    blocks_settle (s->blocks, b, b, BLOCK_ZERO);
  }
  if (in_data && r == 0 && b > last)
    r = copy_data (next, s, data_first, last, err);
  if (ex)
    nbdkit_extents_free (ex);
  return r;
}

/* Copy every block we own in [first, last], run by run. */
static int
copy_owned (nbdkit_next *next, struct snap *s, uint64_t first,
            uint64_t last, int *err)
{
  const uint64_t max_blocks = MAX (COPY_MAX >> fleece_cfg.block_shift, 1);
  uint64_t i = first, run_last;

  while (i <= last) {
    if (blocks_run (s->blocks, i, last, &run_last) != BLOCK_CLEAN) {
      i = run_last + 1;
      continue;
    }
    /* A CLEAN-class run in our range is ours: claim left none CLEAN
     * and nobody else's COPYING.
     */
    run_last = MIN (run_last, i + max_blocks - 1);
    if (copy_run (next, s, i, run_last, err) == -1 ||
        blocks_broken (s->blocks, NULL, 0)) {
      /* Give back what we still own past the failure. */
      blocks_unclaim (s->blocks, i, last, NULL);
      return blocks_broken (s->blocks, NULL, 0) ? 0 : -1;
    }
    i = run_last + 1;
  }
  return 0;
}

int
cbw_preserve (nbdkit_next *next, struct snap *s, uint64_t offset,
              uint32_t count, bool fast_zero, int *err)
{
  const unsigned shift = fleece_cfg.block_shift;
  uint64_t first, last, t0 = monotime_ns ();
  int64_t claimed;
  int r = 0;

  STATS_ADD (live_writes, 1);
  if (count == 0 || offset >= s->size)
    return 0;
  first = offset >> shift;
  last = (MIN (offset + count, s->size) - 1) >> shift;
  claimed = blocks_claim (s->blocks, first, last);
  if (claimed == -1)            /* broken: nothing to preserve any more */
    return 0;
  if (claimed > 0 && fast_zero) {
    blocks_unclaim (s->blocks, first, last, NULL);
    *err = ENOTSUP;
    return -1;
  }
  if (claimed > 0)
    r = copy_owned (next, s, first, last, err);
  if (r == 0)
    blocks_wait_readers (s->blocks, first, last);
  latency_add (&fleece_stats.live_added, monotime_ns () - t0);
  return r;
}
