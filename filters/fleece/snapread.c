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
#include <stdio.h>
#include <string.h>

#include <nbdkit-filter.h>

#include "fleece.h"
#include "minmax.h"
#include "snapread.h"
#include "snapshot.h"
#include "stats.h"
#include "store.h"

/* Check the generation.  Returns s, or NULL with *err = EIO. */
static struct snap *
check_gen (struct snap *s, uint64_t gen, int *err)
{
  if (s == NULL || s->generation != gen) {
    nbdkit_error ("fleece: snapshot generation %" PRIu64 " has ended: "
                  "reconnect to get a new snapshot", gen);
    *err = EIO;
    return NULL;
  }
  return s;
}

/* Clip a request to the snapshot and get its block range.  Returns
 * false (with *err set) for a request past the end.
 */
static bool
block_range (struct snap *s, uint64_t offset, uint32_t count,
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
hold (struct snap *s, uint64_t first, uint64_t last, int *err)
{
  char why[320];
  int64_t t = blocks_hold (s->blocks, first, last, false, why, sizeof why);

  if (t == -1) {
    nbdkit_error ("fleece: snapshot generation %" PRIu64 ": %s",
                  s->generation, why);
    *err = EIO;
  }
  return t;
}

static int
unhold (struct snap *s, int64_t ticket, int r, int *err)
{
  if (blocks_unhold (s->blocks, ticket) == -1 && r == 0) {
    nbdkit_error ("fleece: snapshot generation %" PRIu64 " broke during "
                  "the read: the data read is discarded", s->generation);
    *err = EIO;
    return -1;
  }
  return r;
}

/* Read [off, off+len), one run of class c. */
static int
read_run (nbdkit_next *next, enum block_state c, char *buf, uint64_t len,
          uint64_t off, int *err)
{
  switch (c) {
  case BLOCK_CLEAN:
    return next->pread (next, buf, len, off, 0, err);
  case BLOCK_PRESERVED:
    if (store_read (buf, len, off) == -1) {
      *err = errno;
      nbdkit_error ("fleece: reading the store at offset %" PRIu64 ": %m",
                    off);
      return -1;
    }
    return 0;
  case BLOCK_ZERO:
    memset (buf, 0, len);
    return 0;
  default:                      /* released during the request */
    *err = EIO;
    nbdkit_error ("fleece: offset %" PRIu64 " was released by a trim "
                  "on the snapshot export", off);
    return -1;
  }
}

int
snap_pread (nbdkit_next *next, uint64_t gen, void *buf, uint32_t count,
            uint64_t offset, int *err)
{
  SNAPSHOT_SCOPE (cur);
  struct snap *s = check_gen (cur, gen, err);
  const unsigned shift = fleece_cfg.block_shift;
  uint64_t first, last, b, run_last, end = offset + count;
  int64_t ticket;
  int r = 0;

  if (s == NULL || !block_range (s, offset, count, &first, &last, err) ||
      (ticket = hold (s, first, last, err)) == -1)
    return -1;
  for (b = first; b <= last && r == 0; b = run_last + 1) {
    enum block_state c = blocks_run (s->blocks, b, last, &run_last);
    uint64_t off = MAX (b << shift, offset);
    uint64_t len = MIN ((run_last + 1) << shift, end) - off;
    r = read_run (next, c, (char *) buf + (off - offset), len, off, err);
  }
  r = unhold (s, ticket, r, err);
  if (r == 0)
    STATS_ADD (bytes_read, count);
  return r;
}

/* Append the plugin's extents of [off, off+len) to extents. */
static int
plugin_extents (nbdkit_next *next, uint64_t len, uint64_t off,
                struct nbdkit_extents *extents, int *err)
{
  struct nbdkit_extents *ex;
  size_t i;
  int r = 0;

  if (next->can_extents (next) != 1)
    return nbdkit_add_extent (extents, off, len, 0);
  ex = nbdkit_extents_full (next, len, off, 0, err);
  if (ex == NULL)
    return -1;
  for (i = 0; i < nbdkit_extents_count (ex) && r == 0; i++) {
    struct nbdkit_extent e = nbdkit_get_extent (ex, i);
    r = nbdkit_add_extent (extents, e.offset, e.length, e.type);
  }
  nbdkit_extents_free (ex);
  if (r == -1)
    *err = errno;
  return r;
}

static const uint32_t run_type[] = {
  [BLOCK_PRESERVED] = 0,
  [BLOCK_ZERO] = NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO,
  [BLOCK_RELEASED] = NBDKIT_EXTENT_HOLE,
};

int
snap_extents (nbdkit_next *next, uint64_t gen, uint32_t count,
              uint64_t offset, uint32_t flags,
              struct nbdkit_extents *extents, int *err)
{
  SNAPSHOT_SCOPE (cur);
  struct snap *s = check_gen (cur, gen, err);
  const unsigned shift = fleece_cfg.block_shift;
  uint64_t first, last, b, run_last, end = offset + count;
  int64_t ticket;
  int r = 0;
  char why[256];

  if (s == NULL || !block_range (s, offset, count, &first, &last, err))
    return -1;
  /* Released blocks have extents too (a hole that reads as an error). */
  ticket = blocks_hold (s->blocks, first, last, true, why, sizeof why);
  if (ticket == -1) {
    nbdkit_error ("fleece: snapshot generation %" PRIu64 ": %s",
                  s->generation, why);
    *err = EIO;
    return -1;
  }
  for (b = first; b <= last && r == 0; b = run_last + 1) {
    enum block_state c = blocks_run (s->blocks, b, last, &run_last);
    uint64_t off = MAX (b << shift, offset);
    uint64_t len = MIN ((run_last + 1) << shift, end) - off;
    if (c == BLOCK_CLEAN)
      r = plugin_extents (next, len, off, extents, err);
    else if ((r = nbdkit_add_extent (extents, off, len, run_type[c])) == -1)
      *err = errno;
    if (flags & NBDKIT_FLAG_REQ_ONE)
      break;
  }
  return unhold (s, ticket, r, err);
}

int
snap_release (uint64_t gen, uint32_t count, uint64_t offset, int *err)
{
  SNAPSHOT_SCOPE (cur);
  struct snap *s = check_gen (cur, gen, err);
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
  store_discard (start, end - start, n << fleece_cfg.block_shift);
  if (fleece_debug_verbose)
    nbdkit_debug ("fleece: released [%" PRIu64 ", %" PRIu64 "), "
                  "%" PRIu64 " preserved blocks freed", start, end, n);
  return 0;
}

int
snap_cache (nbdkit_next *next, uint64_t gen, uint32_t count,
            uint64_t offset, int *err)
{
  SNAPSHOT_SCOPE (cur);
  struct snap *s = check_gen (cur, gen, err);
  uint64_t first, last, b, run_last, end = offset + count;
  const unsigned shift = fleece_cfg.block_shift;
  int r = 0;

  if (s == NULL || !block_range (s, offset, count, &first, &last, err))
    return -1;
  if (next->can_cache (next) <= NBDKIT_CACHE_NONE)
    return 0;
  for (b = first; b <= last && r == 0; b = run_last + 1) {
    uint64_t off = MAX (b << shift, offset);
    if (blocks_run (s->blocks, b, last, &run_last) == BLOCK_CLEAN)
      r = next->cache (next, MIN ((run_last + 1) << shift, end) - off, off,
                       0, err);
  }
  return r;
}
