/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: opening and checking one disk's changed-block map at
 * its first use (see cbt.c for when, cbtdisk.h for the state).
 *
 * Distrust openly: a missing map, a corrupt header, a map of another
 * tracking identity or granularity, a map of the wrong size, a disk
 * whose size differs from the map's, or (after a clean stop) a disk
 * whose identity changed while nbdkit was not serving it: the map is
 * started afresh, every granule 0, and the reason is kept in its
 * header with first = the next checkpoint, so that any older
 * checkpoint answers full-backup-required with that reason.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nbdkit-filter.h>

#include "cbt.h"
#include "cbtdisk.h"
#include "disks.h"
#include "fleece.h"
#include "full-rw.h"

static uint64_t
granules (uint64_t size)
{
  return (size + fleece_cfg.cbt_granularity - 1) >> fleece_cfg.cbt_shift;
}

/* Why the map in fd (header h, read result r, file size fsize) cannot
 * be trusted for a disk of size bytes and identity id, into why; ""
 * if it can.
 */
static void
check (struct cdisk *d, int r, off_t fsize, uint64_t size, const char *id,
       char *why, size_t len)
{
  const struct cbtmap_header *h = &d->h;
  char name[80];

  if (d->h.name[0])
    snprintf (name, sizeof name, "disk '%s'", d->h.name);
  else
    snprintf (name, sizeof name, "the disk");
  *why = '\0';
  if (r == 0 && fsize == 0)
    snprintf (why, len, "no map of %s existed", name);
  else if (r == 0)
    snprintf (why, len, "the map of %s was corrupt", name);
  else if (memcmp (h->vm_uuid, cbt_vm_uuid, 16) != 0)
    snprintf (why, len, "the map of %s belonged to another "
              "tracking identity", name);
  else if (h->granularity != fleece_cfg.cbt_granularity)
    snprintf (why, len, "cbt-granularity changed (%" PRIu32 " -> %" PRIu32
              ")", h->granularity, fleece_cfg.cbt_granularity);
  else if (h->disk_size != size)
    snprintf (why, len, "%s changed size while not served by "
              "nbdkit (%" PRIu64 " -> %" PRIu64 " bytes)", name,
              h->disk_size, size);
  else if (fsize != (off_t) (CBTMAP_DATA + granules (size)))
    snprintf (why, len, "the map of %s had the wrong size", name);
  else if (h->clean && strcmp (h->identity, id) != 0)
    snprintf (why, len, "%s was modified while not served by "
              "nbdkit (identity %s -> %s)", name, h->identity, id);
  else if (cbt_gen - h->gen > 254)
    snprintf (why, len, "the map of %s was more than 254 "
              "checkpoints behind", name);
}

/* Start the map afresh for size bytes, because of why.  0 or -1. */
static int
reset (struct cdisk *d, size_t i, uint64_t size, const char *why)
{
  struct cbtmap_header *h = &d->h;
  uint64_t seq = h->seq;

  memset (h, 0, sizeof *h);
  h->seq = seq;
  memcpy (h->vm_uuid, cbt_vm_uuid, 16);
  if (cbtmap_uuid (h->map_uuid) == -1)
    return -1;
  snprintf (h->name, sizeof h->name, "%s", fleece_disks[i].name);
  h->disk_size = size;
  h->granularity = fleece_cfg.cbt_granularity;
  h->gen = cbt_gen;
  h->first = cbt_gen + 1;
  snprintf (h->reset_reason, sizeof h->reset_reason, "%s", why);
  d->ngran = granules (size);
  free (d->map);
  if ((d->map = calloc (d->ngran + 1, 1)) == NULL)
    return -1;
  nbdkit_debug ("fleece: cbt: %s: tracking starts afresh at generation "
                "%" PRIu64 ": %s", d->path, cbt_gen, why);
  if (ftruncate (d->fd, 0) == -1 ||
      ftruncate (d->fd, CBTMAP_DATA + d->ngran) == -1)
    return -1;
  return fdatasync (d->fd);
}

/* Load a trusted map and bring it to the current generation (clearing
 * the codes of the generations it missed: a crash between two disks'
 * header updates).  0 or -1.
 */
static int
load (struct cdisk *d, uint64_t size)
{
  uint64_t g;

  d->ngran = granules (size);
  if ((d->map = calloc (d->ngran + 1, 1)) == NULL ||
      full_pread (d->fd, d->map, d->ngran, CBTMAP_DATA) == -1)
    return -1;
  for (; d->h.gen < cbt_gen; d->h.gen++)
    for (g = 0; g < d->ngran; g++)
      if (d->map[g] == cbtmap_code (d->h.gen + 1))
        d->map[g] = 0;
  return 0;
}

int
cbt_attach (size_t i, uint64_t size)
{
  struct cdisk *d = &cbt_disks[i];
  char id[CBTMAP_IDENTITY] = "", why[512];
  struct stat st;
  int r;

  cbt_map_path (i, d->path, sizeof d->path);
  if ((d->fd = open (d->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
      fstat (d->fd, &st) == -1 || (r = cbtmap_read_header (d->fd, &d->h))
      == -1 || disks_identity (i, id, sizeof id) == -1)
    goto fail;
  snprintf (d->h.name, sizeof d->h.name, "%s", fleece_disks[i].name);
  check (d, r, st.st_size, size, id, why, sizeof why);
  if (why[0] ? reset (d, i, size, why) == -1 : load (d, size) == -1)
    goto fail;
  if (!why[0] && !d->h.clean)
    nbdkit_debug ("fleece: cbt: %s was not stopped cleanly: trusted (it "
                  "may over-report)", d->path);
  d->h.clean = false;
  d->prev = calloc (d->ngran + 1, 1);
  d->saved = calloc (d->ngran + 1, 1);
  d->batch = 1;
  if (d->prev == NULL || d->saved == NULL ||
      cbtmap_write_header (d->fd, &d->h) == -1)
    goto fail;
  __atomic_store_n (&d->attached, true, __ATOMIC_RELEASE);
  return 0;
 fail:
  nbdkit_error ("fleece: cbt: opening the map %s: %m", d->path);
  if (d->fd >= 0)
    close (d->fd);
  d->fd = -1;
  return -1;
}
