/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the snapshot lifecycle and the write barrier.
 *
 * See snapshot.h for the states and the barrier.  Here:
 *
 * Creation (snapshot_join from a snapshot connection's first data
 * request to any disk, or snapshot_begin): everything slow is done
 * first (each disk's size and block map, generation.h), then (a)
 * freeze, once for the VM, (b) take the barrier's write side, which
 * drains live writes in flight to every disk and holds new ones, (c)
 * publish the new generation (every block of every disk clean) for the
 * data path: one pointer, so the switch costs the same for any number
 * of disks, (d) release the barrier, (e) thaw, always, on every path.
 * The time between (b) and (d) is what live writes are held; it is
 * logged.
 * Only then is it described and marked complete: status and the
 * export description never see a half-built snapshot (snapshot.h).
 *
 * End: the last snapshot connection (to any disk) leaves; after
 * snapshot-linger with none, the generation is unpublished under the
 * barrier (so no live write is copying into it), then its maps and the
 * stores are freed.
 *
 * Pinning: snapshot_begin (control socket) creates or adopts the
 * snapshot and pins it, so it outlives its connections until
 * snapshot_end.  With no NBD connection to ask, it opens a plugin
 * context of its own from the backend given to .after_fork.
 *
 * Locking: `lifecycle` protects clients, pinned, the linger timer and
 * the creation/end sequence (creators are serialised; joiners wait
 * for a creation in progress).  `current` is written only with both
 * the lifecycle mutex and the barrier's write side held, and read
 * with either.  `clients`, `pinned`, `pin_deadline` and `creating` are
 * also read atomically by status, which must not wait for a slow
 * freeze (it reads a snapshot's figures only once `complete`).  The
 * linger thread sleeps on `linger_cond` (CLOCK_MONOTONIC) until the
 * linger or the pin is due.
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

#include "cbt.h"
#include "cbw.h"
#include "cleanup.h"
#include "fleece.h"
#include "generation.h"
#include "history.h"
#include "monotime.h"
#include "quiesce.h"
#include "snapshot.h"
#include "stats.h"
#include "store.h"

static pthread_rwlock_t barrier;
static struct snap *current;    /* see locking rule above */

static pthread_mutex_t lifecycle = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t linger_cond;
static uint64_t generation;     /* last generation number used */
static unsigned clients;        /* snapshot connections joined */
static bool pinned;             /* by snapshot_begin */
static uint64_t pin_deadline;   /* monotime: the pin-max-age is due */
static bool creating;           /* a creation is in progress */
static nbdkit_backend *backend; /* from .after_fork */
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

/* (b)-(d): the switch.  Returns how long live writes were held. */
static uint64_t
publish (struct snap *s)
{
  uint64_t t0 = monotime_ns ();

  if (pthread_rwlock_wrlock (&barrier) != 0)
    abort ();
  generation_stamp (s);
  s->generation = ++generation;
  s->checkpoint = cbt_checkpoint ();
  stats_reset ();
  current = s;
  if (pthread_rwlock_unlock (&barrier) != 0)
    abort ();
  return monotime_ns () - t0;
}

static void
log_created (const struct snap *s)
{
  size_t i;

  nbdkit_debug ("fleece: snapshot generation %" PRIu64 " created: "
                "%zu disk%s; live writes held %.3f ms; freeze %.3f ms, "
                "thaw %.3f ms", s->generation, s->ndisks,
                s->ndisks == 1 ? "" : "s", s->barrier_ns / 1e6,
                s->q.freeze_ns / 1e6, s->q.thaw_ns / 1e6);
  for (i = 0; i < s->ndisks; i++)
    nbdkit_debug ("fleece: generation %" PRIu64 " disk '%s': %" PRIu64
                  " bytes, %" PRIu64 " blocks of %" PRIu32, s->generation,
                  fleece_disks[i].name, s->disk[i].size, s->disk[i].nblocks,
                  fleece_cfg.block_size);
}

/* Changed-block tracking: the maps ready for the switch.  0 or -1. */
static int
prepare_checkpoint (const struct snap *s)
{
  uint64_t sizes[FLEECE_MAX_DISKS];
  size_t i;

  for (i = 0; i < s->ndisks; i++)
    sizes[i] = s->disk[i].size;
  return cbt_prepare (sizes);
}

/* The totals (history.h) of a snapshot created with outcome q. */
static void
count_created (const struct quiesce_outcome *q)
{
  TOTALS_ADD (created, 1);
  TOTALS_ADD (crash_consistent, q->frozen == 0);
  TOTALS_ADD (freeze_failed, q->failed);
}

/* Called with lifecycle held.  0, or -1 with why filled. */
static int
create (enum quiesce_mode mode, char *why, size_t len)
{
  struct snap *s;
  int r = -1;

  __atomic_store_n (&creating, true, __ATOMIC_SEQ_CST);
  s = generation_new ();
  if (s == NULL || prepare_checkpoint (s) == -1) {
    snprintf (why, len, "preparing the snapshot failed (see the log)");
    generation_free (s);
  }
  else if (quiesce_freeze (mode, &s->q) == -1) {
    snprintf (why, len, "snapshot not taken: quiesce=require and the "
              "guest could not be frozen: %s", s->q.reason);
    TOTALS_ADD (freeze_failed, s->q.failed);
    generation_free (s);
  }
  else {
    count_created (&s->q);
    s->barrier_ns = publish (s);
    quiesce_thaw (&s->q);
    generation_describe (s);
    __atomic_store_n (&s->complete, true, __ATOMIC_RELEASE);
    log_created (s);
    if (s->q.failed)
      nbdkit_error ("fleece: warning: snapshot generation %" PRIu64 " is "
                    "crash-consistent: %s", s->generation, s->q.reason);
    nbdkit_debug ("fleece: %s", s->description);
    r = 0;
  }
  if (r == -1)
    TOTALS_ADD (failed, 1);
  __atomic_store_n (&creating, false, __ATOMIC_SEQ_CST);
  return r;
}

/* Called with lifecycle held; how is recorded (history.h). */
static void
end (enum history_end how)
{
  struct snap *s;
  struct blocks_stats st;
  size_t i;

  if (pthread_rwlock_wrlock (&barrier) != 0)
    abort ();
  s = current;
  /* Recorded while no live write can change it, and before it
   * vanishes: a status that finds no snapshot finds its record.
   */
  if (s != NULL)
    history_ended (s, how);
  current = NULL;
  if (pthread_rwlock_unlock (&barrier) != 0)
    abort ();
  linger_armed = false;
  __atomic_store_n (&pinned, false, __ATOMIC_SEQ_CST);
  __atomic_store_n (&clients, 0, __ATOMIC_SEQ_CST);
  pthread_cond_signal (&linger_cond);     /* nothing is due any more */
  if (s == NULL)
    return;
  for (i = 0; i < s->ndisks; i++) {
    blocks_stats (s->disk[i].blocks, &st);
    nbdkit_debug ("fleece: snapshot generation %" PRIu64 " ended%s%s: "
                  "%" PRIu64 " blocks preserved, %" PRIu64 " zero, "
                  "%" PRIu64 " released, %" PRIu64 " store bytes freed",
                  s->generation, *fleece_disks[i].name ? " on disk " : "",
                  fleece_disks[i].name, st.preserved, st.zero, st.released,
                  store_bytes (s->disk[i].store));
  }
  stats_log_phases (s->generation);
  generation_free (s);
  for (i = 0; i < fleece_ndisks; i++)
    store_reset (fleece_disks[i].store);
}

int
snapshot_join (nbdkit_next *next, size_t disk, bool create_one,
               uint64_t *gen)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lifecycle);
  char why[512];

  if (current == NULL && !create_one)
    return 0;
  if (current == NULL && create (QUIESCE_DEFAULT, why, sizeof why) == -1) {
    nbdkit_error ("fleece: %s", why);
    return -1;
  }
  if (next->get_size (next) < (int64_t) current->disk[disk].size) {
    nbdkit_error ("fleece: the disk shrank since snapshot generation "
                  "%" PRIu64 " was taken: it cannot be served",
                  current->generation);
    return -1;
  }
  __atomic_add_fetch (&clients, 1, __ATOMIC_SEQ_CST);
  linger_armed = false;
  *gen = current->generation;
  return 1;
}

void
snapshot_leave (uint64_t gen)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lifecycle);

  if (current == NULL || current->generation != gen)
    return;                     /* that generation already ended */
  if (__atomic_sub_fetch (&clients, 1, __ATOMIC_SEQ_CST) > 0 || pinned)
    return;
  if (fleece_cfg.linger_ns == 0 || !thread_started) {
    end (HISTORY_END_LAST_CLOSE);
    return;
  }
  linger_armed = true;
  linger_deadline = monotime_ns () + fleece_cfg.linger_ns;
  pthread_cond_signal (&linger_cond);
}

/* When the linger thread must act (UINT64_MAX: nothing is due), and
 * whether that is the pin's age.  Lifecycle held.
 */
static uint64_t
next_due (bool *pin)
{
  uint64_t due = linger_armed ? linger_deadline : UINT64_MAX;

  *pin = false;
  if (pinned && fleece_cfg.pin_max_age_ns > 0 && pin_deadline <= due) {
    due = pin_deadline;
    *pin = true;
  }
  return due;
}

/* The pin is older than pin-max-age.  Lifecycle held. */
static void
end_old_pin (void)
{
  unsigned n = __atomic_load_n (&clients, __ATOMIC_SEQ_CST);

  nbdkit_error ("fleece: snapshot generation %" PRIu64 " was pinned by "
                "snapshot-begin and not ended within pin-max-age "
                "(%.3f s since the last begin): ending it; %u snapshot "
                "connection%s will get EIO", current ? current->generation
                : 0, fleece_cfg.pin_max_age_ns / 1e9, n, n == 1 ? "" : "s");
  end (HISTORY_END_PIN_MAX_AGE);
}

static void *
linger_main (void *arg)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lifecycle);
  struct timespec ts;
  uint64_t due;
  bool pin;

  while (!stopping) {
    due = next_due (&pin);
    if (due == UINT64_MAX) {
      pthread_cond_wait (&linger_cond, &lifecycle);
      continue;
    }
    if (monotime_ns () >= due) {
      if (pin)
        end_old_pin ();
      else {
        nbdkit_debug ("fleece: snapshot-linger passed with no snapshot "
                      "connection");
        end (HISTORY_END_LINGER);
      }
      continue;
    }
    ts.tv_sec = due / NS_PER_SEC;
    ts.tv_nsec = due % NS_PER_SEC;
    pthread_cond_timedwait (&linger_cond, &lifecycle, &ts);
  }
  return NULL;
}

/* A plugin context of our own for disk (each disk's size when a
 * snapshot is created, and cbw.c's copies for a connection older than
 * a growth of the disk), opened afresh each time: nbdkit remembers a
 * context's size from its first get_size, so a kept one would miss a
 * resized disk.  Shared (it may be opened outside a connection), so
 * nbdkit gives the plugin no export name: disks_select names the
 * disk.  Any thread: backend is set before the first connection and
 * never changes.
 */
static nbdkit_next *
open_context (size_t disk, char *why, size_t len)
{
  nbdkit_next *n = NULL;

  if (backend != NULL) {
    disks_select (disk);
    n = nbdkit_next_context_open (backend, 1, fleece_disks[disk].live, 1);
    disks_select (-1);
  }
  if (n && n->prepare (n) == -1) {
    nbdkit_next_context_close (n);
    n = NULL;
  }
  if (n == NULL)
    snprintf (why, len, "cannot open a context of the plugin "
              "(see the log)");
  return n;
}

static void
close_context (nbdkit_next *n)
{
  n->finalize (n);
  nbdkit_next_context_close (n);
}

/* With quiesce=require in force, may the active snapshot be adopted?
 * Lifecycle held.  True, or false with why filled.
 */
static bool
adoptable (enum quiesce_mode mode, char *why, size_t len)
{
  if (quiesce_effective_mode (mode) != QUIESCE_REQUIRE ||
      current->q.frozen > 0)
    return true;
  snprintf (why, len, "snapshot generation %" PRIu64 " is active and "
            "crash-consistent (%s), and quiesce=require: end it first "
            "(fleecectl begin --fresh)", current->generation,
            current->q.reason);
  return false;
}

int
snapshot_begin (enum quiesce_mode mode, bool fresh,
                struct snapshot_begun *out, char *why, size_t len)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lifecycle);

  memset (out, 0, sizeof *out);
  if (current != NULL && fresh) {
    nbdkit_debug ("fleece: snapshot-begin fresh: ending generation "
                  "%" PRIu64 " first", current->generation);
    end (HISTORY_END_FRESH);
  }
  if (current != NULL && !adoptable (mode, why, len))
    return SNAPSHOT_NOT_CONSISTENT;
  if (current == NULL) {
    if (create (mode, why, len) == -1)
      return SNAPSHOT_BEGIN_FAILED;
    out->created = true;
  }
  __atomic_store_n (&pinned, true, __ATOMIC_SEQ_CST);
  __atomic_store_n (&pin_deadline, monotime_ns () + fleece_cfg.pin_max_age_ns,
                    __ATOMIC_SEQ_CST);
  linger_armed = false;
  pthread_cond_signal (&linger_cond);     /* the pin's deadline moved */
  out->generation = current->generation;
  out->checkpoint = current->checkpoint;
  out->frozen = current->q.frozen;
  snprintf (out->description, sizeof out->description, "%s",
            current->description);
  snprintf (out->reason, sizeof out->reason, "%s", current->q.reason);
  return 0;
}

int
snapshot_end (uint64_t *gen, char *why, size_t len)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lifecycle);

  if (current == NULL) {
    snprintf (why, len, "no snapshot is active");
    return -1;
  }
  *gen = current->generation;
  end (HISTORY_END_COMMAND);
  return 0;
}

void
snapshot_status (struct snapshot_status *st)
{
  SNAPSHOT_SCOPE (s);
  uint64_t now = monotime_ns (), due;
  size_t i;

  memset (st, 0, sizeof *st);
  st->clients = __atomic_load_n (&clients, __ATOMIC_SEQ_CST);
  st->pinned = __atomic_load_n (&pinned, __ATOMIC_SEQ_CST);
  if (st->pinned && fleece_cfg.pin_max_age_ns > 0) {
    due = __atomic_load_n (&pin_deadline, __ATOMIC_SEQ_CST);
    st->pin_expires = true;
    st->pin_left_ns = due > now ? due - now : 0;
  }
  if (s == NULL || !__atomic_load_n (&s->complete, __ATOMIC_ACQUIRE)) {
    st->state = s != NULL || __atomic_load_n (&creating, __ATOMIC_SEQ_CST) ?
      "creating" : "none";
    return;
  }
  st->info = *s;
  st->info.disk = NULL;
  st->state = "active";
  for (i = 0; i < s->ndisks; i++) {
    struct snapshot_disk_status *d = &st->disk[i];
    d->size = s->disk[i].size;
    d->nblocks = s->disk[i].nblocks;
    d->bytes_read = __atomic_load_n (&s->disk[i].bytes_read,
                                     __ATOMIC_RELAXED);
    blocks_stats (s->disk[i].blocks, &d->blocks);
    d->broken = blocks_broken (s->disk[i].blocks, d->broken_cause,
                               sizeof d->broken_cause);
    if (d->broken)
      st->state = "broken";
  }
}

int
snapshot_start (nbdkit_backend *b)
{
  int r = pthread_create (&linger_thread, NULL, linger_main, NULL);

  if (r != 0) {
    errno = r;
    nbdkit_error ("fleece: starting the linger thread: %m");
    return -1;
  }
  thread_started = true;
  backend = b;
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
  end (HISTORY_END_SHUTDOWN);
}

nbdkit_next *
snapshot_plugin_open (size_t disk, char *why, size_t why_len)
{
  return open_context (disk, why, why_len);
}

void
snapshot_plugin_close (nbdkit_next *n)
{
  close_context (n);
}
