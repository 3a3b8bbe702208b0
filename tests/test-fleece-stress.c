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
 * FLEECE_STRESS_READERS (default 3, at most 16), and
 * FLEECE_STRESS_NO_SNAPSHOT=1 (only the live model: to check the test
 * itself against a plugin without the filter).
 *
 * Locking: `lock` protects model, the range table, the counters and
 * the flags.  `expect` is written by the controller only while no
 * reader runs.  Each libnbd handle is used by one thread only.
 */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libnbd.h>

#include "minmax.h"

#define NWRITERS 4
#define MAXREADERS 16
#define QDEPTH 4
#define MAXREQ 4096             /* in flight, plus held across an open */
#define PRE_OPS 300             /* writer ops between generations */
#define READS_PER_GEN 300       /* per reader */
#define CHUNK (1024 * 1024)
#define HOT_BLOCKS 32
#define HOT_MOVE 64

enum op { OP_WRITE, OP_ZERO, OP_TRIM };
static const char *op_name[] = { "write", "zero", "trim" };

struct req {
  uint64_t off;
  uint32_t len;
  enum op op;
  uint64_t seq;                 /* identifies the data of a write */
  uint64_t issue_tick, ack_tick; /* order of issues and acks */
  bool ambiguous;               /* in flight across a snapshot open */
  bool acked;
  unsigned *inflight;           /* the issuing thread's counter */
  uint8_t *buf;
};

static char live_uri[512], snap_uri[512];
static uint64_t size;
static uint32_t bs;
static uint64_t hot;            /* bytes in the hot zone */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static uint8_t *model, *expect;
static struct req *table[MAXREQ];
static size_t ntable;
static bool window_open, paused, stopping;
static uint64_t next_seq = 2, ops_done, inflight_total, tick;
static uint64_t generation;      /* current snapshot generation */
static uint64_t stat_reads, stat_amb_in, stat_amb_out;
static double stat_open_max_ms, stat_open_total_ms;
static bool no_snapshot;        /* checks the live model only */
static unsigned nreaders = 3;

/* The first thread to fail reports; the others wait for _exit. */
static void
claim_failure (void)
{
  static int failed;
  static __thread bool mine;

  if (mine)
    return;
  if (__atomic_exchange_n (&failed, 1, __ATOMIC_SEQ_CST))
    for (;;)
      pause ();
  mine = true;
}

static void __attribute__ ((noreturn, format (printf, 1, 2)))
die (const char *fs, ...)
{
  va_list args;

  claim_failure ();
  fprintf (stderr, "test-fleece-stress: FAIL: ");
  va_start (args, fs);
  vfprintf (stderr, fs, args);
  va_end (args);
  fprintf (stderr, "\n");
  fflush (stderr);
  _exit (1);
}

static void
check_nbd (int r, const char *what)
{
  if (r == -1)
    die ("%s: %s", what, nbd_get_error ());
}

/* The byte a write with sequence number SEQ puts at disk offset X. */
static uint8_t
data_byte (uint64_t seq, uint64_t x)
{
  uint64_t z = seq * UINT64_C (0x9e3779b97f4a7c15) + (x >> 3);

  z = (z ^ (z >> 30)) * UINT64_C (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C (0x94d049bb133111eb);
  z ^= z >> 31;
  return z >> (8 * (x & 7));
}

static void
fill (uint8_t *buf, enum op op, uint64_t seq, uint64_t off, uint32_t len)
{
  uint32_t i;

  if (op != OP_WRITE)
    memset (buf, 0, len);
  else
    for (i = 0; i < len; i++)
      buf[i] = data_byte (seq, off + i);
}

/* Compare GOT with EXPECTED for [OFF, OFF+LEN); die on a mismatch. */
static void
compare (const char *what, uint64_t off, const uint8_t *expected,
         const uint8_t *got, size_t len)
{
  size_t i, j;

  if (memcmp (expected, got, len) == 0)
    return;
  claim_failure ();
  for (i = 0; expected[i] == got[i]; i++)
    ;
  fprintf (stderr, "test-fleece-stress: %s, generation %" PRIu64
           ": mismatch at offset %" PRIu64 " (read of [%" PRIu64
           ", +%zu))\n  expected:", what, generation, off + i, off, len);
  for (j = i; j < len && j < i + 16; j++)
    fprintf (stderr, " %02x", expected[j]);
  fprintf (stderr, "\n  got:     ");
  for (j = i; j < len && j < i + 16; j++)
    fprintf (stderr, " %02x", got[j]);
  fprintf (stderr, "\n");
  die ("%s: content mismatch", what);
}

static uint64_t
rnd (uint64_t *s)               /* xorshift64* */
{
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * UINT64_C (2685821657736338717);
}

/* The hot zone: HOT bytes that jump to a new place every HOT_MOVE
 * completed live requests.  A fixed zone would be all preserved soon
 * after each snapshot is taken; a moving one keeps readers meeting
 * blocks that are being copied right now.
 */
static uint64_t
hot_base (void)
{
  uint64_t z = __atomic_load_n (&ops_done, __ATOMIC_RELAXED) / HOT_MOVE;

  z *= UINT64_C (0x9e3779b97f4a7c15);
  z ^= z >> 29;
  return z % ((size - hot) / bs + 1) * bs;
}

/* A random range, half of them in the hot zone: 1 byte to a block
 * mostly, up to 4 blocks, and sometimes up to BIG bytes.
 */
static void
pick_range (uint64_t *s, uint32_t big, uint64_t *off, uint32_t *len)
{
  bool in_hot = rnd (s) % 2;
  uint64_t base = in_hot ? hot_base () : 0, zone = in_hot ? hot : size;
  unsigned k = rnd (s) % 8;
  uint32_t max = k < 2 ? 512 : k < 5 ? bs : k < 7 ? 4 * bs : big;

  *len = 1 + rnd (s) % max;
  if (*len > zone)
    *len = zone;
  *off = base + rnd (s) % (zone - *len + 1);
}

static struct nbd_handle *
connect_to (const char *uri)
{
  struct nbd_handle *h = nbd_create ();

  if (h == NULL)
    die ("nbd_create: %s", nbd_get_error ());
  check_nbd (nbd_set_full_info (h, true), "nbd_set_full_info");
  check_nbd (nbd_connect_uri (h, uri), uri);
  return h;
}

static void
disconnect (struct nbd_handle *h)
{
  check_nbd (nbd_shutdown (h, 0), "nbd_shutdown");
  nbd_close (h);
}

/* The generation number in a snapshot connection's description. */
static uint64_t
snapshot_generation (struct nbd_handle *h)
{
  char *d = nbd_get_export_description (h);
  uint64_t g;

  if (d == NULL)
    die ("snapshot export has no description: %s", nbd_get_error ());
  if (sscanf (d, "fleece snapshot generation %" SCNu64 ",", &g) != 1)
    die ("unexpected snapshot description: %s", d);
  free (d);
  return g;
}

/* Sync full read of H compared with IMAGE. */
static void
read_all (struct nbd_handle *h, const uint8_t *image, const char *what)
{
  uint8_t *buf = malloc (CHUNK);
  uint64_t off;
  size_t n;

  if (buf == NULL)
    die ("malloc: %m");
  for (off = 0; off < size; off += n) {
    n = size - off < CHUNK ? size - off : CHUNK;
    check_nbd (nbd_pread (h, buf, n, off, 0), what);
    compare (what, off, image + off, buf, n);
  }
  free (buf);
}

static void
start_thread (pthread_t *t, void *(*fn) (void *), uint64_t seed)
{
  uint64_t *s = malloc (sizeof *s);
  int r;

  if (s == NULL)
    die ("malloc: %m");
  *s = seed * 2 + 1;
  r = pthread_create (t, NULL, fn, s);
  if (r != 0) {
    errno = r;
    die ("pthread_create: %m");
  }
}

/* Data in 3 of every 4 64K chunks, holes in the rest. */
static void
prefill (struct nbd_handle *live)
{
  const uint32_t n = 65536;
  uint64_t off;

  memset (model, 0, size);
  read_all (live, model, "initial image (must be all zero)");
  for (off = 0; off < size; off += n) {
    uint32_t len = size - off < n ? size - off : n;

    if ((off / n) % 4 == 3)
      continue;
    fill (model + off, OP_WRITE, 1, off, len);
    check_nbd (nbd_pwrite (live, model + off, len, off, 0), "prefill");
  }
}

/* ---- live writers ---- */

static bool
overlaps (uint64_t off, uint32_t len)
{
  size_t i;

  for (i = 0; i < ntable; i++)
    if (off < table[i]->off + table[i]->len && table[i]->off < off + len)
      return true;
  return false;
}

/* Call with lock held. */
static void
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

  if (*error != 0)
    die ("live %s [%" PRIu64 ", +%" PRIu32 ") failed: %s",
         op_name[r->op], r->off, r->len, strerror (*error));
  pthread_mutex_lock (&lock);
  if (r->op == OP_WRITE)
    memcpy (model + r->off, r->buf, r->len);
  else
    memset (model + r->off, 0, r->len);
  __atomic_add_fetch (&ops_done, 1, __ATOMIC_RELAXED);
  inflight_total--;
  (*r->inflight)--;
  r->acked = true;
  r->ack_tick = ++tick;
  /* Across a snapshot open, keep the range locked until it completes. */
  if (!(window_open && r->ambiguous))
    remove_req (r);
  pthread_cond_broadcast (&cond);
  pthread_mutex_unlock (&lock);
  return 1;
}

/* Issue one random request on a free byte range; false if none found. */
static bool
issue (struct nbd_handle *h, uint64_t *s, unsigned *inflight)
{
  struct req *r = calloc (1, sizeof *r);
  nbd_completion_callback cb = { .callback = write_done, .user_data = r };
  unsigned k = rnd (s) % 10, tries;
  int64_t c;

  if (r == NULL)
    die ("calloc: %m");
  r->op = k < 8 ? OP_WRITE : k == 8 ? OP_ZERO : OP_TRIM;
  r->inflight = inflight;
  for (tries = 0; tries < 16; tries++) {
    pick_range (s, 4 * bs, &r->off, &r->len);
    pthread_mutex_lock (&lock);
    if (ntable < MAXREQ && !overlaps (r->off, r->len)) {
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

static void *
writer (void *arg)
{
  uint64_t *s = arg;
  struct nbd_handle *h = connect_to (live_uri);
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
    while (go && inflight < QDEPTH && issue (h, s, &inflight))
      ;
    if (inflight > 0)
      check_nbd (nbd_poll (h, -1), "nbd_poll (writer)");
  }
  disconnect (h);
  free (s);
  return NULL;
}

/* ---- snapshot readers ---- */

struct rd {
  uint64_t off;
  uint32_t len;
  unsigned *inflight;
  uint8_t buf[];
};

static int
read_done (void *opaque, int *error)
{
  struct rd *r = opaque;

  if (*error != 0)
    die ("generation %" PRIu64 ": snapshot read [%" PRIu64 ", +%" PRIu32
         ") failed: %s", generation, r->off, r->len, strerror (*error));
  compare ("snapshot read", r->off, expect + r->off, r->buf, r->len);
  (*r->inflight)--;
  __atomic_add_fetch (&stat_reads, 1, __ATOMIC_RELAXED);
  free (r);
  return 1;
}

static void *
reader (void *arg)
{
  uint64_t *s = arg;
  struct nbd_handle *h = connect_to (snap_uri);
  unsigned issued = 0, inflight = 0;
  uint64_t g = snapshot_generation (h);

  if (g != generation)
    die ("a reader joined generation %" PRIu64 ", expected %" PRIu64,
         g, generation);
  while (issued < READS_PER_GEN || inflight > 0) {
    while (issued < READS_PER_GEN && inflight < QDEPTH) {
      uint64_t off;
      uint32_t len;
      struct rd *r;

      pick_range (s, hot, &off, &len);
      r = malloc (sizeof *r + len);
      if (r == NULL)
        die ("malloc: %m");
      *r = (struct rd) { .off = off, .len = len, .inflight = &inflight };
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
  free (s);
  return NULL;
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

    g = snapshot_generation (h);
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
    check_nbd (nbd_pread (snap, got, a->len, a->off, 0), "snapshot pread");
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
    read_all (snap, expect, "full snapshot read");
    disconnect (snap);
  }

  pthread_mutex_lock (&lock);
  paused = true;
  while (inflight_total > 0)
    pthread_cond_wait (&cond, &lock);
  pthread_mutex_unlock (&lock);
  read_all (live, model, "live image vs model");
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
  read_all (live, model, "final live image vs model");
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
  free (model);
  free (expect);
  return 0;
}
