/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: concurrency stress test of the fleece filter.
 *
 * Usage: test-fleece-stress SOCKET BLOCK-SIZE  (run by test-fleece-stress.sh)
 *
 * Several live writer threads (one libnbd handle each, several
 * asynchronous requests in flight) hammer random, unaligned,
 * overlapping ranges of the live export with writes, zeroes and trims,
 * half of them in a small hot zone that keeps moving, so concurrent
 * requests share fleece blocks that are being copied.  Meanwhile,
 * over many generations, a controller takes a snapshot (by opening the
 * snapshot export), reader threads read random ranges of it (half in
 * the hot zone), and every result is checked by content:
 *
 *   I4  the live image equals `model`, the image built from every
 *       acknowledged request, checked at the end of each generation.
 *   I1-I3  each generation's snapshot equals `expect`: the model
 *       captured just before the snapshot was opened, plus each
 *       request that was in flight across the open either entirely or
 *       not at all (the filter's barrier drains whole requests), and
 *       consistently with one instant (a request acknowledged before
 *       another was issued cannot be out if the other is in).
 *       Everything acknowledged before the open is in it; nothing
 *       issued after the open completed is.  A write let through
 *       before its block is preserved, a block copied twice, a read
 *       not held against a concurrent copy, all end up as new data in
 *       the snapshot: every reader read and one full read per
 *       generation compare it.
 *
 * The model is exact because the test never has two of its own
 * requests in flight on overlapping bytes (the range table below),
 * although they often share a fleece block.  Requests in flight when a
 * snapshot is opened, and those issued while it is being opened, stay
 * in the table until the open has completed, so that they never
 * overlap each other either.
 *
 * Trim is modelled as zeroing: true of the memory, file and vmdisk
 * plugins the wrapper uses.  Environment: FLEECE_STRESS_GENERATIONS
 * (default 20, more for a soak), FLEECE_STRESS_SEED,
 * FLEECE_STRESS_READERS (default 3, at most 16), FLEECE_STRESS_EXPECT
 * (none, refused or broken: see fleece-stress.h), and
 * FLEECE_STRESS_NO_SNAPSHOT=1 (only the live model: to check the test
 * itself against a plugin without the filter).
 *
 * The test is in three files (fleece-stress.h lists them); this one
 * holds the shared state, the controller and main.
 *
 * Locking: see fleece-stress.h.
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
#include <time.h>
#include <unistd.h>

#include <libnbd.h>

#include "fleece-stress.h"
#include "minmax.h"

#define NWRITERS 4
#define MAXREADERS 16
#define PRE_OPS 300             /* writer ops between generations */
#define HOT_BLOCKS 32

const char *op_name[] = { "write", "zero", "trim" };
char live_uri[512], snap_uri[512];
uint64_t size;
uint32_t bs;
uint64_t hot;

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
uint8_t *model, *expect;
struct req *table[MAXREQ];
size_t ntable;
bool window_open, paused, stopping;
uint64_t ops_done, inflight_total;
uint64_t generation;
uint64_t stat_reads;
enum expect_failures expect_failures;
uint64_t stat_refused, stat_broken_reads;
static uint64_t stat_broken_gens;

static uint64_t stat_amb_in, stat_amb_out;
static double stat_open_max_ms, stat_open_total_ms;
static bool no_snapshot;        /* checks the live model only */
static unsigned nreaders = 3;

/* Data in 3 of every 4 64K chunks, holes in the rest. */
static void
prefill (struct nbd_handle *live)
{
  const uint32_t n = 65536;
  uint64_t off;

  memset (model, 0, size);
  read_all (live, model, "initial image (must be all zero)", false);
  for (off = 0; off < size; off += n) {
    uint32_t len = size - off < n ? size - off : n;

    if ((off / n) % 4 == 3)
      continue;
    fill (model + off, OP_WRITE, 1, off, len);
    check_nbd (nbd_pwrite (live, model + off, len, off, 0), "prefill");
  }
}

/* ---- the controller ---- */

struct amb {
  uint64_t off;
  uint32_t len;
  enum op op;
  uint64_t seq;
  uint64_t issue_tick, ack_tick; /* ack_tick: UINT64_MAX if not yet */
  int in;                        /* in the snapshot: 1, 0, -1 unknown */
};

/* Open the snapshot export, creating the next generation.  EXPECT gets
 * the model from just before the open; *AMB the requests in flight
 * across it.
 */
static struct nbd_handle *
open_snapshot (struct amb **amb, size_t *namb)
{
  struct nbd_handle *h;
  struct timespec t0, t1;
  double ms;
  unsigned attempt;
  size_t i;
  uint64_t g;

  for (attempt = 0;; attempt++) {
    pthread_mutex_lock (&lock);
    memcpy (expect, model, size);
    for (i = 0; i < ntable; i++)
      table[i]->ambiguous = true;
    window_open = true;
    pthread_mutex_unlock (&lock);

    clock_gettime (CLOCK_MONOTONIC, &t0);
    h = connect_to (snap_uri);
    snapshot_take (h);          /* its first read takes the snapshot */
    clock_gettime (CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    stat_open_total_ms += ms;
    if (ms > stat_open_max_ms)
      stat_open_max_ms = ms;

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
          .off = r->off, .len = r->len, .op = r->op, .seq = r->seq,
          .issue_tick = r->issue_tick,
          .ack_tick = r->acked ? r->ack_tick : UINT64_MAX };
      r->ambiguous = false;
      if (r->acked)
        remove_req (r);         /* moves the last entry to i */
      else
        i++;
    }
    pthread_cond_broadcast (&cond);
    pthread_mutex_unlock (&lock);

    g = snapshot_generation_of (h, snap_uri);
    if (g == generation + 1)
      break;
    /* The server has not yet processed the close of the previous
     * generation's last connection, so we joined it: try again.
     */
    if (g != generation || attempt >= 5000)
      die ("snapshot generation %" PRIu64 ", expected %" PRIu64,
           g, generation + 1);
    disconnect (h);
    free (*amb);
    usleep (1000);
  }
  generation = g;
  return h;
}

/* Each request in flight across the open is in the snapshot entirely
 * or not at all: find which, and put it into EXPECT.  And the snapshot
 * is one instant: a request acknowledged before another was issued
 * cannot be missing from the snapshot if the later one is in it.
 */
static void
resolve (struct nbd_handle *snap, struct amb *amb, size_t namb)
{
  uint64_t min_ack_out = UINT64_MAX;
  size_t i;

  for (i = 0; i < namb; i++) {
    struct amb *a = &amb[i];
    uint8_t *got = malloc (a->len), *new = malloc (a->len);
    bool old_ok, new_ok;

    if (got == NULL || new == NULL)
      die ("malloc: %m");
    if (nbd_pread (snap, got, a->len, a->off, 0) == -1) {
      if (expect_failures == EXPECT_BROKEN && nbd_get_errno () == EIO) {
        free (got);
        free (new);
        return;                 /* broken: nothing more to resolve */
      }
      check_nbd (-1, "snapshot pread");
    }
    fill (new, a->op, a->seq, a->off, a->len);
    old_ok = memcmp (got, expect + a->off, a->len) == 0;
    new_ok = memcmp (got, new, a->len) == 0;
    if (!old_ok && !new_ok) {
      fprintf (stderr, "test-fleece-stress: live %s seq %" PRIu64
               " [%" PRIu64 ", +%" PRIu32 ") was in flight across the open"
               " of generation %" PRIu64 ": the snapshot must have all"
               " of it or none; compared with none:\n",
               op_name[a->op], a->seq, a->off, a->len, generation);
      compare ("in-flight request", a->off, expect + a->off, got, a->len);
    }
    a->in = old_ok && new_ok ? -1 : new_ok;
    if (a->in == 0 && a->ack_tick < min_ack_out)
      min_ack_out = a->ack_tick;
    if (a->in == 1)
      memcpy (expect + a->off, new, a->len);
    stat_amb_in += a->in == 1;
    stat_amb_out += a->in == 0;
    free (got);
    free (new);
  }
  for (i = 0; i < namb; i++)
    if (amb[i].in == 1 && amb[i].issue_tick > min_ack_out)
      die ("generation %" PRIu64 ": live %s seq %" PRIu64 " [%" PRIu64
           ", +%" PRIu32 ") is in the snapshot, but a request acknowledged"
           " before it was issued is not: not one point in time",
           generation, op_name[amb[i].op], amb[i].seq, amb[i].off,
           amb[i].len);
}

static void
run_generation (struct nbd_handle *live, uint64_t seed)
{
  pthread_t readers[MAXREADERS];
  struct nbd_handle *snap;
  struct amb *amb;
  size_t namb;
  uint64_t target;
  unsigned i;

  pthread_mutex_lock (&lock);
  for (target = ops_done + PRE_OPS; ops_done < target;)
    pthread_cond_wait (&cond, &lock);
  pthread_mutex_unlock (&lock);

  if (!no_snapshot) {
    snap = open_snapshot (&amb, &namb);
    resolve (snap, amb, namb);
    free (amb);
    for (i = 0; i < nreaders; i++)
      start_thread (&readers[i], reader, seed + i);
    for (i = 0; i < nreaders; i++)
      pthread_join (readers[i], NULL);
    if (!read_all (snap, expect, "full snapshot read",
                   expect_failures == EXPECT_BROKEN))
      stat_broken_gens++;
    disconnect (snap);
  }

  pthread_mutex_lock (&lock);
  paused = true;
  while (inflight_total > 0)
    pthread_cond_wait (&cond, &lock);
  pthread_mutex_unlock (&lock);
  read_all (live, model, "live image vs model", false);
  pthread_mutex_lock (&lock);
  paused = false;
  pthread_cond_broadcast (&cond);
  pthread_mutex_unlock (&lock);
}

int
main (int argc, char *argv[])
{
  const char *e = getenv ("FLEECE_STRESS_GENERATIONS");
  unsigned generations = e ? atoi (e) : 20, g;
  uint64_t seed;
  struct nbd_handle *live;
  pthread_t writers[NWRITERS];
  struct timespec t0, t1;
  unsigned i;

  if (argc != 3)
    die ("usage: test-fleece-stress SOCKET BLOCK-SIZE");
  snprintf (live_uri, sizeof live_uri, "nbd+unix:///?socket=%s", argv[1]);
  snprintf (snap_uri, sizeof snap_uri,
            "nbd+unix:///snapshot?socket=%s", argv[1]);
  bs = atoi (argv[2]);
  e = getenv ("FLEECE_STRESS_SEED");
  seed = e ? strtoull (e, NULL, 0) : 1;
  no_snapshot = getenv ("FLEECE_STRESS_NO_SNAPSHOT") != NULL;
  e = getenv ("FLEECE_STRESS_EXPECT");
  if (e == NULL || strcmp (e, "none") == 0)
    expect_failures = EXPECT_NONE;
  else if (strcmp (e, "refused") == 0)
    expect_failures = EXPECT_REFUSED;
  else if (strcmp (e, "broken") == 0)
    expect_failures = EXPECT_BROKEN;
  else
    die ("FLEECE_STRESS_EXPECT=%s: use none, refused or broken", e);
  e = getenv ("FLEECE_STRESS_READERS");
  if (e && (nreaders = atoi (e)) > MAXREADERS)
    nreaders = MAXREADERS;
  clock_gettime (CLOCK_MONOTONIC, &t0);

  live = connect_to (live_uri);
  size = nbd_get_size (live);
  hot = MIN (size / 4, HOT_BLOCKS * (uint64_t) bs);
  model = malloc (size);
  expect = malloc (size);
  if (model == NULL || expect == NULL)
    die ("malloc: %m");
  prefill (live);

  for (i = 0; i < NWRITERS; i++)
    start_thread (&writers[i], writer, seed * 1000 + i);
  for (g = 1; g <= generations; g++)
    run_generation (live, seed * 1000 + 100 + g * MAXREADERS);

  pthread_mutex_lock (&lock);
  stopping = true;
  pthread_cond_broadcast (&cond);
  pthread_mutex_unlock (&lock);
  for (i = 0; i < NWRITERS; i++)
    pthread_join (writers[i], NULL);
  read_all (live, model, "final live image vs model", false);
  disconnect (live);

  clock_gettime (CLOCK_MONOTONIC, &t1);
  printf ("test-fleece-stress: ok: %u generations, %" PRIu64
          " live requests, %" PRIu64 " snapshot reads checked, %" PRIu64
          " requests in flight across an open (%" PRIu64 " in, %" PRIu64
          " out), snapshot open %.1f ms on average, %.1f ms at most,"
          " %.1f s\n",
          generations, ops_done, stat_reads, stat_amb_in + stat_amb_out,
          stat_amb_in, stat_amb_out,
          generations ? stat_open_total_ms / generations : 0.0,
          stat_open_max_ms,
          (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  /* A run that expected failures and saw none proved nothing. */
  if (expect_failures == EXPECT_REFUSED && stat_refused == 0)
    die ("FLEECE_STRESS_EXPECT=refused, but no live request was refused");
  if (expect_failures == EXPECT_BROKEN && stat_broken_gens == 0)
    die ("FLEECE_STRESS_EXPECT=broken, but no generation broke");
  if (expect_failures == EXPECT_REFUSED)
    printf ("test-fleece-stress: %" PRIu64 " live requests refused with "
            "ENOSPC, none reached the plugin\n", stat_refused);
  if (expect_failures == EXPECT_BROKEN)
    printf ("test-fleece-stress: %" PRIu64 " generations broke, %" PRIu64
            " snapshot reads failed with EIO, every other read exact\n",
            stat_broken_gens, stat_broken_reads);
  free (model);
  free (expect);
  return 0;
}
