/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: answering "what changed since checkpoint K" for the
 * active snapshot (see cbt.h).
 *
 * The active snapshot is always the latest checkpoint N (one snapshot
 * at a time, each a checkpoint).  A granule's state in snapshot N is
 * the code it had at the switch: saved[g] ? prev[g] : map[g] (writes
 * after the switch carry N's code and remember what they replaced).
 * That code names a generation t among N-254 .. N-1 (0: older than
 * any known checkpoint), and the granule may differ between snapshots
 * K and N exactly when t >= K.  K is answerable when the map has
 * tracked the disk since K (K >= first), K >= N - 254 (codes older
 * than that were cleared), and nothing made the map untrustworthy in
 * this run.  Everything else is full-backup-required, with the reason.
 *
 * Locking: the barrier's read side (the snapshot and the map arrays
 * cannot change), then the disk's map mutex for the walk.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbt.h"
#include "cbtdisk.h"
#include "cleanup.h"
#include "fleece.h"
#include "snapshot.h"

/* Parse "UUID:GEN" into *gen if UUID is ours.  1 ours, 0 another
 * identity, -1 malformed.
 */
static int
parse_id (const char *id, uint64_t *gen)
{
  char u[37], mine[37];
  const char *colon = strrchr (id, ':');
  char *end;

  if (colon == NULL || colon - id != 36 || colon[1] < '0' || colon[1] > '9')
    return -1;
  *gen = strtoull (colon + 1, &end, 10);
  if (*end != '\0')
    return -1;
  memcpy (u, id, 36);
  u[36] = '\0';
  cbtmap_uuid_str (cbt_vm_uuid, mine);
  return strcmp (u, mine) == 0;
}

/* Why disk d cannot answer since k at checkpoint n (size: the
 * snapshot's disk size), into why, or "" if it can.  Lock held.
 */
static void
refuse (const struct cdisk *d, uint64_t k, uint64_t n, uint64_t size,
        char *why, size_t len)
{
  *why = '\0';
  if (d->failed)
    snprintf (why, len, "the map could not be written (see the log)");
  else if (d->distrust[0])
    snprintf (why, len, "%s", d->distrust);
  else if (size != d->h.disk_size)
    snprintf (why, len, "the disk's size changed while served");
  else if (k < d->h.first && d->h.reset_reason[0])
    snprintf (why, len, "checkpoint %" PRIu64 " is older than the map, "
              "started afresh at checkpoint %" PRIu64 " because %s", k,
              d->h.first, d->h.reset_reason);
  else if (k < d->h.first)
    snprintf (why, len, "checkpoint %" PRIu64 " is older than the map "
              "(checkpoint %" PRIu64 ")", k, d->h.first);
  else if (n - k > 254)
    snprintf (why, len, "checkpoint %" PRIu64 " is too old: more than 254 "
              "checkpoints ago (the active one is %" PRIu64 ")", k, n);
}

/* Is granule g of snapshot n changed since k?  Lock held. */
static bool
dirty (const struct cdisk *d, uint64_t g, uint64_t k, uint64_t n)
{
  uint8_t b = d->saved[g] ? d->prev[g] : d->map[g];
  uint64_t age;

  if (b == 0 || k >= n)
    return false;
  age = (cbtmap_code (n - 1) + 255 - b) % 255;
  return age <= n - 1 - k;
}

/* Walk [offset, end) into out, merging.  Lock held. */
static void
walk (const struct cdisk *d, uint64_t k, uint64_t n, uint64_t offset,
      uint64_t end, struct cbt_changes *out)
{
  uint64_t gran = fleece_cfg.cbt_granularity, pos = offset, stop;
  struct cbt_extent *e = NULL;
  bool x;

  while (pos < end) {
    stop = ((pos >> fleece_cfg.cbt_shift) + 1) * gran;
    if (stop > end)
      stop = end;
    x = dirty (d, pos >> fleece_cfg.cbt_shift, k, n);
    if (e == NULL || e->dirty != x) {
      if (out->n == CBT_EXTENTS_MAX) {
        out->more = true;
        out->next = pos;
        return;
      }
      e = &out->e[out->n++];
      e->offset = pos;
      e->length = 0;
      e->dirty = x;
    }
    e->length += stop - pos;
    pos = stop;
  }
}

enum cbt_answer
cbt_changes (const char *since, size_t disk, uint64_t offset,
             uint64_t length, struct cbt_changes *out, char *why, size_t len)
{
  SNAPSHOT_SCOPE (s);
  struct cdisk *d = &cbt_disks[disk];
  uint64_t k, n, size, end;
  int r;

  memset (out, 0, sizeof *out);
  out->granularity = fleece_cfg.cbt_granularity;
  if (!cbt_enabled ())
    return CBT_OFF;
  if (s == NULL || !__atomic_load_n (&s->complete, __ATOMIC_ACQUIRE)) {
    snprintf (why, len, "no snapshot is active: changes are those of the "
              "active snapshot (snapshot-begin first)");
    return CBT_NO_SNAPSHOT;
  }
  n = s->checkpoint;
  size = s->disk[disk].size;
  if ((r = parse_id (since, &k)) == -1) {
    snprintf (why, len, "\"since\" is not a checkpoint id (as status and "
              "snapshot-begin give it)");
    return CBT_BAD_REQUEST;
  }
  if (offset > size) {
    snprintf (why, len, "offset %" PRIu64 " is past the disk's end (%"
              PRIu64 " bytes)", offset, size);
    return CBT_BAD_REQUEST;
  }
  if (r == 0)
    snprintf (why, len, "checkpoint %s is of another tracking identity "
              "(the maps were lost or cbt-dir= changed)", since);
  else if (k > n || k == 0)
    snprintf (why, len, "checkpoint %" PRIu64 " is unknown (the active "
              "snapshot is checkpoint %" PRIu64 ")", k, n);
  else {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&d->lock);
    refuse (d, k, n, size, why, len);
    if (why[0] == '\0') {
      end = length == 0 || length > size - offset ? size : offset + length;
      walk (d, k, n, offset, end, out);
      return CBT_OK;
    }
  }
  return CBT_FULL_BACKUP;
}
