/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the members of a status reply (see status.h and
 * nbdkit-fleece-filter(1), PROTOCOL).
 *
 * Every member is always present, so a client can rely on the shape:
 * figures that belong to a snapshot are JSON null when the state is
 * none or creating.  Sizes are bytes (integers), durations are
 * milliseconds (numbers with three decimals), progress is a fraction
 * from 0 to 1 with four decimals.  Pure: no I/O, no locks.
 */
#include <config.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "status.h"
#include "status-int.h"

/* bytes read over data bytes, or over the disk size until data bytes
 * are measured (progress.h); capped at 1.
 */
static double
progress (uint64_t read, bool data_known, uint64_t data, uint64_t size)
{
  uint64_t total = data_known ? data : size;

  if (total == 0 || read >= total)
    return 1.0;
  return (double) read / total;
}

/* The sums over the disks, for the top-level members. */
struct sums {
  uint64_t size, nblocks, bytes_read;
  struct blocks_stats blocks;
  char broken_cause[320];       /* the first broken disk's */
};

static void
sum_disks (const struct control_figures *f, struct sums *t)
{
  const struct snapshot_disk_status *d;
  size_t i;

  memset (t, 0, sizeof *t);
  for (i = 0; i < f->snap.info.ndisks; i++) {
    d = &f->snap.disk[i];
    t->size += d->size;
    t->nblocks += d->nblocks;
    t->bytes_read += d->bytes_read;
    t->blocks.preserved += d->blocks.preserved;
    t->blocks.zero += d->blocks.zero;
    t->blocks.released += d->blocks.released;
    if (d->broken && t->broken_cause[0] == '\0')
      snprintf (t->broken_cause, sizeof t->broken_cause, "%s%s%s%s",
                *f->disk[i].name ? "disk " : "", f->disk[i].name,
                *f->disk[i].name ? ": " : "", d->broken_cause);
  }
}

/* disks[i] of a snapshot (active or broken). */
static json_object *
disk_object (const struct control_figures *f, size_t i)
{
  const struct snapshot_disk_status *d = &f->snap.disk[i];
  const struct control_disk_figures *df = &f->disk[i];
  json_object *o = json_object_new_object ();
  struct member m[] = {
    { "name", json_object_new_string (df->name) },
    { "export", json_object_new_string (df->export) },
    { "state", json_object_new_string (d->broken ? "broken" : "active") },
    { "disk-size", u64 (d->size) },
    { "blocks-total", u64 (d->nblocks) },
    { "blocks-preserved", u64 (d->blocks.preserved) },
    { "blocks-zero", u64 (d->blocks.zero) },
    { "blocks-released", u64 (d->blocks.released) },
    { "store-bytes", u64 (df->store_bytes) },
    { "bytes-read", u64 (d->bytes_read) },
    { "data-bytes", df->data_known ? u64 (df->data_bytes) : NULL },
    { "progress", fixed (progress (d->bytes_read, df->data_known,
                                   df->data_bytes, d->size), 4) },
    { "broken-cause", d->broken ? str_or_null (d->broken_cause) : NULL },
  };

  if (o && put_all (o, m, sizeof m / sizeof m[0]) == -1) {
    json_object_put (o);
    o = NULL;
  }
  return o;
}

/* disks[i] with no snapshot: what it is, and nothing else. */
static json_object *
idle_disk_object (const struct control_figures *f, size_t i)
{
  json_object *o = json_object_new_object ();
  struct member m[] = {
    { "name", json_object_new_string (f->disk[i].name) },
    { "export", json_object_new_string (f->disk[i].export) },
    { "state", json_object_new_string (f->snap.state) },
  };

  if (o && put_all (o, m, sizeof m / sizeof m[0]) == -1) {
    json_object_put (o);
    o = NULL;
  }
  return o;
}

static int
fill_disks (json_object *o, const struct control_figures *f, bool has)
{
  json_object *a = json_object_new_array ();
  json_object *d;
  size_t i;

  if (a == NULL)
    return -1;
  for (i = 0; i < f->ndisks; i++) {
    d = has ? disk_object (f, i) : idle_disk_object (f, i);
    if (d == NULL || json_object_array_add (a, d) == -1) {
      json_object_put (d);
      json_object_put (a);
      return -1;
    }
  }
  return put (o, "disks", a);
}

/* The members that exist only with a snapshot (active or broken); t
 * has the sums over its disks.
 */
static int
fill_snapshot (json_object *o, const struct control_figures *f,
               const struct sums *t)
{
  const struct snap *s = &f->snap.info;
  const struct quiesce_outcome *q = &s->q;
  bool app = q->frozen > 0;
  struct member m[] = {
    { "generation", u64 (s->generation) },
    { "taken-at", json_object_new_string (s->taken_at) },
    { "description", json_object_new_string (s->description) },
    { "consistency", json_object_new_string (app ? "application-consistent"
                                             : "crash-consistent") },
    { "consistency-reason", app ? NULL : json_object_new_string (q->reason) },
    { "frozen-filesystems", json_object_new_int (q->frozen) },
    { "freeze-ms", ms (q->freeze_ns) },
    { "barrier-ms", ms (s->barrier_ns) },
    { "thaw-ms", ms (q->thaw_ns) },
    { "frozen-ms", ms (q->frozen_ns) },
    { "disk-size", u64 (t->size) },
    { "blocks-total", u64 (t->nblocks) },
    { "blocks-preserved", u64 (t->blocks.preserved) },
    { "blocks-zero", u64 (t->blocks.zero) },
    { "blocks-released", u64 (t->blocks.released) },
    { "released-bytes", u64 (t->blocks.released * f->block_size) },
    { "copy-count", u64 (f->copy_count) },
    { "copy-mean-ms", ms (f->copy_mean_ns) },
    { "copy-p99-ms", ms (f->copy_p99_ns) },
    { "bytes-copied", u64 (f->bytes_copied) },
    { "live-writes", u64 (f->live_writes) },
    { "live-added-mean-ms", ms (f->live_mean_ns) },
    { "live-added-p99-ms", ms (f->live_p99_ns) },
    { "bytes-read", u64 (f->bytes_read) },
    { "data-bytes", f->data_known ? u64 (f->data_bytes) : NULL },
    { "progress", fixed (progress (f->bytes_read, f->data_known,
                                   f->data_bytes, t->size), 4) },
    { "broken-cause", str_or_null (t->broken_cause) },
  };

  return put_all (o, m, sizeof m / sizeof m[0]);
}

/* The same keys as fill_snapshot, all null. */
static int
fill_nulls (json_object *o)
{
  static const char *keys[] = {
    "generation", "taken-at", "description", "consistency",
    "consistency-reason", "frozen-filesystems", "freeze-ms", "barrier-ms",
    "thaw-ms", "frozen-ms", "disk-size", "blocks-total", "blocks-preserved",
    "blocks-zero", "blocks-released", "released-bytes", "copy-count",
    "copy-mean-ms", "copy-p99-ms", "bytes-copied", "live-writes",
    "live-added-mean-ms", "live-added-p99-ms", "bytes-read", "data-bytes",
    "progress", "broken-cause",
  };
  size_t i;
  int r = 0;

  for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (put (o, keys[i], NULL) == -1)
      r = -1;
  return r;
}

int
control_status_fill (json_object *o, const struct control_figures *f)
{
  bool has = strcmp (f->snap.state, "active") == 0 ||
    strcmp (f->snap.state, "broken") == 0;
  struct member m[] = {
    { "state", json_object_new_string (f->snap.state) },
    { "pinned", json_object_new_boolean (f->snap.pinned) },
    { "snapshot-clients", u64 (f->snap.clients) },
    { "block-size", u64 (f->block_size) },
    { "store-bytes", u64 (f->store_bytes) },
    { "store-limit", f->store_limit ? u64 (f->store_limit) : NULL },
    { "pin-max-age-ms", f->pin_max_age_ns ? ms (f->pin_max_age_ns) : NULL },
    { "pin-expires-in-ms", f->snap.pin_expires ? ms (f->snap.pin_left_ns)
                                               : NULL },
  };
  struct sums t;

  if (put_all (o, m, sizeof m / sizeof m[0]) == -1 ||
      fill_disks (o, f, has) == -1 || control_history_fill (o, f) == -1)
    return -1;
  if (!has)
    return fill_nulls (o);
  sum_disks (f, &t);
  return fill_snapshot (o, f, &t);
}

int
control_generation_fill (json_object *o, uint64_t generation,
                         const char *description)
{
  if (put (o, "generation", u64 (generation)) == -1)
    return -1;
  return put (o, "description", str_or_null (description));
}
