/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: test-fleece-stress, the controller's snapshot open
 * and the resolution of the requests in flight across it.
 *
 * Design: a generation is taken by the first read of one disk's
 * snapshot export, chosen at random (the trigger); with several disks
 * the filter takes one snapshot of every disk then, so a connection
 * made afterwards to any other disk's snapshot export must join the
 * same generation, and that disk's content must be its model at the
 * same instant.  Just before the trigger every disk's expect gets its
 * model and every live request in the range table is marked ambiguous
 * (window_open); those requests, on any disk, keep their ranges until
 * the trigger's read completed, so that nothing the test issues
 * afterwards overlaps them.  Then each is read back from its disk's
 * snapshot: it must be there entirely or not at all, and the set of
 * those in is one point in time across every disk: a request
 * acknowledged before another was issued cannot be out if the other is
 * in (ticks are global).
 *
 * A disk that may break (FLEECE_STRESS_EXPECT) whose snapshot read
 * fails with EIO is marked broken for the generation; its requests
 * stay unresolved.
 *
 * Locking: see fleece-stress.h; everything here runs on the controller
 * thread.
 */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libnbd.h>

#include "fleece-stress.h"

double stat_open_max_ms, stat_open_total_ms;
uint64_t stat_amb_in, stat_amb_out;

struct amb {
  struct disk *disk;
  uint64_t off;
  uint32_t len;
  enum op op;
  uint64_t seq;
  uint64_t issue_tick, ack_tick; /* ack_tick: UINT64_MAX if not yet */
  int in;                        /* in the snapshot: 1, 0, -1 unknown */
};

/* Close the window: record the requests in flight across it into
 * *AMB, release the ranges of those acknowledged meanwhile.
 */
static void
close_window (struct amb **amb, size_t *namb)
{
  size_t i;

  pthread_mutex_lock (&lock);
  window_open = false;
  *amb = malloc ((ntable + 1) * sizeof **amb);
  if (*amb == NULL)
    die ("malloc: %m");
  *namb = 0;
  for (i = 0; i < ntable;) {
    struct req *r = table[i];

    if (r->ambiguous)
      (*amb)[(*namb)++] = (struct amb) {
        .disk = r->disk, .off = r->off, .len = r->len, .op = r->op,
        .seq = r->seq, .issue_tick = r->issue_tick,
        .ack_tick = r->acked ? r->ack_tick : UINT64_MAX, .in = -1 };
    r->ambiguous = false;
    if (r->acked)
      remove_req (r);           /* moves the last entry to i */
    else
      i++;
  }
  pthread_cond_broadcast (&cond);
  pthread_mutex_unlock (&lock);
}

/* Open the window, connect to T's snapshot export and take the
 * snapshot with a first read, close the window.
 */
static struct nbd_handle *
take (struct disk *t, struct amb **amb, size_t *namb)
{
  struct nbd_handle *h;
  struct timespec t0, t1;
  double ms;
  size_t i;

  pthread_mutex_lock (&lock);
  for (i = 0; i < ndisks; i++)
    memcpy (disks[i].expect, disks[i].model, disks[i].size);
  for (i = 0; i < ntable; i++)
    table[i]->ambiguous = true;
  window_open = true;
  pthread_mutex_unlock (&lock);

  clock_gettime (CLOCK_MONOTONIC, &t0);
  h = connect_to (t->snap_uri);
  snapshot_take (h);            /* its first read takes the snapshot */
  clock_gettime (CLOCK_MONOTONIC, &t1);
  ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
  stat_open_total_ms += ms;
  if (ms > stat_open_max_ms)
    stat_open_max_ms = ms;
  close_window (amb, namb);
  return h;
}

void
open_snapshot (struct snapshot *snap, uint64_t *s)
{
  unsigned t = rnd (s) % ndisks, attempt, d;
  uint64_t g;

  memset (snap, 0, sizeof *snap);
  snap->trigger = t;
  for (attempt = 0;; attempt++) {
    snap->h[t] = take (&disks[t], &snap->amb, &snap->namb);
    g = snapshot_generation_of (snap->h[t], &disks[t]);
    if (g == generation + 1)
      break;
    /* The server has not yet processed the close of the previous
     * generation's last connection, so we joined it: try again.
     */
    if (g != generation || attempt >= 5000)
      die ("snapshot generation %" PRIu64 ", expected %" PRIu64,
           g, generation + 1);
    disconnect (snap->h[t]);
    free (snap->amb);
    usleep (1000);
  }
  generation = g;
  for (d = 0; d < ndisks; d++) {
    if (d == t)
      continue;
    snap->h[d] = connect_to (disks[d].snap_uri);
    if (!snapshot_joined (snap->h[d]))
      die ("generation %" PRIu64 " was taken through snapshot/%s, but"
           " snapshot/%s shows no snapshot", g, disks[t].name,
           disks[d].name);
    g = snapshot_generation (snap->h[d], &disks[d]);
    if (g != generation)
      die ("snapshot/%s took generation %" PRIu64 ", but snapshot/%s"
           " joined generation %" PRIu64, disks[t].name, generation,
           disks[d].name, g);
  }
}

/* Read A back from its disk's snapshot: set a->in, update expect. */
static void
resolve_one (struct snapshot *snap, struct amb *a)
{
  unsigned d = a->disk - disks;
  uint8_t *got = malloc (a->len), *new = malloc (a->len);
  uint8_t *old = a->disk->expect + a->off;
  bool old_ok, new_ok;

  if (got == NULL || new == NULL)
    die ("malloc: %m");
  if (nbd_pread (snap->h[d], got, a->len, a->off, 0) == -1) {
    if (!a->disk->may_break || nbd_get_errno () != EIO)
      check_nbd (-1, "snapshot pread");
    snap->broken[d] = true;     /* nothing more to resolve on d */
    goto out;
  }
  fill (new, a->op, a->seq, a->off, a->len);
  old_ok = memcmp (got, old, a->len) == 0;
  new_ok = memcmp (got, new, a->len) == 0;
  if (!old_ok && !new_ok) {
    fprintf (stderr, "test-fleece-stress: live %s seq %" PRIu64
             " [%" PRIu64 ", +%" PRIu32 ") of disk '%s' was in flight"
             " across the open of generation %" PRIu64 ": the snapshot"
             " must have all of it or none; compared with none:\n",
             op_name[a->op], a->seq, a->off, a->len, a->disk->name,
             generation);
    compare ("in-flight request", a->off, old, got, a->len);
  }
  a->in = old_ok && new_ok ? -1 : new_ok;
  if (a->in == 1)
    memcpy (old, new, a->len);
  stat_amb_in += a->in == 1;
  stat_amb_out += a->in == 0;
 out:
  free (got);
  free (new);
}

void
resolve (struct snapshot *snap)
{
  uint64_t min_ack_out = UINT64_MAX;
  size_t i;

  for (i = 0; i < snap->namb; i++) {
    struct amb *a = &snap->amb[i];

    if (!snap->broken[a->disk - disks])
      resolve_one (snap, a);
    if (a->in == 0 && a->ack_tick < min_ack_out)
      min_ack_out = a->ack_tick;
  }
  for (i = 0; i < snap->namb; i++) {
    struct amb *a = &snap->amb[i];

    if (a->in == 1 && a->issue_tick > min_ack_out)
      die ("generation %" PRIu64 ": live %s seq %" PRIu64 " [%" PRIu64
           ", +%" PRIu32 ") of disk '%s' is in the snapshot, but a request"
           " acknowledged before it was issued is not: not one point in"
           " time", generation, op_name[a->op], a->seq, a->off, a->len,
           a->disk->name);
  }
  free (snap->amb);
  snap->amb = NULL;
}
