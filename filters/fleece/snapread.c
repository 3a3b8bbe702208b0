/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the snapshot export's data operations (snapread.h).
 *
 * A request over blocks [first, last] of generation gen:
 *   - enter the barrier (the generation cannot end under us) and
 *     check it is still the active one;
 *   - take a read hold on [first, last] (blocks.h): from now on no
 *     live write reaches the plugin there until we drop it, so clean
 *     and copying blocks read from the plugin give the old data;
 *   - walk the range run by run (blocks_run), each run from its
 *     source;
 *   - drop the hold; if the snapshot broke meanwhile, fail with EIO
 *     rather than return what was read (never mixed data).
 * The runs are re-read from the map as we go, so a block preserved
 * during the request is read from the store: same bytes either way.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <nbdkit-filter.h>

#include "fleece.h"
#include "history.h"
#include "minmax.h"
#include "snapread.h"
#include "snapshot.h"
#include "stats.h"
#include "store.h"

/* Check the generation.  Returns s, or NULL with *err = EIO. */
/* Disk `disk`'s part of the active snapshot, if it is generation gen;
 * else NULL after nbdkit_error, *err EIO.
 */
static struct snap_disk *
check_gen (struct snap *s, size_t disk, uint64_t gen, int *err)
{
  if (s == NULL || s->generation != gen) {
    nbdkit_error ("fleece: snapshot generation %" PRIu64 " has ended: "
                  "reconnect to get a new snapshot", gen);
    *err = EIO;
    return NULL;
  }
  return &s->disk[disk];
}

/* Clip a request to the snapshot and get its block range.  Returns
 * false (with *err set) for a request past the end.
 */
static bool
block_range (struct snap_disk *s, uint64_t offset, uint32_t count,
             uint64_t *first, uint64_t *last, int *err)
{
  if (count == 0 || offset + count > s->size) {
    *err = EINVAL;
    nbdkit_error ("fleece: request beyond the end of the snapshot");
    return false;
  }
  *first = offset >> fleece_cfg.block_shift;
  *last = (offset + count - 1) >> fleece_cfg.block_shift;
  return true;
}

static int64_t
hold (struct snap_disk *s, uint64_t first, uint64_t last, bool allow_released,
      int *err)
{
  char why[320];
  int64_t t = blocks_hold (s->blocks, first, last, allow_released,
                           why, sizeof why);

  if (t == -1) {
    nbdkit_error ("fleece: snapshot generation %" PRIu64 "%s%s: %s",
                  s->snap->generation, OF_DISK (s->index), why);
    *err = EIO;
  }
  return t;
}

static int
unhold (struct snap_disk *s, int64_t ticket, int r, int *err)
{
  if (blocks_unhold (s->blocks, ticket) == -1 && r == 0) {
    nbdkit_error ("fleece: snapshot generation %" PRIu64 "%s%s broke "
                  "during the read: the data read is discarded",
                  s->snap->generation, OF_DISK (s->index));
    *err = EIO;
    return -1;
  }
  return r;
}

/* One run of a request: [off, off+len), all of one read class. */
struct run {
  enum block_state c;
  uint64_t off, len;
};

/* Called for each run in order; returns 0 to go on, 1 to stop, -1 on
 * error (with *err set).
 */
typedef int run_fn (nbdkit_next *next, const struct run *run, void *data,
                    int *err);

/* The one request-splitting loop: visit the runs of [offset,
 * offset+count), under a read hold if hold_it (see the top of this
 * file), released blocks allowed in the hold if allow_released.
 */
static int
walk (nbdkit_next *next, struct snap_disk *s, uint64_t offset, uint32_t count,
      bool hold_it, bool allow_released, run_fn *fn, void *data, int *err)
{
  const unsigned shift = fleece_cfg.block_shift;
  uint64_t first, last, b, run_last, end = offset + count;
  int64_t ticket = -1;
  int r = 0;

  if (!block_range (s, offset, count, &first, &last, err) ||
      (hold_it &&
       (ticket = hold (s, first, last, allow_released, err)) == -1))
    return -1;
  for (b = first; b <= last && r == 0; b = run_last + 1) {
    struct run run = { .c = blocks_run (s->blocks, b, last, &run_last) };
    run.off = MAX (b << shift, offset);
    run.len = MIN ((run_last + 1) << shift, end) - run.off;
    r = fn (next, &run, data, err);
  }
  if (r == 1)
    r = 0;
  return hold_it ? unhold (s, ticket, r, err) : r;
}

struct read_data {
  struct store *store;
  char *buf;
  uint64_t offset;              /* of buf[0] */
};

static int
read_run (nbdkit_next *next, const struct run *run, void *data, int *err)
{
  struct read_data *rd = data;
  char *buf = rd->buf + (run->off - rd->offset);

  switch (run->c) {
  case BLOCK_CLEAN:
    return next->pread (next, buf, run->len, run->off, 0, err);
  case BLOCK_PRESERVED:
    if (store_read (rd->store, buf, run->len, run->off) == -1) {
      *err = errno;
      nbdkit_error ("fleece: reading the store at offset %" PRIu64 ": %m",
                    run->off);
      return -1;
    }
    return 0;
  case BLOCK_ZERO:
    memset (buf, 0, run->len);
    return 0;
  default:                      /* released during the request */
    *err = EIO;
    nbdkit_error ("fleece: offset %" PRIu64 " was released by a trim "
                  "on the snapshot export", run->off);
    return -1;
  }
}

int
snap_pread (nbdkit_next *next, size_t disk, uint64_t gen, void *buf,
            uint32_t count, uint64_t offset, int *err)
{
  SNAPSHOT_SCOPE (cur);
  struct snap_disk *s = check_gen (cur, disk, gen, err);
  struct read_data rd;

  if (s == NULL)
    return -1;
  rd = (struct read_data) { s->store, buf, offset };
  if (walk (next, s, offset, count, true, false, read_run, &rd, err) == -1)
    return -1;
  STATS_ADD (bytes_read, count);
  TOTALS_ADD (bytes_read, count);
  __atomic_add_fetch (&s->bytes_read, count, __ATOMIC_RELAXED);
  return 0;
}

static const uint32_t run_type[] = {
  [BLOCK_PRESERVED] = 0,
  [BLOCK_ZERO] = NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO,
  [BLOCK_RELEASED] = NBDKIT_EXTENT_HOLE,
};

struct extents_data {
  struct nbdkit_extents *extents;
  uint32_t flags;
};

/* Clean runs report the plugin's extents (it still holds their data);
 * the others are known here.
 */
static int
extents_run (nbdkit_next *next, const struct run *run, void *data, int *err)
{
  struct extents_data *ed = data;
  struct nbdkit_extents *ex;
  size_t i;
  int r = 0;

  if (run->c != BLOCK_CLEAN || next->can_extents (next) != 1)
    r = nbdkit_add_extent (ed->extents, run->off, run->len,
                           run->c == BLOCK_CLEAN ? 0 : run_type[run->c]);
  else if ((ex = nbdkit_extents_full (next, run->len, run->off, 0,
                                      err)) == NULL)
    return -1;
  else {
    for (i = 0; i < nbdkit_extents_count (ex) && r == 0; i++) {
      struct nbdkit_extent e = nbdkit_get_extent (ex, i);
      r = nbdkit_add_extent (ed->extents, e.offset, e.length, e.type);
    }
    nbdkit_extents_free (ex);
  }
  if (r == -1) {
    *err = errno;
    return -1;
  }
  return ed->flags & NBDKIT_FLAG_REQ_ONE ? 1 : 0;
}

int
snap_extents (nbdkit_next *next, size_t disk, uint64_t gen, uint32_t count,
              uint64_t offset, uint32_t flags,
              struct nbdkit_extents *extents, int *err)
{
  SNAPSHOT_SCOPE (cur);
  struct snap_disk *s = check_gen (cur, disk, gen, err);
  struct extents_data ed = { extents, flags };

  /* Released blocks have extents too (a hole that reads as an error). */
  if (s == NULL)
    return -1;
  return walk (next, s, offset, count, true, true, extents_run, &ed, err);
}

int
snap_release (size_t disk, uint64_t gen, uint32_t count, uint64_t offset,
              int *err)
{
  SNAPSHOT_SCOPE (cur);
  struct snap_disk *s = check_gen (cur, disk, gen, err);
  const uint32_t bs = fleece_cfg.block_size;
  uint64_t start, end, n;

  if (s == NULL)
    return -1;
  /* Only whole blocks; the disk's partial last block counts as whole
   * when the trim reaches the end of the disk.
   */
  start = (offset + bs - 1) & ~(uint64_t) (bs - 1);
  end = offset + count >= s->size ? s->nblocks << fleece_cfg.block_shift
    : (offset + count) & ~(uint64_t) (bs - 1);
  if (start >= end)
    return 0;
  n = blocks_release (s->blocks, start >> fleece_cfg.block_shift,
                      (end >> fleece_cfg.block_shift) - 1);
  /* Reads that found these blocks preserved may still be reading the
   * store: punch only after them (later reads see RELEASED and fail).
   */
  blocks_wait_readers (s->blocks, start >> fleece_cfg.block_shift,
                       (end >> fleece_cfg.block_shift) - 1);
  store_discard (s->store, start, end - start, n << fleece_cfg.block_shift);
  if (fleece_debug_verbose)
    nbdkit_debug ("fleece: released [%" PRIu64 ", %" PRIu64 "), "
                  "%" PRIu64 " preserved blocks freed", start, end, n);
  return 0;
}

static int
cache_run (nbdkit_next *next, const struct run *run, void *data, int *err)
{
  if (run->c != BLOCK_CLEAN)
    return 0;                   /* the store and zeroes need no prefetch */
  return next->cache (next, run->len, run->off, 0, err);
}

int
snap_cache (nbdkit_next *next, size_t disk, uint64_t gen, uint32_t count,
            uint64_t offset, int *err)
{
  SNAPSHOT_SCOPE (cur);
  struct snap_disk *s = check_gen (cur, disk, gen, err);

  if (s == NULL)
    return -1;
  if (next->can_cache (next) <= NBDKIT_CACHE_NONE)
    return 0;
  return walk (next, s, offset, count, false, false, cache_run, NULL, err);
}
