/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: per-block snapshot state (see blocks.c for the design).
 *
 * Locking rule: every function here takes the map's own mutex and
 * never holds it on return; none of them does I/O.  Callers must keep
 * the map alive (fleece holds the barrier read lock, see snapshot.h).
 */
#ifndef FLEECE_BLOCKS_H
#define FLEECE_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum block_state {
  BLOCK_CLEAN = 0,     /* snapshot data is the plugin's data */
  BLOCK_COPYING,       /* a writer is preserving it; plugin still old */
  BLOCK_PRESERVED,     /* old data is in the store */
  BLOCK_ZERO,          /* old data was zero or a hole: nothing stored */
  BLOCK_RELEASED,      /* trimmed by the backup client: reads fail */
};

struct blocks;

/* A new map of nblocks blocks, all clean.  NULL on ENOMEM (errno set). */
extern struct blocks *blocks_new (uint64_t nblocks);
extern void blocks_free (struct blocks *);

/* Writer side, step 1.  Wait until no block in [first, last] is being
 * copied by someone else, then mark every clean block there COPYING
 * (owned by the caller) in the same critical section, so two writers
 * never hold parts of each other's ranges.  Returns the number of
 * blocks claimed; 0 means nothing to copy.  Returns -1 without
 * waiting or claiming if the map is broken.
 */
extern int64_t blocks_claim (struct blocks *, uint64_t first, uint64_t last);

/* Writer side, step 2: the caller's COPYING blocks [first, last] are
 * now preserved in the store (PRESERVED) or known zero (ZERO).  Wakes
 * waiters.  Returns the number of PRESERVED blocks set.
 */
extern uint64_t blocks_settle (struct blocks *, uint64_t first,
                               uint64_t last, enum block_state);

/* Writer side, failure: give the caller's COPYING blocks in
 * [first, last] back (CLEAN), and if cause != NULL mark the whole map
 * broken with it (first cause wins).  Returns true if this call broke
 * the map (so the caller logs the cause exactly once).
 */
extern bool blocks_unclaim (struct blocks *, uint64_t first, uint64_t last,
                            const char *cause);

/* Writer side, step 3: wait until every snapshot read hold that
 * overlaps [first, last] and was taken before this call has been
 * dropped (later holds see the blocks preserved and read the store).
 * Also used by release, before punching the store: later holds see
 * the blocks released.  Returns at once if the map is broken.
 */
extern void blocks_wait_readers (struct blocks *, uint64_t first,
                                 uint64_t last);

/* Reader side: take a hold on [first, last] so no live write reaches
 * the plugin there until blocks_unhold.  Fails (-1, no hold taken) if
 * the map is broken or, unless allow_released, a block in the range
 * is released; the reason is copied into why[why_len].  Returns a
 * hold ticket otherwise.
 */
extern int64_t blocks_hold (struct blocks *, uint64_t first, uint64_t last,
                            bool allow_released, char *why, size_t why_len);

/* Drop a hold.  Returns -1 if the map broke while it was held (the
 * data read under it must not be returned), else 0.
 */
extern int blocks_unhold (struct blocks *, int64_t ticket);

/* The run of blocks starting at first (<= last) whose state reads the
 * same way for a snapshot reader (CLEAN and COPYING both read the
 * plugin).  Returns the class (BLOCK_CLEAN, BLOCK_PRESERVED,
 * BLOCK_ZERO or BLOCK_RELEASED) and sets *run_last.
 */
extern enum block_state blocks_run (struct blocks *, uint64_t first,
                                    uint64_t last, uint64_t *run_last);

/* Release [first, last] for the backup client (trim on the snapshot):
 * waits for copies in progress there, then marks the blocks RELEASED.
 * Returns how many of them had been PRESERVED (store space to free).
 */
extern uint64_t blocks_release (struct blocks *, uint64_t first,
                                uint64_t last);

/* Broken?  If so, copy the first cause into why[why_len]. */
extern bool blocks_broken (struct blocks *, char *why, size_t why_len);

/* Counters for status and tests. */
struct blocks_stats {
  uint64_t preserved;           /* blocks now PRESERVED */
  uint64_t zero;                /* blocks now ZERO */
  uint64_t released;            /* blocks now RELEASED */
};
extern void blocks_stats (struct blocks *, struct blocks_stats *);

#endif /* FLEECE_BLOCKS_H */
