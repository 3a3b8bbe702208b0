/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: per-block snapshot state.
 *
 * One byte of state per block of the snapshot (enum block_state), plus
 * the list of read holds taken by snapshot readers.  This is where the
 * invariants of DESIGN.md are enforced; the I/O happens in cbw.c and
 * snapread.c, always outside this file's lock.
 *
 * Transitions:
 *   CLEAN -> COPYING              blocks_claim (a writer owns the copy)
 *   COPYING -> PRESERVED | ZERO   blocks_settle (after the store write)
 *   COPYING -> CLEAN              blocks_unclaim (copy failed)
 *   any but COPYING -> RELEASED   blocks_release (backup client trim)
 * There is no way back to CLEAN from PRESERVED/ZERO/RELEASED: a new
 * generation gets a new map.
 *
 * I1 (no write before preservation): a writer claims every clean
 * block of its range, copies, settles, and only then passes its
 * request down; a writer that finds a block COPYING waits for it.
 * I3 (copied at most once): only blocks_claim leaves CLEAN, under the
 * lock, and claims are all-or-nothing over a range, so two writers
 * never each hold part of the other's range (no deadlock either).
 * I2 (reads never see later data): a reader holds its range while it
 * reads the plugin; CLEAN and COPYING blocks still have the old data
 * in the plugin, and writers wait (blocks_wait_readers) for holds
 * taken before they settled.  Holds taken later see the blocks
 * preserved and read the store, so a stream of readers cannot
 * starve a writer (tickets order them).
 * Broken: once broken, writers stop waiting and stop copying, and
 * every hold fails or reports the break on unhold, so nothing read
 * across the break is returned (never mixed data).
 *
 * Locking: one mutex per map protects everything here, with one
 * condition variable broadcast on every state change or hold drop.
 * It is never held across I/O, so its hold times are a scan of the
 * request's blocks.  Chosen over per-block locks: a byte per block
 * keeps a 1 TiB disk at 16 MiB of state with 64K blocks.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "cleanup.h"

struct hold {
  uint64_t first, last;
  int64_t ticket;
};

struct blocks {
  pthread_mutex_t lock;
  pthread_cond_t cond;          /* state changed or a hold dropped */
  uint64_t nblocks;
  uint8_t *state;               /* enum block_state per block */
  struct hold *holds;           /* read holds in progress */
  size_t nholds, holds_alloc;
  int64_t next_ticket;
  bool broken;
  char cause[256];              /* the first cause, when broken */
  struct blocks_stats stats;
};

struct blocks *
blocks_new (uint64_t nblocks)
{
  struct blocks *m = calloc (1, sizeof *m);

  if (m == NULL)
    return NULL;
  m->state = calloc (nblocks ? nblocks : 1, 1);
  if (m->state == NULL) {
    free (m);
    errno = ENOMEM;
    return NULL;
  }
  m->nblocks = nblocks;
  pthread_mutex_init (&m->lock, NULL);
  pthread_cond_init (&m->cond, NULL);
  return m;
}

void
blocks_free (struct blocks *m)
{
  if (m == NULL)
    return;
  pthread_cond_destroy (&m->cond);
  pthread_mutex_destroy (&m->lock);
  free (m->holds);
  free (m->state);
  free (m);
}

static bool
any_in_state (struct blocks *m, uint64_t first, uint64_t last,
              enum block_state s)
{
  uint64_t i;

  for (i = first; i <= last; i++)
    if (m->state[i] == s)
      return true;
  return false;
}

static void
wait_cond (struct blocks *m)
{
  int r = pthread_cond_wait (&m->cond, &m->lock);
  if (r != 0)
    abort ();
}

int64_t
blocks_claim (struct blocks *m, uint64_t first, uint64_t last)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&m->lock);
  int64_t n = 0;
  uint64_t i;

  while (!m->broken && any_in_state (m, first, last, BLOCK_COPYING))
    wait_cond (m);
  if (m->broken)
    return -1;
  for (i = first; i <= last; i++) {
    if (m->state[i] == BLOCK_CLEAN) {
      m->state[i] = BLOCK_COPYING;
      n++;
    }
  }
  return n;
}

uint64_t
blocks_settle (struct blocks *m, uint64_t first, uint64_t last,
               enum block_state s)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&m->lock);
  uint64_t i, n = 0;

  for (i = first; i <= last; i++) {
    if (m->state[i] == BLOCK_COPYING) {
      m->state[i] = s;
      n++;
    }
  }
  if (s == BLOCK_PRESERVED)
    m->stats.preserved += n;
  else if (s == BLOCK_ZERO)
    m->stats.zero += n;
  pthread_cond_broadcast (&m->cond);
  return s == BLOCK_PRESERVED ? n : 0;
}

bool
blocks_unclaim (struct blocks *m, uint64_t first, uint64_t last,
                const char *cause)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&m->lock);
  bool broke = false;
  uint64_t i;

  for (i = first; i <= last; i++)
    if (m->state[i] == BLOCK_COPYING)
      m->state[i] = BLOCK_CLEAN;
  if (cause && !m->broken) {
    m->broken = broke = true;
    snprintf (m->cause, sizeof m->cause, "%s", cause);
  }
  pthread_cond_broadcast (&m->cond);
  return broke;
}

static bool
older_hold_overlaps (struct blocks *m, uint64_t first, uint64_t last,
                     int64_t limit)
{
  size_t i;

  for (i = 0; i < m->nholds; i++)
    if (m->holds[i].ticket < limit &&
        m->holds[i].first <= last && first <= m->holds[i].last)
      return true;
  return false;
}

void
blocks_wait_readers (struct blocks *m, uint64_t first, uint64_t last)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&m->lock);
  int64_t limit = m->next_ticket;

  while (!m->broken && older_hold_overlaps (m, first, last, limit))
    wait_cond (m);
}

static int
add_hold (struct blocks *m, uint64_t first, uint64_t last, int64_t ticket)
{
  if (m->nholds == m->holds_alloc) {
    size_t n = m->holds_alloc ? 2 * m->holds_alloc : 16;
    struct hold *h = realloc (m->holds, n * sizeof *h);
    if (h == NULL)
      return -1;
    m->holds = h;
    m->holds_alloc = n;
  }
  m->holds[m->nholds++] = (struct hold) { first, last, ticket };
  return 0;
}

int64_t
blocks_hold (struct blocks *m, uint64_t first, uint64_t last,
             bool allow_released, char *why, size_t why_len)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&m->lock);

  if (m->broken) {
    /* The cause was logged once when it broke, and is in status. */
    snprintf (why, why_len, "the snapshot is broken, every read fails");
    return -1;
  }
  if (!allow_released && any_in_state (m, first, last, BLOCK_RELEASED)) {
    snprintf (why, why_len,
              "the range was released by a trim on the snapshot export");
    return -1;
  }
  if (add_hold (m, first, last, m->next_ticket) == -1) {
    snprintf (why, why_len, "out of memory for a read hold");
    return -1;
  }
  return m->next_ticket++;
}

int
blocks_unhold (struct blocks *m, int64_t ticket)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&m->lock);
  size_t i;

  for (i = 0; i < m->nholds; i++) {
    if (m->holds[i].ticket == ticket) {
      m->holds[i] = m->holds[--m->nholds];
      break;
    }
  }
  pthread_cond_broadcast (&m->cond);
  return m->broken ? -1 : 0;
}

static enum block_state
read_class (uint8_t s)
{
  return s == BLOCK_COPYING ? BLOCK_CLEAN : (enum block_state) s;
}

enum block_state
blocks_run (struct blocks *m, uint64_t first, uint64_t last,
            uint64_t *run_last)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&m->lock);
  enum block_state c = read_class (m->state[first]);
  uint64_t i = first;

  while (i < last && read_class (m->state[i + 1]) == c)
    i++;
  *run_last = i;
  return c;
}

uint64_t
blocks_release (struct blocks *m, uint64_t first, uint64_t last)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&m->lock);
  uint64_t i, n = 0;

  while (!m->broken && any_in_state (m, first, last, BLOCK_COPYING))
    wait_cond (m);
  for (i = first; i <= last; i++) {
    if (m->state[i] == BLOCK_RELEASED)
      continue;
    if (m->state[i] == BLOCK_PRESERVED) {
      n++;
      m->stats.preserved--;
    }
    else if (m->state[i] == BLOCK_ZERO)
      m->stats.zero--;
    m->state[i] = BLOCK_RELEASED;
    m->stats.released++;
  }
  return n;
}

bool
blocks_broken (struct blocks *m, char *why, size_t why_len)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&m->lock);

  if (m->broken && why)
    snprintf (why, why_len, "%s", m->cause);
  return m->broken;
}

void
blocks_stats (struct blocks *m, struct blocks_stats *st)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&m->lock);

  *st = m->stats;
}
