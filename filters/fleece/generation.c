/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: building one generation (see generation.h).
 *
 * Descriptions: a single-disk server's snapshot export says
 * "fleece snapshot generation G, taken T, LABEL"; with several disks
 * each says which disk it is ("..., disk vdb (2 of 2), taken ..."),
 * and all of them the same G, T and LABEL: one snapshot of the VM.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <nbdkit-filter.h>

#include "cbw.h"
#include "fleece.h"
#include "generation.h"
#include "utc-now.h"

void
generation_free (struct snap *s)
{
  size_t i;

  if (s == NULL)
    return;
  for (i = 0; s->disk && i < s->ndisks; i++) {
    blocks_free (s->disk[i].blocks);
    free (s->disk[i].windows);
  }
  free (s->disk);
  free (s);
}

/* Disk i's part: its size from a fresh plugin context.  0 or -1. */
static int
prepare_disk (struct snap *s, size_t i)
{
  struct snap_disk *d = &s->disk[i];
  nbdkit_next *next;
  int64_t size;
  char why[256];

  if ((next = snapshot_plugin_open (i, why, sizeof why)) == NULL) {
    nbdkit_error ("fleece: disk '%s': %s", fleece_disks[i].name, why);
    return -1;
  }
  size = next->get_size (next);
  snapshot_plugin_close (next);
  if (size == -1)
    return -1;
  d->snap = s;
  d->index = i;
  d->store = fleece_disks[i].store;
  d->size = size;
  d->nblocks = (size + fleece_cfg.block_size - 1) >> fleece_cfg.block_shift;
  d->blocks = blocks_new (d->nblocks);
  d->windows = cbw_windows_new (d->size);
  if (d->blocks == NULL || d->windows == NULL) {
    nbdkit_error ("fleece: allocating the state of %" PRIu64 " blocks: %m",
                  d->nblocks);
    return -1;
  }
  return 0;
}

struct snap *
generation_new (void)
{
  struct snap *s = calloc (1, sizeof *s);
  size_t i;

  if (s == NULL || (s->disk = calloc (fleece_ndisks, sizeof *s->disk))
      == NULL) {
    nbdkit_error ("fleece: calloc: %m");
    free (s);
    return NULL;
  }
  s->ndisks = fleece_ndisks;
  for (i = 0; i < s->ndisks; i++) {
    if (prepare_disk (s, i) == -1) {
      generation_free (s);
      return NULL;
    }
  }
  return s;
}

void
generation_stamp (struct snap *s)
{
  utc_now (s->taken_at, sizeof s->taken_at);
}

/* "application-consistent: ..." or "crash-consistent: ..." */
static void
label (const struct snap *s, char *buf, size_t len)
{
  const struct quiesce_outcome *q = &s->q;

  if (q->frozen > 0)
    snprintf (buf, len, "application-consistent: %d filesystem%s frozen "
              "for %.1f ms", q->frozen, q->frozen == 1 ? "" : "s",
              q->frozen_ns / 1e6);
  else
    snprintf (buf, len, "crash-consistent: %s", q->reason);
}

void
generation_describe (struct snap *s)
{
  char what[320];
  size_t i;

  label (s, what, sizeof what);
  if (s->ndisks == 1 && fleece_disks[0].name[0] == '\0') {
    snprintf (s->description, sizeof s->description,
              "fleece snapshot generation %" PRIu64 ", taken %s, %s",
              s->generation, s->taken_at, what);
    snprintf (s->disk[0].description, sizeof s->disk[0].description,
              "%s", s->description);
    return;
  }
  snprintf (s->description, sizeof s->description,
            "fleece snapshot generation %" PRIu64 " of %zu disks, "
            "taken %s, %s", s->generation, s->ndisks, s->taken_at, what);
  for (i = 0; i < s->ndisks; i++)
    snprintf (s->disk[i].description, sizeof s->disk[i].description,
              "fleece snapshot generation %" PRIu64 ", disk %.63s (%zu of "
              "%zu), taken %s, %s", s->generation, fleece_disks[i].name,
              i + 1, s->ndisks, s->taken_at, what);
}
