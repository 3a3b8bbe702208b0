/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: counters since nbdkit started and the last ended
 * snapshot's result (see history.h for the contract and the locking
 * rule).
 *
 * A break is counted once per generation: generations only grow, and
 * a generation can break only while it is the active one, so the
 * highest generation counted so far (compare-and-swap) is enough.
 */
#include <config.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "history.h"
#include "snapshot.h"
#include "stats.h"
#include "utc-now.h"

const char *const history_end_name[HISTORY_ENDS] = {
  "snapshot-end", "fresh", "last-close", "linger", "pin-max-age",
  "shutdown",
};

struct history_totals fleece_totals;

static uint64_t broken_generation;      /* the last one counted */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool have_last;                  /* under lock */
static struct history_last last;        /* under lock */

#define LOAD(field) \
  (out->field = __atomic_load_n (&fleece_totals.field, __ATOMIC_RELAXED))

void
history_totals (struct history_totals *out)
{
  size_t i;

  LOAD (created);
  LOAD (failed);
  LOAD (crash_consistent);
  LOAD (freeze_failed);
  for (i = 0; i < HISTORY_ENDS; i++)
    LOAD (ended[i]);
  LOAD (broken);
  LOAD (writes_refused);
  LOAD (copies);
  LOAD (bytes_copied);
  LOAD (blocks_preserved);
  LOAD (bytes_read);
  LOAD (live_writes);
}

void
history_broke (uint64_t generation)
{
  uint64_t seen = __atomic_load_n (&broken_generation, __ATOMIC_RELAXED);

  while (seen < generation)
    if (__atomic_compare_exchange_n (&broken_generation, &seen, generation,
                                     false, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED)) {
      TOTALS_ADD (broken, 1);
      return;
    }
}

/* Each disk's figures of s as it ends. */
static void
record_disks (const struct snap *s, struct history_last *r)
{
  size_t i;

  r->ndisks = s->ndisks;
  for (i = 0; i < s->ndisks && i < FLEECE_MAX_DISKS; i++) {
    struct history_disk *d = &r->disk[i];
    d->bytes_read = __atomic_load_n (&s->disk[i].bytes_read,
                                     __ATOMIC_RELAXED);
    r->bytes_read += d->bytes_read;
    blocks_stats (s->disk[i].blocks, &d->blocks);
    d->broken = blocks_broken (s->disk[i].blocks, d->broken_cause,
                               sizeof d->broken_cause);
  }
}

void
history_ended (const struct snap *s, enum history_end how)
{
  static struct history_last r; /* big: built outside the lock; only
                                 * the lifecycle, serialised, calls */

  memset (&r, 0, sizeof r);
  r.generation = s->generation;
  snprintf (r.description, sizeof r.description, "%s", s->description);
  snprintf (r.taken_at, sizeof r.taken_at, "%s", s->taken_at);
  utc_now (r.ended_at, sizeof r.ended_at);
  r.frozen = s->q.frozen;
  snprintf (r.reason, sizeof r.reason, "%s", s->q.reason);
  r.ended_by = how;
  r.copies = __atomic_load_n (&fleece_stats.copy.count, __ATOMIC_RELAXED);
  r.bytes_copied = __atomic_load_n (&fleece_stats.bytes_copied,
                                    __ATOMIC_RELAXED);
  r.live_writes = __atomic_load_n (&fleece_stats.live_writes,
                                   __ATOMIC_RELAXED);
  record_disks (s, &r);
  {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);
    last = r;
    have_last = true;
  }
  TOTALS_ADD (ended[how], 1);
}

bool
history_last (struct history_last *out)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);

  if (have_last)
    *out = last;
  return have_last;
}
