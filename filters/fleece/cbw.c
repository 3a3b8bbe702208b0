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
 * slower than cbw-timeout), and a map broken meanwhile by someone
 * else, stop the copy; then give_up gives back, once, the blocks the
 * request still owns (struct copy says which), and either the
 * snapshot is broken (logged once, with the cause) or the request
 * fails (on-cbw-error=fail-write).  Not handled: a copy
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
#include "history.h"
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

/* Record a phase that began at t0 (stats.h); returns now. */
static uint64_t
phase_done (enum cbw_phase p, uint64_t t0)
{
  uint64_t now = monotime_ns ();

  latency_add (&fleece_stats.phase[p], now - t0);
  return now;
}

/* One live request's copy-before-write.  Its claim made every block
 * of [first, last] that was clean COPYING, owned by this request; no
 * other block there is COPYING (the claim waited for other writers),
 * and none can become COPYING later (only CLEAN blocks are claimed).
 * Blocks are settled in order: those before `unsettled` are settled,
 * so every COPYING block of [unsettled, last] is ours, and giving that
 * range back once is exact (issue 12: a second give-back over the
 * whole range reset another writer's claim).
 */
struct copy {
  nbdkit_next *next;            /* the live request's plugin context */
  nbdkit_next *fresh;           /* see source(); closed at the end */
  nbdkit_next *src;             /* the current run's: next or fresh */
  struct snap_disk *d;
  uint64_t unsettled, last;
  int err;                      /* the failure's errno, or 0 */
  char why[512];                /* its cause; "" if the map broke */
};

/* A copy of [from, ...] failed: record why.  Always -1. */
static int
fail (struct copy *c, uint64_t from, int e, const char *why)
{
  c->unsettled = from;
  c->err = e ? e : EIO;
  snprintf (c->why, sizeof c->why, "%s", why);
  return -1;
}

/* Give back what is still ours, once, and apply the failure policy:
 * 0 if the guest request may go on, -1 with *err if it must fail.
 */
static int
give_up (struct copy *c, int *err)
{
  const uint64_t gen = c->d->snap->generation;
  uint64_t n;

  if (c->why[0] == '\0') {      /* someone else broke the map */
    blocks_unclaim (c->d->blocks, c->unsettled, c->last, NULL);
    return 0;
  }
  if (!fleece_cfg.fail_write) {
    if (blocks_unclaim (c->d->blocks, c->unsettled, c->last, c->why)) {
      nbdkit_error ("fleece: snapshot generation %" PRIu64 "%s%s is "
                    "broken and will fail every read: %s", gen,
                    OF_DISK (c->d->index), c->why);
      history_broke (gen);
    }
    return 0;
  }
  TOTALS_ADD (writes_refused, 1);
  blocks_unclaim (c->d->blocks, c->unsettled, c->last, NULL);
  n = __atomic_add_fetch (&c->d->writes_refused, 1, __ATOMIC_RELAXED);
  if ((n & (n - 1)) == 0)       /* the 1st, 2nd, 4th, 8th...: a log line */
    nbdkit_error ("fleece: live write refused to keep snapshot generation "
                  "%" PRIu64 "%s%s exact (on-cbw-error=fail-write; refusal "
                  "%" PRIu64 " of this snapshot, logged at powers of 2): %s",
                  gen, OF_DISK (c->d->index), n, c->why);
  *err = c->err;
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
run_extents (nbdkit_next *next, struct snap_disk *s, uint64_t off,
             uint64_t end)
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
 * them.  0, or -1 after fail().
 */
static int
copy_data (struct copy *c, uint64_t first, uint64_t last)
{
  const unsigned shift = fleece_cfg.block_shift;
  struct snap_disk *s = c->d;
  uint64_t off = first << shift;
  uint64_t len = MIN ((last + 1) << shift, s->size) - off;
  uint64_t account = (last - first + 1) << shift, t0 = monotime_ns (), t;
  CLEANUP_FREE char *buf = malloc (len);
  char why[512];
  int e = 0;

  if (buf == NULL)
    return fail (c, first, ENOMEM, "out of memory for a copy");
  if (c->src->pread (c->src, buf, len, off, 0, &e) == -1) {
    snprintf (why, sizeof why, "reading old data from the plugin at "
              "offset %" PRIu64 " failed: %s", off, strerror (e));
    return fail (c, first, e, why);
  }
  if (fleece_debug_cbw_delay_ms > 0)
    nbdkit_nanosleep (fleece_debug_cbw_delay_ms / 1000,
                      (fleece_debug_cbw_delay_ms % 1000) * 1000000);
  t = phase_done (PHASE_READ, t0);
  if (store_write (s->store, buf, len, off, account, why, sizeof why) == -1)
    return fail (c, first, errno, why);
  phase_done (PHASE_STORE, t);
  if (fleece_cfg.cbw_timeout_ns &&
      monotime_ns () - t0 > fleece_cfg.cbw_timeout_ns) {
    snprintf (why, sizeof why, "copying %" PRIu64 " bytes at offset %"
              PRIu64 " took %.0f ms, more than cbw-timeout=%.0f ms (the "
              "plugin is too slow: raise cbw-timeout)", len, off,
              (monotime_ns () - t0) / 1e6, fleece_cfg.cbw_timeout_ns / 1e6);
    store_discard (s->store, off, len, account);
    return fail (c, first, EIO, why);
  }
  TOTALS_ADD (blocks_preserved,
              blocks_settle (s->blocks, first, last, BLOCK_PRESERVED));
  c->unsettled = last + 1;
  latency_add (&fleece_stats.copy, monotime_ns () - t0);
  STATS_ADD (bytes_copied, len);
  TOTALS_ADD (copies, 1);
  TOTALS_ADD (bytes_copied, len);
  return 0;
}

/* Settle the owned block b ZERO (its old data is zero: nothing to
 * store).
 */
static void
settle_zero (struct copy *c, uint64_t b)
{
  blocks_settle (c->d->blocks, b, b, BLOCK_ZERO);
  c->unsettled = b + 1;
}

/* Is the map broken (by another request, or by a snapshot read)?
 * Then stop copying: -1 with no cause.
 */
static bool
stopped (struct copy *c)
{
  if (!blocks_broken (c->d->blocks, NULL, 0))
    return false;
  c->why[0] = '\0';
  return true;
}

/* The plugin context to copy the snapshot's bytes up to end through.
 * Normally the live request's own.  But nbdkit keeps a connection's
 * size from its first get_size, so a connection made before the disk
 * grew cannot read past its old end (nbdkit asserts), while its write
 * into its last block must preserve the whole block as the snapshot
 * has it: then a fresh context, which sees the disk as it is now.
 * NULL (why filled) when the disk is now smaller than end: it shrank
 * after the snapshot was taken, and the old data past its end is
 * gone.
 */
static nbdkit_next *
source (struct copy *c, uint64_t end, char *why, size_t why_len)
{
  if (c->next->get_size (c->next) >= (int64_t) end)
    return c->next;
  if (c->fresh == NULL &&
      (c->fresh = snapshot_plugin_open (c->d->index, why, why_len)) == NULL)
    return NULL;
  if (c->fresh->get_size (c->fresh) >= (int64_t) end)
    return c->fresh;
  snprintf (why, why_len, "the disk is smaller than when snapshot "
            "generation %" PRIu64 " was taken: its old data up to offset "
            "%" PRIu64 " cannot be preserved", c->d->snap->generation, end);
  return NULL;
}

/* Copy the owned blocks [first, last] (one run): blocks the plugin
 * reports zero are settled ZERO, maximal runs of the others are
 * copied in one request each.  0, or -1 (see give_up).
 */
static int
copy_run (struct copy *c, uint64_t first, uint64_t last)
{
  const unsigned shift = fleece_cfg.block_shift;
  struct snap_disk *s = c->d;
  uint64_t off = first << shift, end = MIN ((last + 1) << shift, s->size);
  struct nbdkit_extents *ex;
  uint64_t b, data_first = 0, t0;
  bool in_data = false;
  size_t ei = 0;
  int r = 0;
  char why[256];

  if ((c->src = source (c, end, why, sizeof why)) == NULL)
    return fail (c, first, EIO, why);
  t0 = monotime_ns ();
  ex = run_extents (c->src, s, off, end);
  phase_done (PHASE_EXTENTS, t0);

  for (b = first; b <= last && r == 0; b++) {
    uint64_t boff = b << shift, blen = MIN (boff + (1 << shift), s->size) - boff;
    if (!all_of (ex, &ei, boff, blen, true)) {
      if (!in_data)
        data_first = b;
      in_data = true;
      continue;
    }
    if (in_data && (r = copy_data (c, data_first, b - 1)) == 0 &&
        stopped (c))
      r = -1;                   /* no point copying into a broken map */
    in_data = false;
    if (r == 0)
      settle_zero (c, b);
  }
  if (in_data && r == 0)
    r = copy_data (c, data_first, last);
  if (ex)
    nbdkit_extents_free (ex);
  return r;
}

/* Copy every block we own in [c->unsettled, c->last], run by run.  0,
 * or -1 (see give_up).
 */
static int
copy_owned (struct copy *c)
{
  const uint64_t max_blocks = MAX (COPY_MAX >> fleece_cfg.block_shift, 1);
  uint64_t i = c->unsettled, run_last;

  while (i <= c->last) {
    if (blocks_run (c->d->blocks, i, c->last, &run_last) != BLOCK_CLEAN) {
      i = c->unsettled = run_last + 1;
      continue;
    }
    /* A CLEAN-class run in our range is ours: claim left none CLEAN
     * and nobody else's COPYING.
     */
    run_last = MIN (run_last, i + max_blocks - 1);
    if (copy_run (c, i, run_last) == -1 || stopped (c))
      return -1;
    i = run_last + 1;
  }
  return 0;
}

int
cbw_preserve (nbdkit_next *next, struct snap_disk *s, uint64_t offset,
              uint32_t count, bool fast_zero, int *err)
{
  const unsigned shift = fleece_cfg.block_shift;
  struct copy c = { .next = next, .d = s };
  uint64_t first, t0 = monotime_ns (), t;
  int64_t claimed;
  int r = 0;

  STATS_ADD (live_writes, 1);
  TOTALS_ADD (live_writes, 1);
  if (count == 0 || offset >= s->size)
    return 0;
  c.unsettled = first = offset >> shift;
  c.last = (MIN (offset + count, s->size) - 1) >> shift;
  claimed = blocks_claim (s->blocks, first, c.last);
  phase_done (PHASE_CLAIM, t0);
  if (claimed == -1)            /* broken: nothing to preserve any more */
    return 0;
  if (claimed > 0 && fast_zero) {
    blocks_unclaim (s->blocks, first, c.last, NULL);
    *err = ENOTSUP;
    return -1;
  }
  if (claimed > 0 && copy_owned (&c) == -1)
    r = give_up (&c, err);
  if (c.fresh)
    snapshot_plugin_close (c.fresh);
  if (r == 0) {
    t = monotime_ns ();
    blocks_wait_readers (s->blocks, first, c.last);
    phase_done (PHASE_READERS, t);
  }
  latency_add (&fleece_stats.live_added, monotime_ns () - t0);
  return r;
}
