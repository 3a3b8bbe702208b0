/* nbdkit-fleece: the snapshot lifecycle and the write barrier.
 *
 * See snapshot.h for the states and the barrier.  Here:
 *
 * Creation (snapshot_join, first connection): everything slow is done
 * first (plugin size, the new block map), then (a) freeze, (b) take
 * the barrier's write side, which drains live writes in flight and
 * holds new ones, (c) publish the new generation (all blocks clean),
 * (d) release the barrier, (e) thaw, always, on every path.  The time
 * between (b) and (d) is what live writes are held; it is logged.
 *
 * End: the last snapshot connection leaves; after snapshot-linger with
 * none, the generation is unpublished under the barrier (so no live
 * write is copying into it), then its map and the store are freed.
 *
 * Locking: `lifecycle` protects clients, the linger timer and the
 * creation/end sequence (creators are serialised; joiners wait for a
 * creation in progress).  `current` is written only with both the
 * lifecycle mutex and the barrier's write side held, and read with
 * either.  The linger thread sleeps on `linger_cond` (CLOCK_MONOTONIC).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nbdkit-filter.h>

#include "cleanup.h"
#include "fleece.h"
#include "monotime.h"
#include "quiesce.h"
#include "snapshot.h"
#include "store.h"

static pthread_rwlock_t barrier;
static struct snap *current;    /* see locking rule above */

static pthread_mutex_t lifecycle = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t linger_cond;
static uint64_t generation;     /* last generation number used */
static unsigned clients;        /* snapshot connections joined */
static bool linger_armed;
static uint64_t linger_deadline;
static bool stopping;
static bool thread_started;
static pthread_t linger_thread;

static void __attribute__ ((constructor))
barrier_init (void)
{
  pthread_rwlockattr_t attr;
  pthread_condattr_t cattr;

  /* Writer-preferring: a pending switch must not be starved by a
   * steady stream of live writes.
   */
  pthread_rwlockattr_init (&attr);
  pthread_rwlockattr_setkind_np (&attr,
                                 PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init (&barrier, &attr);
  pthread_rwlockattr_destroy (&attr);
  pthread_condattr_init (&cattr);
  pthread_condattr_setclock (&cattr, CLOCK_MONOTONIC);
  pthread_cond_init (&linger_cond, &cattr);
  pthread_condattr_destroy (&cattr);
}

struct snap *
snapshot_enter (void)
{
  if (pthread_rwlock_rdlock (&barrier) != 0)
    abort ();
  return current;
}

void
snapshot_exit (void)
{
  if (pthread_rwlock_unlock (&barrier) != 0)
    abort ();
}

static void
snap_free (struct snap *s)
{
  if (s) {
    blocks_free (s->blocks);
    free (s);
  }
}

/* Before the freeze: everything that allocates or asks the plugin. */
static struct snap *
snap_prepare (nbdkit_next *next)
{
  int64_t size = next->get_size (next);
  struct snap *s;

  if (size == -1)
    return NULL;
  s = calloc (1, sizeof *s);
  if (s == NULL) {
    nbdkit_error ("fleece: calloc: %m");
    return NULL;
  }
  s->size = size;
  s->nblocks = (size + fleece_cfg.block_size - 1) >> fleece_cfg.block_shift;
  s->blocks = blocks_new (s->nblocks);
  if (s->blocks == NULL) {
    nbdkit_error ("fleece: allocating the state of %" PRIu64 " blocks: %m",
                  s->nblocks);
    free (s);
    return NULL;
  }
  return s;
}

static void
describe (struct snap *s, const struct quiesce_outcome *q)
{
  struct timespec now;
  struct tm tm;
  char when[64];

  clock_gettime (CLOCK_REALTIME, &now);
  gmtime_r (&now.tv_sec, &tm);
  strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  if (q->frozen > 0)
    snprintf (s->description, sizeof s->description,
              "fleece snapshot generation %" PRIu64 ", taken %s.%03ldZ, "
              "application-consistent: %d filesystem%s frozen for %.1f ms",
              s->generation, when, now.tv_nsec / 1000000, q->frozen,
              q->frozen == 1 ? "" : "s", q->frozen_ns / 1e6);
  else
    snprintf (s->description, sizeof s->description,
              "fleece snapshot generation %" PRIu64 ", taken %s.%03ldZ, "
              "crash-consistent: %s",
              s->generation, when, now.tv_nsec / 1000000, q->reason);
}

/* (b)-(d): the switch.  Returns how long live writes were held. */
static uint64_t
publish (struct snap *s)
{
  uint64_t t0 = monotime_ns ();

  if (pthread_rwlock_wrlock (&barrier) != 0)
    abort ();
  s->generation = ++generation;
  current = s;
  if (pthread_rwlock_unlock (&barrier) != 0)
    abort ();
  return monotime_ns () - t0;
}

/* Called with lifecycle held. */
static int
create (nbdkit_next *next)
{
  struct quiesce_outcome q = { 0 };
  struct snap *s = snap_prepare (next);
  uint64_t held_ns;

  if (s == NULL)
    return -1;
  if (quiesce_freeze (&q) == -1) {
    nbdkit_error ("fleece: snapshot not taken: quiesce=require and the "
                  "guest could not be frozen: %s", q.reason);
    snap_free (s);
    return -1;
  }
  held_ns = publish (s);
  quiesce_thaw (&q);
  describe (s, &q);
  nbdkit_debug ("fleece: snapshot generation %" PRIu64 " created: "
                "%" PRIu64 " bytes, %" PRIu64 " blocks of %" PRIu32 "; "
                "live writes held %.3f ms; freeze %.3f ms, thaw %.3f ms",
                s->generation, s->size, s->nblocks, fleece_cfg.block_size,
                held_ns / 1e6, q.freeze_ns / 1e6, q.thaw_ns / 1e6);
  nbdkit_debug ("fleece: %s", s->description);
  return 0;
}

/* Called with lifecycle held. */
static void
end (void)
{
  struct snap *s;
  struct blocks_stats st;

  if (pthread_rwlock_wrlock (&barrier) != 0)
    abort ();
  s = current;
  current = NULL;
  if (pthread_rwlock_unlock (&barrier) != 0)
    abort ();
  linger_armed = false;
  if (s == NULL)
    return;
  blocks_stats (s->blocks, &st);
  nbdkit_debug ("fleece: snapshot generation %" PRIu64 " ended: "
                "%" PRIu64 " blocks preserved, %" PRIu64 " zero, "
                "%" PRIu64 " released, %" PRIu64 " store bytes freed",
                s->generation, st.preserved, st.zero, st.released,
                store_bytes ());
  snap_free (s);
  store_reset ();
}

int
snapshot_join (nbdkit_next *next, uint64_t *gen)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lifecycle);

  if (current == NULL && create (next) == -1)
    return -1;
  clients++;
  linger_armed = false;
  *gen = current->generation;
  return 0;
}

void
snapshot_leave (uint64_t gen)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lifecycle);

  if (current == NULL || current->generation != gen)
    return;                     /* that generation already ended */
  if (--clients > 0)
    return;
  if (fleece_cfg.linger_ns == 0 || !thread_started) {
    end ();
    return;
  }
  linger_armed = true;
  linger_deadline = monotime_ns () + fleece_cfg.linger_ns;
  pthread_cond_signal (&linger_cond);
}

static void *
linger_main (void *arg)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lifecycle);
  struct timespec ts;

  while (!stopping) {
    if (!linger_armed) {
      pthread_cond_wait (&linger_cond, &lifecycle);
      continue;
    }
    if (monotime_ns () >= linger_deadline) {
      nbdkit_debug ("fleece: snapshot-linger passed with no snapshot "
                    "connection");
      end ();
      continue;
    }
    ts.tv_sec = linger_deadline / NS_PER_SEC;
    ts.tv_nsec = linger_deadline % NS_PER_SEC;
    pthread_cond_timedwait (&linger_cond, &lifecycle, &ts);
  }
  return NULL;
}

int
snapshot_start (void)
{
  int r = pthread_create (&linger_thread, NULL, linger_main, NULL);

  if (r != 0) {
    errno = r;
    nbdkit_error ("fleece: starting the linger thread: %m");
    return -1;
  }
  thread_started = true;
  return 0;
}

void
snapshot_stop (void)
{
  if (thread_started) {
    {
      ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lifecycle);
      stopping = true;
      pthread_cond_signal (&linger_cond);
    }
    pthread_join (linger_thread, NULL);
    thread_started = false;
  }
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lifecycle);
  end ();
}
