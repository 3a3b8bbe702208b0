/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: test-fleece-stress, failure reports and checks.
 *
 * Design: what every part of the test shares to make and check data.
 * A failure is reported once: the first thread to fail prints and
 * exits, any other that fails meanwhile waits for that exit, so the
 * log holds one cause.  Written data is a pure function of (write
 * sequence number, disk offset), so any byte read can be predicted.
 * Ranges are random from a per-thread xorshift64* state, half of them
 * in a hot zone that moves with the count of completed live requests.
 *
 * Not handled: cleanup after a failure.  The process _exits with
 * connections open and requests in flight; the captive nbdkit sees
 * the connections drop.
 *
 * Locking: none of its own; see fleece-stress.h.
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
#include <unistd.h>

#include <libnbd.h>

#include "fleece-stress.h"

#define CHUNK (1024 * 1024)
#define HOT_MOVE 64

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

void
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

void
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
void
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

uint64_t
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
hot_base (const struct disk *d)
{
  uint64_t z = __atomic_load_n (&ops_done, __ATOMIC_RELAXED) / HOT_MOVE;

  z *= UINT64_C (0x9e3779b97f4a7c15);
  z ^= z >> 29;
  return z % ((d->size - d->hot) / bs + 1) * bs;
}

/* A random range of D, half of them in its hot zone: 1 byte to a
 * block mostly, up to 4 blocks, and sometimes up to BIG bytes.
 */
void
pick_range (uint64_t *s, const struct disk *d, uint32_t big,
            uint64_t *off, uint32_t *len)
{
  bool in_hot = rnd (s) % 2;
  uint64_t base = in_hot ? hot_base (d) : 0;
  uint64_t zone = in_hot ? d->hot : d->size;
  unsigned k = rnd (s) % 8;
  uint32_t max = k < 2 ? 512 : k < 5 ? bs : k < 7 ? 4 * bs : big;

  *len = 1 + rnd (s) % max;
  if (*len > zone)
    *len = zone;
  *off = base + rnd (s) % (zone - *len + 1);
}

/* The generation number in a snapshot connection's description: with
 * several disks "fleece snapshot generation G, disk NAME (I of N), ...".
 */
uint64_t
snapshot_generation (struct nbd_handle *h, const struct disk *disk)
{
  char *d = nbd_get_export_description (h);
  char name[64];
  unsigned i, n;
  uint64_t g;

  if (d == NULL)
    die ("snapshot export has no description: %s", nbd_get_error ());
  if (sscanf (d, "fleece snapshot generation %" SCNu64 ",", &g) != 1)
    die ("unexpected snapshot description: %s", d);
  if (ndisks > 1
      && (sscanf (d, "fleece snapshot generation %*u, disk %63[^ ]"
                  " (%u of %u),", name, &i, &n) != 3
          || strcmp (name, disk->name) != 0 || i != disk - disks + 1
          || n != ndisks))
    die ("snapshot/%s describes another disk: %s", disk->name, d);
  free (d);
  return g;
}

/* What a snapshot connection shows before it has joined a snapshot. */
#define NO_SNAPSHOT_YET "fleece snapshot export: no snapshot is active yet"

bool
snapshot_joined (struct nbd_handle *h)
{
  char *d = nbd_get_export_description (h);
  bool r = d == NULL || strncmp (d, NO_SNAPSHOT_YET,
                                 strlen (NO_SNAPSHOT_YET)) != 0;

  free (d);
  return r;
}

void
snapshot_take (struct nbd_handle *h)
{
  char byte;

  if (!snapshot_joined (h))
    check_nbd (nbd_pread (h, &byte, 1, 0, 0), "snapshot take (pread)");
}

uint64_t
snapshot_generation_of (struct nbd_handle *h, const struct disk *d)
{
  struct nbd_handle *h2;
  uint64_t g;

  if (snapshot_joined (h))
    return snapshot_generation (h, d);
  h2 = connect_to (d->snap_uri); /* joins at once: shows the label */
  g = snapshot_generation (h2, d);
  disconnect (h2);
  return g;
}

/* Sync full read of H compared with IMAGE. */
bool
read_all (struct nbd_handle *h, uint64_t size, const uint8_t *image,
          const char *what, bool may_break)
{
  uint8_t *buf = malloc (CHUNK);
  uint64_t off;
  size_t n;
  bool whole = true;

  if (buf == NULL)
    die ("malloc: %m");
  for (off = 0; off < size; off += n) {
    n = size - off < CHUNK ? size - off : CHUNK;
    if (nbd_pread (h, buf, n, off, 0) == -1) {
      if (may_break && nbd_get_errno () == EIO) {
        whole = false;
        break;
      }
      check_nbd (-1, what);
    }
    compare (what, off, image + off, buf, n);
  }
  free (buf);
  return whole;
}

void
start_thread (pthread_t *t, void *(*fn) (void *), uint64_t seed,
              struct disk *disk)
{
  struct targ *a = malloc (sizeof *a);
  int r;

  if (a == NULL)
    die ("malloc: %m");
  *a = (struct targ) { .s = seed * 2 + 1, .disk = disk };
  r = pthread_create (t, NULL, fn, a);
  if (r != 0) {
    errno = r;
    die ("pthread_create: %m");
  }
}

