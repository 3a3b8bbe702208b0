/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the snapshot of a two-disk VM is one instant, by
 * content.
 *
 * Usage: test-fleece-cross-disk SOCKET CONTROL-SOCKET
 * (run by test-fleece-cross-disk.sh: vmdisk disk=a:... disk=b:...).
 *
 * A writer thread writes an increasing 64-bit counter to a fixed
 * offset of disk a, then the same counter to disk b, then the next one
 * to a, and so on, each write acknowledged before the next.  At every
 * instant the live counters satisfy a - b = 0 or 1.  Meanwhile snapshots
 * are taken, many of each kind:
 *   ab   connect to snapshot/a, read its counter (that read takes the
 *        snapshot), wait until the writer has moved on by three rounds,
 *        connect to snapshot/b (it joins the same snapshot), read;
 *   ba   the same, b first;
 *   ctl  snapshot-begin on the control socket, then both exports read
 *        in turn with the same wait between them, then snapshot-end;
 *        the reply's description (the whole VM's) has the exports'
 *        instant and label.
 * In every snapshot, a - b is 0 or 1; both counters are within what was
 * acknowledged before the trigger and what was in flight across it
 * (a snapshot taken later, for one disk alone, is at least two rounds
 * later, beyond what was in flight: it fails both checks); both exports' descriptions name the
 * same generation, instant and label, each with its own disk; each
 * snapshot is a new generation whose counter advanced.  Disk b's
 * counter crosses a block boundary (64K, so 4K too), disk a's is in a
 * block other than 0.
 *
 * Environment: FLEECE_CROSS_ROUNDS (snapshots of each kind, default
 * 60).  Locking: the writer publishes its acknowledged counters with
 * atomics; each libnbd handle is used by one thread only.
 */

#include <config.h>

#include <endian.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libnbd.h>

#include "fleece-cross-disk.h"

#define OFF_A (5 * 65536 + 1000)        /* block 5 (64K), 80 (4K) */
#define OFF_B (2 * 65536 - 4)           /* crosses a block boundary */
/* Between reading the two disks, the writer moves on this far past
 * what it had acknowledged on a when the snapshot was taken: then a
 * disk snapshotted at that later time shows a counter at least 2 past
 * the acknowledged one, out of range (at most 1 past) on either disk.
 */
#define ROUNDS_APART 3

static const char *const names[2] = { "a", "b" };
static const uint64_t offs[2] = { OFF_A, OFF_B };
static char live_uri[2][512], snap_uri[2][512];
static uint64_t acked[2];               /* atomic */
static bool stopping;                   /* atomic */
static uint64_t generation;             /* of the last snapshot */
static uint64_t last_a;                 /* its counter on disk a */
static unsigned diff_count[2];          /* snapshots with a - b = 0, 1 */

static uint64_t
load (const uint64_t *p)
{
  return __atomic_load_n (p, __ATOMIC_SEQ_CST);
}

static void *
writer (void *arg)
{
  struct nbd_handle *h[2] = { connect_to (live_uri[0]),
                              connect_to (live_uri[1]) };
  uint64_t n, le;
  unsigned d;

  (void) arg;
  for (n = 1; !__atomic_load_n (&stopping, __ATOMIC_SEQ_CST); n++)
    for (d = 0; d < 2; d++) {
      le = htole64 (n);
      check_nbd (nbd_pwrite (h[d], &le, sizeof le, offs[d], 0),
                 "live write");
      __atomic_store_n (&acked[d], n, __ATOMIC_SEQ_CST);
    }
  for (d = 0; d < 2; d++)
    disconnect (h[d]);
  return NULL;
}

/* Wait until the writer has acknowledged counter n on disk a. */
static void
wait_writer (uint64_t n)
{
  while (load (&acked[0]) < n)
    usleep (100);
}

static uint64_t
read_counter (struct nbd_handle *h, unsigned d)
{
  uint64_t le;

  check_nbd (nbd_pread (h, &le, sizeof le, offs[d], 0), "snapshot read");
  return le64toh (le);
}

/* One snapshot, seen on both disks.  lo: the counters acknowledged
 * before the trigger; hi: those after it (plus the one in flight).
 */
struct shot {
  const char *kind;
  uint64_t lo[2], hi[2];
  uint64_t count[2];
  struct desc desc[2];
};

static void
check_shot (const struct shot *s)
{
  unsigned d;

  for (d = 0; d < 2; d++) {
    if (s->count[d] < s->lo[d] || s->count[d] > s->hi[d] + 1)
      die ("%s snapshot, generation %" PRIu64 ": disk %s's counter is %"
           PRIu64 ", but %" PRIu64 " was acknowledged before the snapshot"
           " was taken and %" PRIu64 " right after: not that instant",
           s->kind, s->desc[d].generation, names[d], s->count[d],
           s->lo[d], s->hi[d]);
    if (strcmp (s->desc[d].disk, names[d]) != 0 || s->desc[d].index != d + 1
        || s->desc[d].total != 2
        || strncmp (s->desc[d].export, "snapshot/", 9) != 0
        || strcmp (s->desc[d].export + 9, names[d]) != 0)
      die ("%s snapshot: export snapshot/%s is named %s and describes"
           " disk %s (%u of %u)", s->kind, names[d], s->desc[d].export,
           s->desc[d].disk, s->desc[d].index, s->desc[d].total);
  }
  if (s->count[0] - s->count[1] > 1)    /* unsigned: b > a too */
    die ("%s snapshot, generation %" PRIu64 ": counter a = %" PRIu64
         ", b = %" PRIu64 ": the disks were not snapshotted at one"
         " instant", s->kind, s->desc[0].generation, s->count[0],
         s->count[1]);
  if (s->desc[0].generation != s->desc[1].generation
      || strcmp (s->desc[0].rest, s->desc[1].rest) != 0)
    die ("%s snapshot: the exports describe two snapshots:\n  %s\n  %s",
         s->kind, s->desc[0].text, s->desc[1].text);
  if (s->desc[0].generation != generation + 1)
    die ("%s snapshot: generation %" PRIu64 ", expected %" PRIu64,
         s->kind, s->desc[0].generation, generation + 1);
  if (generation > 0 && s->count[0] <= last_a)
    die ("%s snapshot, generation %" PRIu64 ": counter a = %" PRIu64
         " did not advance since the last snapshot", s->kind,
         s->desc[0].generation, s->count[0]);
  generation = s->desc[0].generation;
  last_a = s->count[0];
  diff_count[s->count[0] - s->count[1]]++;
}

static void
mark (uint64_t c[2])
{
  c[0] = load (&acked[0]);
  c[1] = load (&acked[1]);
}

/* Taken by a first read of snapshot/FIRST, joined by snapshot/other. */
static void
shot_nbd (unsigned first)
{
  struct shot s = { .kind = first == 0 ? "ab" : "ba" };
  struct nbd_handle *h[2], *again;
  unsigned other = 1 - first;

  ctl_wait_idle ();
  h[first] = connect_to (snap_uri[first]);
  if (describe (h[first], &s.desc[first]))
    die ("snapshot/%s joined a snapshot while none was active: %s",
         names[first], s.desc[first].text);
  mark (s.lo);
  s.count[first] = read_counter (h[first], first);   /* takes it */
  mark (s.hi);
  wait_writer (s.hi[0] + ROUNDS_APART);
  h[other] = connect_to (snap_uri[other]);
  if (!describe (h[other], &s.desc[other]))
    die ("snapshot/%s did not join the active snapshot", names[other]);
  s.count[other] = read_counter (h[other], other);
  again = connect_to (snap_uri[first]);   /* shows the description */
  if (!describe (again, &s.desc[first]))
    die ("snapshot/%s: a second connection did not join", names[first]);
  if (read_counter (again, first) != s.count[first])
    die ("two connections to snapshot/%s read different counters",
         names[first]);
  disconnect (again);
  disconnect (h[0]);
  disconnect (h[1]);
  check_shot (&s);
}

/* Begun and ended on the control socket; exports read in ORDER. */
static void
shot_ctl (unsigned first)
{
  struct shot s = { .kind = "ctl" };
  struct nbd_handle *h[2];
  char whole[512], *rest;
  uint64_t g;
  unsigned i, d;

  ctl_wait_idle ();
  mark (s.lo);
  g = ctl_begin (whole, sizeof whole);
  mark (s.hi);
  for (i = 0; i < 2; i++) {
    d = i == 0 ? first : 1 - first;
    if (i == 1)
      wait_writer (s.hi[0] + ROUNDS_APART);
    h[d] = connect_to (snap_uri[d]);
    if (!describe (h[d], &s.desc[d]))
      die ("snapshot/%s did not join the begun snapshot", names[d]);
    if (s.desc[d].generation != g)
      die ("snapshot-begin made generation %" PRIu64 ", snapshot/%s"
           " shows %s", g, names[d], s.desc[d].text);
    s.count[d] = read_counter (h[d], d);
  }
  if (ctl_end () != g)
    die ("snapshot-end ended another generation than %" PRIu64, g);
  /* The reply describes the whole snapshot: same instant and label. */
  rest = strstr (whole, " of 2 disks, ");
  if (rest == NULL || strcmp (rest + 13, s.desc[0].rest) != 0)
    die ("snapshot-begin's description is not the exports' snapshot:"
         "\n  %s\n  %s", whole, s.desc[0].text);
  disconnect (h[0]);
  disconnect (h[1]);
  check_shot (&s);
}

int
main (int argc, char *argv[])
{
  const char *e = getenv ("FLEECE_CROSS_ROUNDS");
  unsigned rounds = e ? atoi (e) : 60, r, kinds[3] = { 0 };
  pthread_t t;
  unsigned d;
  int err;

  if (argc != 3)
    die ("usage: test-fleece-cross-disk SOCKET CONTROL-SOCKET");
  for (d = 0; d < 2; d++) {
    snprintf (live_uri[d], sizeof live_uri[d], "nbd+unix:///%s?socket=%s",
              names[d], argv[1]);
    snprintf (snap_uri[d], sizeof snap_uri[d],
              "nbd+unix:///snapshot/%s?socket=%s", names[d], argv[1]);
  }
  ctl_open (argv[2]);
  err = pthread_create (&t, NULL, writer, NULL);
  if (err != 0)
    die ("pthread_create: %s", strerror (err));
  wait_writer (1);
  for (r = 0; r < 3 * rounds; r++) {
    unsigned kind = r % 3;

    if (kind < 2)
      shot_nbd (kind);
    else
      shot_ctl (r / 3 % 2);
    kinds[kind]++;
  }
  __atomic_store_n (&stopping, true, __ATOMIC_SEQ_CST);
  pthread_join (t, NULL);
  printf ("test-fleece-cross-disk: ok: %u snapshots a then b, %u b then a,"
          " %u by the control socket; a - b = 0 in %u, 1 in %u;"
          " counter %" PRIu64 " at the end\n",
          kinds[0], kinds[1], kinds[2], diff_count[0], diff_count[1],
          load (&acked[0]));
  /* Both outcomes seen: the snapshots really raced the writer. */
  if (rounds >= 10 && (diff_count[0] == 0 || diff_count[1] == 0))
    die ("every snapshot fell on the same side of a write pair: the"
         " test did not race the writer");
  return 0;
}
