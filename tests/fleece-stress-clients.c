/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: test-fleece-stress, the live writers and the
 * snapshot readers.
 *
 * Design: each thread has its own libnbd handle and keeps up to
 * QDEPTH asynchronous requests in flight.  A writer picks a random
 * range that overlaps no request of the test in flight (the range
 * table), so the model stays exact; its completion callback applies
 * the request to model and stamps its acknowledgement order.  Across a
 * snapshot open (window_open) requests are marked ambiguous and their
 * ranges stay in the table until the controller has recorded them.
 * A reader joins the current generation's snapshot of its disk, checks
 * that the generation is the one expected, and compares every read
 * with its disk's expect.  Each thread works on one disk.
 *
 * States of a writer: running -> paused (issues nothing, drains its
 * own requests, then waits) -> running, or -> stopping (drains, then
 * exits).
 *
 * A request that fails dies, except the failures expect_failures
 * allows (fleece-stress.h): a live request refused with ENOSPC left
 * the plugin untouched, so the model is not changed and its range is
 * freed at once (it is in no snapshot); a snapshot read failing with
 * EIO on a disk that may break is counted, not compared.  A range not
 * found free in 16 tries is given up for this round.
 *
 * Locking: as fleece-stress.h says; next_seq and tick are under lock
 * too.  A reader's counters are its own thread's (libnbd calls the
 * completion callbacks on the thread that polls).
 */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>

#include "fleece-stress.h"

#define READS_PER_GEN 300       /* per reader */

static uint64_t next_seq = 2, tick;

static bool
overlaps (const struct disk *d, uint64_t off, uint32_t len)
{
  size_t i;

  for (i = 0; i < ntable; i++)
    if (table[i]->disk == d && off < table[i]->off + table[i]->len
        && table[i]->off < off + len)
      return true;
  return false;
}

void
remove_req (struct req *r)
{
  size_t i;

  for (i = 0; i < ntable; i++)
    if (table[i] == r) {
      table[i] = table[--ntable];
      free (r->buf);
      free (r);
      return;
    }
  die ("request missing from the range table");
}

static int
write_done (void *opaque, int *error)
{
  struct req *r = opaque;
  bool refused = *error == ENOSPC && expect_failures == EXPECT_REFUSED;

  if (*error != 0 && !refused)
    die ("live %s [%" PRIu64 ", +%" PRIu32 ") of disk '%s' failed: %s",
         op_name[r->op], r->off, r->len, r->disk->name, strerror (*error));
  pthread_mutex_lock (&lock);
  if (refused)
    __atomic_add_fetch (&stat_refused, 1, __ATOMIC_RELAXED);
  else if (r->op == OP_WRITE)
    memcpy (r->disk->model + r->off, r->buf, r->len);
  else
    memset (r->disk->model + r->off, 0, r->len);
  __atomic_add_fetch (&ops_done, 1, __ATOMIC_RELAXED);
  inflight_total--;
  (*r->inflight)--;
  r->acked = true;
  r->ack_tick = ++tick;
  /* Across a snapshot open, keep the range locked until it completes. */
  if (refused || !(window_open && r->ambiguous))
    remove_req (r);
  pthread_cond_broadcast (&cond);
  pthread_mutex_unlock (&lock);
  return 1;
}

/* Issue one random request on a free byte range; false if none found. */
static bool
issue (struct nbd_handle *h, uint64_t *s, struct disk *d,
       unsigned *inflight)
{
  struct req *r = calloc (1, sizeof *r);
  nbd_completion_callback cb = { .callback = write_done, .user_data = r };
  unsigned k = rnd (s) % 10, tries;
  int64_t c;

  if (r == NULL)
    die ("calloc: %m");
  r->op = k < 8 ? OP_WRITE : k == 8 ? OP_ZERO : OP_TRIM;
  r->inflight = inflight;
  r->disk = d;
  for (tries = 0; tries < 16; tries++) {
    pick_range (s, d, 4 * bs, &r->off, &r->len);
    pthread_mutex_lock (&lock);
    if (ntable < MAXREQ && !overlaps (d, r->off, r->len)) {
      table[ntable++] = r;
      r->ambiguous = window_open;
      r->seq = next_seq++;
      r->issue_tick = ++tick;
      inflight_total++;
      (*inflight)++;
      pthread_mutex_unlock (&lock);
      break;
    }
    pthread_mutex_unlock (&lock);
  }
  if (tries == 16) {
    free (r);
    return false;
  }
  r->buf = malloc (r->len);
  if (r->buf == NULL)
    die ("malloc: %m");
  fill (r->buf, r->op, r->seq, r->off, r->len);
  if (r->op == OP_WRITE)
    c = nbd_aio_pwrite (h, r->buf, r->len, r->off, cb, 0);
  else if (r->op == OP_ZERO)
    c = nbd_aio_zero (h, r->len, r->off, cb, 0);
  else
    c = nbd_aio_trim (h, r->len, r->off, cb, 0);
  check_nbd (c == -1 ? -1 : 0, op_name[r->op]);
  return true;
}

void *
writer (void *arg)
{
  struct targ *a = arg;
  struct nbd_handle *h = connect_to (a->disk->live_uri);
  unsigned inflight = 0;
  bool go;

  for (;;) {
    pthread_mutex_lock (&lock);
    while (inflight == 0 && paused && !stopping)
      pthread_cond_wait (&cond, &lock);
    go = !paused && !stopping;
    pthread_mutex_unlock (&lock);
    if (!go && inflight == 0)
      break;
    while (go && inflight < QDEPTH && issue (h, &a->s, a->disk, &inflight))
      ;
    if (inflight > 0)
      check_nbd (nbd_poll (h, -1), "nbd_poll (writer)");
  }
  disconnect (h);
  free (a);
  return NULL;
}

/* ---- snapshot readers ---- */

struct rd {
  struct disk *disk;
  uint64_t off;
  uint32_t len;
  unsigned *inflight;
  uint8_t buf[];
};

static int
read_done (void *opaque, int *error)
{
  struct rd *r = opaque;

  if (*error == EIO && r->disk->may_break)
    __atomic_add_fetch (&stat_broken_reads, 1, __ATOMIC_RELAXED);
  else if (*error != 0)
    die ("generation %" PRIu64 ": snapshot read [%" PRIu64 ", +%" PRIu32
         ") of disk '%s' failed: %s", generation, r->off, r->len,
         r->disk->name, strerror (*error));
  else {
    char what[64];

    snprintf (what, sizeof what, "snapshot read%s%.15s",
              r->disk->name[0] ? " of " : "", r->disk->name);
    compare (what, r->off, r->disk->expect + r->off, r->buf, r->len);
    __atomic_add_fetch (&stat_reads, 1, __ATOMIC_RELAXED);
  }
  (*r->inflight)--;
  free (r);
  return 1;
}

void *
reader (void *arg)
{
  struct targ *a = arg;
  struct disk *d = a->disk;
  struct nbd_handle *h = connect_to (d->snap_uri);
  unsigned issued = 0, inflight = 0;
  uint64_t g = snapshot_generation (h, d);

  if (g != generation)
    die ("a reader joined generation %" PRIu64 ", expected %" PRIu64,
         g, generation);
  while (issued < READS_PER_GEN || inflight > 0) {
    while (issued < READS_PER_GEN && inflight < QDEPTH) {
      uint64_t off;
      uint32_t len;
      struct rd *r;

      pick_range (&a->s, d, d->hot, &off, &len);
      r = malloc (sizeof *r + len);
      if (r == NULL)
        die ("malloc: %m");
      *r = (struct rd) { .disk = d, .off = off, .len = len,
                         .inflight = &inflight };
      inflight++;
      issued++;
      check_nbd (nbd_aio_pread (h, r->buf, len, off,
                                (nbd_completion_callback) {
                                  .callback = read_done, .user_data = r },
                                0) == -1 ? -1 : 0, "nbd_aio_pread");
    }
    check_nbd (nbd_poll (h, -1), "nbd_poll (reader)");
  }
  disconnect (h);
  free (a);
  return NULL;
}
