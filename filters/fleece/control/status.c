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

/* Add key: v, where v NULL means JSON null.  0 or -1. */
static int
put (json_object *o, const char *key, json_object *v)
{
  if (json_object_object_add (o, key, v) == -1) {
    json_object_put (v);
    return -1;
  }
  return 0;
}

static json_object *
u64 (uint64_t v)
{
  return json_object_new_int64 (v > INT64_MAX ? INT64_MAX : (int64_t) v);
}

/* A number printed with `decimals` decimals. */
static json_object *
fixed (double v, int decimals)
{
  char s[64];

  snprintf (s, sizeof s, "%.*f", decimals, v);
  return json_object_new_double_s (v, s);
}

static json_object *
ms (uint64_t ns)
{
  return fixed (ns / 1e6, 3);
}

static json_object *
str_or_null (const char *s)
{
  return s && *s ? json_object_new_string (s) : NULL;
}

struct member {
  const char *key;
  json_object *value;           /* NULL: JSON null */
};

static int
put_all (json_object *o, struct member *m, size_t n)
{
  int r = 0;
  size_t i;

  for (i = 0; i < n; i++)
    if (put (o, m[i].key, m[i].value) == -1)
      r = -1;
  return r;
}

/* bytes-read over data-bytes, or over disk-size until data-bytes is
 * measured (progress.h); capped at 1.
 */
static double
progress (const struct control_figures *f)
{
  uint64_t total = f->data_known ? f->data_bytes : f->snap.info.size;

  if (total == 0 || f->bytes_read >= total)
    return 1.0;
  return (double) f->bytes_read / total;
}

/* The members that exist only with a snapshot (active or broken). */
static int
fill_snapshot (json_object *o, const struct control_figures *f)
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
    { "disk-size", u64 (s->size) },
    { "blocks-total", u64 (s->nblocks) },
    { "blocks-preserved", u64 (f->snap.blocks.preserved) },
    { "blocks-zero", u64 (f->snap.blocks.zero) },
    { "blocks-released", u64 (f->snap.blocks.released) },
    { "released-bytes", u64 (f->snap.blocks.released * f->block_size) },
    { "copy-count", u64 (f->copy_count) },
    { "copy-mean-ms", ms (f->copy_mean_ns) },
    { "copy-p99-ms", ms (f->copy_p99_ns) },
    { "bytes-copied", u64 (f->bytes_copied) },
    { "live-writes", u64 (f->live_writes) },
    { "live-added-mean-ms", ms (f->live_mean_ns) },
    { "live-added-p99-ms", ms (f->live_p99_ns) },
    { "bytes-read", u64 (f->bytes_read) },
    { "data-bytes", f->data_known ? u64 (f->data_bytes) : NULL },
    { "progress", fixed (progress (f), 4) },
    { "broken-cause", str_or_null (f->snap.broken_cause) },
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

  if (put_all (o, m, sizeof m / sizeof m[0]) == -1)
    return -1;
  return has ? fill_snapshot (o, f) : fill_nulls (o);
}

int
control_generation_fill (json_object *o, uint64_t generation,
                         const char *description)
{
  if (put (o, "generation", u64 (generation)) == -1)
    return -1;
  return put (o, "description", str_or_null (description));
}
