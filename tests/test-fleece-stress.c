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
 * Several disks at once (FLEECE_STRESS_DISKS=N: vmdisk's disk=dI:...,
 * live exports d0..dN-1, snapshot exports snapshot/d0..): one model per
 * disk, the writers spread over the disks, each generation taken
 * through a random disk's snapshot export and joined by every other
 * disk's, which must show the same generation and, by content, its
 * own model at that same instant (I1-I3 across disks: one range table
 * and one order of issues and acknowledgements for all of them).
 * Without it, the single export "" and its snapshot export "snapshot".
 *
 * Trim is modelled as zeroing: true of the memory, file and vmdisk
 * plugins the wrapper uses.  Environment: FLEECE_STRESS_GENERATIONS
 * (default 20, more for a soak), FLEECE_STRESS_SEED,
 * FLEECE_STRESS_READERS (default 3, at most 16), FLEECE_STRESS_DISKS
 * (at most 8), FLEECE_STRESS_EXPECT (none, refused, broken or
 * broken:NAME: see fleece-stress.h; such a run goes on, up to 4 times
 * the generations, until the failure has shown), and
 * FLEECE_STRESS_NO_SNAPSHOT=1
 * (only the live model: to check the test itself against a plugin
 * without the filter).
 *
 * The test is in four files (fleece-stress.h lists them); this one
 * holds the shared state, the generations and main.
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

#define NWRITERS 4u             /* at least; one a disk if more disks */
#define MAXREADERS 16
#define PRE_OPS 300             /* writer ops between generations */
#define HOT_BLOCKS 32

const char *op_name[] = { "write", "zero", "trim" };
struct disk disks[MAXDISKS];
unsigned ndisks = 1;
uint32_t bs;

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
struct req *table[MAXREQ];
size_t ntable;
bool window_open, paused, stopping;
uint64_t ops_done, inflight_total;
uint64_t generation;
uint64_t stat_reads;
enum expect_failures expect_failures;
uint64_t stat_refused, stat_broken_reads;
static uint64_t stat_broken_gens[MAXDISKS];

static bool no_snapshot;        /* checks the live model only */
static unsigned nreaders = 3;

/* Data in 3 of every 4 64K chunks of D, holes in the rest. */
static void
prefill (struct nbd_handle *live, struct disk *d)
{
  const uint32_t n = 65536;
  uint64_t off;

  memset (d->model, 0, d->size);
  read_all (live, d->size, d->model, "initial image (must be all zero)",
            false);
  for (off = 0; off < d->size; off += n) {
    uint32_t len = d->size - off < n ? d->size - off : n;

    if ((off / n) % 4 == 3)
      continue;
    fill (d->model + off, OP_WRITE, 1, off, len);
    check_nbd (nbd_pwrite (live, d->model + off, len, off, 0), "prefill");
  }
}

/* After the readers: read all of every disk's snapshot, then close. */
static void
check_snapshot (struct snapshot *snap)
{
  char what[64];
  unsigned d;

  for (d = 0; d < ndisks; d++) {
    snprintf (what, sizeof what, "full snapshot read%s%.15s",
              disks[d].name[0] ? " of " : "", disks[d].name);
    if (snap->broken[d]
        || !read_all (snap->h[d], disks[d].size, disks[d].expect, what,
                      disks[d].may_break))
      stat_broken_gens[d]++;
    disconnect (snap->h[d]);
  }
}

static void
run_generation (struct nbd_handle **live, uint64_t seed)
{
  pthread_t readers[MAXREADERS];
  struct snapshot snap;
  uint64_t target, s = seed * 2 + 1;
  char what[64];
  unsigned i;

  pthread_mutex_lock (&lock);
  for (target = ops_done + PRE_OPS; ops_done < target;)
    pthread_cond_wait (&cond, &lock);
  pthread_mutex_unlock (&lock);

  if (!no_snapshot) {
    open_snapshot (&snap, &s);
    resolve (&snap);
    for (i = 0; i < nreaders; i++)
      start_thread (&readers[i], reader, seed + i,
                    &disks[(generation + i) % ndisks]);
    for (i = 0; i < nreaders; i++)
      pthread_join (readers[i], NULL);
    check_snapshot (&snap);
  }

  pthread_mutex_lock (&lock);
  paused = true;
  while (inflight_total > 0)
    pthread_cond_wait (&cond, &lock);
  pthread_mutex_unlock (&lock);
  for (i = 0; i < ndisks; i++) {
    snprintf (what, sizeof what, "live image vs model%s%.15s",
              disks[i].name[0] ? " of " : "", disks[i].name);
    read_all (live[i], disks[i].size, disks[i].model, what, false);
  }
  pthread_mutex_lock (&lock);
  paused = false;
  pthread_cond_broadcast (&cond);
  pthread_mutex_unlock (&lock);
}

/* FLEECE_STRESS_DISKS and FLEECE_STRESS_EXPECT: name the disks and
 * say which may break.
 */
static void
set_disks (const char *socket)
{
  const char *e = getenv ("FLEECE_STRESS_DISKS"), *only = NULL;
  unsigned d;

  if (e && ((ndisks = atoi (e)) < 1 || ndisks > MAXDISKS))
    die ("FLEECE_STRESS_DISKS=%s: use 1 to %d", e, MAXDISKS);
  for (d = 0; d < ndisks; d++) {
    struct disk *dk = &disks[d];
    char name[16] = "";

    if (e)
      snprintf (name, sizeof name, "d%u", d);
    memcpy (dk->name, name, sizeof name);
    snprintf (dk->live_uri, sizeof dk->live_uri,
              "nbd+unix:///%s?socket=%s", name, socket);
    snprintf (dk->snap_uri, sizeof dk->snap_uri,
              "nbd+unix:///snapshot%s%s?socket=%s", e ? "/" : "",
              name, socket);
  }
  e = getenv ("FLEECE_STRESS_EXPECT");
  if (e == NULL || strcmp (e, "none") == 0)
    expect_failures = EXPECT_NONE;
  else if (strcmp (e, "refused") == 0)
    expect_failures = EXPECT_REFUSED;
  else if (strncmp (e, "broken", 6) == 0 && (e[6] == 0 || e[6] == ':')) {
    expect_failures = EXPECT_BROKEN;
    only = e[6] ? e + 7 : NULL;
  }
  else
    die ("FLEECE_STRESS_EXPECT=%s: use none, refused, broken or"
         " broken:NAME", e);
  for (d = 0; d < ndisks; d++)
    disks[d].may_break = expect_failures == EXPECT_BROKEN
      && (only == NULL || strcmp (only, disks[d].name) == 0);
  if (only && !(ndisks > 1 || disks[0].name[0])) /* named disks only */
    die ("FLEECE_STRESS_EXPECT=%s needs FLEECE_STRESS_DISKS", e);
  for (d = 0; only && d < ndisks && !disks[d].may_break; d++)
    ;
  if (only && d == ndisks)
    die ("FLEECE_STRESS_EXPECT=%s: no such disk", e);
}

/* Connect to every live export, size the disks, prefill them. */
static void
open_disks (struct nbd_handle **live)
{
  unsigned d;

  for (d = 0; d < ndisks; d++) {
    struct disk *dk = &disks[d];

    live[d] = connect_to (dk->live_uri);
    dk->size = nbd_get_size (live[d]);
    dk->hot = MIN (dk->size / 4, HOT_BLOCKS * (uint64_t) bs);
    dk->model = malloc (dk->size);
    dk->expect = malloc (dk->size);
    if (dk->model == NULL || dk->expect == NULL)
      die ("malloc: %m");
    prefill (live[d], dk);
  }
}

/* Generations that broke, over all disks. */
static uint64_t
broken_total (void)
{
  uint64_t broken = 0;
  unsigned d;

  for (d = 0; d < ndisks; d++)
    broken += stat_broken_gens[d];
  return broken;
}

/* Whether the failure the run expects has come (none expected: yes). */
static bool
expected_seen (void)
{
  switch (expect_failures) {
  case EXPECT_REFUSED:
    return __atomic_load_n (&stat_refused, __ATOMIC_RELAXED) > 0;
  case EXPECT_BROKEN: return broken_total () > 0;
  default: return true;
  }
}

/* The summary, and a failure if an expected failure never came. */
static void
report (unsigned generations, double secs)
{
  unsigned d;

  printf ("test-fleece-stress: ok: %u generations over %u disk%s, %"
          PRIu64 " live requests, %" PRIu64 " snapshot reads checked, %"
          PRIu64 " requests in flight across an open (%" PRIu64 " in, %"
          PRIu64 " out), snapshot open %.1f ms on average, %.1f ms at"
          " most, %.1f s\n",
          generations, ndisks, ndisks > 1 ? "s" : "", ops_done,
          stat_reads, stat_amb_in + stat_amb_out, stat_amb_in,
          stat_amb_out,
          generations ? stat_open_total_ms / generations : 0.0,
          stat_open_max_ms, secs);
  /* A run that expected failures and saw none proved nothing. */
  if (!expected_seen ())
    die ("FLEECE_STRESS_EXPECT=%s, but in %u generations no %s",
         expect_failures == EXPECT_REFUSED ? "refused" : "broken",
         generations, expect_failures == EXPECT_REFUSED
         ? "live request was refused" : "generation broke");
  if (expect_failures == EXPECT_REFUSED)
    printf ("test-fleece-stress: %" PRIu64 " live requests refused with "
            "ENOSPC, none reached the plugin\n", stat_refused);
  if (expect_failures == EXPECT_BROKEN)
    printf ("test-fleece-stress: %" PRIu64 " generations broke, %" PRIu64
            " snapshot reads failed with EIO, every other read exact\n",
            broken_total (), stat_broken_reads);
  for (d = 0; expect_failures == EXPECT_BROKEN && ndisks > 1
         && d < ndisks; d++)
    printf ("test-fleece-stress: disk %s: %" PRIu64 " generations broke%s\n",
            disks[d].name, stat_broken_gens[d],
            disks[d].may_break ? "" : " (may not break)");
}

int
main (int argc, char *argv[])
{
  const char *e = getenv ("FLEECE_STRESS_GENERATIONS");
  unsigned generations = e ? atoi (e) : 20, g;
  uint64_t seed;
  struct nbd_handle *live[MAXDISKS];
  pthread_t writers[MAXDISKS > NWRITERS ? MAXDISKS : NWRITERS];
  unsigned nwriters, i;
  struct timespec t0, t1;

  if (argc != 3)
    die ("usage: test-fleece-stress SOCKET BLOCK-SIZE");
  set_disks (argv[1]);
  bs = atoi (argv[2]);
  e = getenv ("FLEECE_STRESS_SEED");
  seed = e ? strtoull (e, NULL, 0) : 1;
  no_snapshot = getenv ("FLEECE_STRESS_NO_SNAPSHOT") != NULL;
  e = getenv ("FLEECE_STRESS_READERS");
  if (e && (nreaders = atoi (e)) > MAXREADERS)
    nreaders = MAXREADERS;
  clock_gettime (CLOCK_MONOTONIC, &t0);

  open_disks (live);
  nwriters = MAX (NWRITERS, ndisks);
  for (i = 0; i < nwriters; i++)
    start_thread (&writers[i], writer, seed * 1000 + i,
                  &disks[i % ndisks]);
  /* A run that expects a failure goes on, up to 4 times as many
   * generations, until one has shown: when a store fills depends on
   * the machine's speed, and a generation that breaks after the test's
   * last read of it shows nothing.
   */
  for (g = 1; g <= generations ||
         (g <= 4 * generations && !expected_seen ()); g++)
    run_generation (live, seed * 1000 + 100 + g * MAXREADERS);

  pthread_mutex_lock (&lock);
  stopping = true;
  pthread_cond_broadcast (&cond);
  pthread_mutex_unlock (&lock);
  for (i = 0; i < nwriters; i++)
    pthread_join (writers[i], NULL);
  for (i = 0; i < ndisks; i++) {
    read_all (live[i], disks[i].size, disks[i].model,
              "final live image vs model", false);
    disconnect (live[i]);
    free (disks[i].model);
    free (disks[i].expect);
  }

  clock_gettime (CLOCK_MONOTONIC, &t1);
  report (g - 1,
          (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}
