/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the status members that outlive a snapshot: "totals"
 * (counters since nbdkit started) and "last-snapshot" (the last ended
 * snapshot's result, or null before one has ended).  See
 * nbdkit-fleece-filter(1), Status members.  Pure: no I/O, no locks.
 */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "status-int.h"

/* "snapshots-ended-by": one member per way of ending that status can
 * see (nbdkit stopping is the last way, and no status sees it).
 */
static json_object *
ended_by (const struct history_totals *t)
{
  json_object *o = json_object_new_object ();
  size_t i;

  for (i = 0; o && i < HISTORY_END_SHUTDOWN; i++)
    if (put (o, history_end_name[i], u64 (t->ended[i])) == -1) {
      json_object_put (o);
      o = NULL;
    }
  return o;
}

static uint64_t
ended_sum (const struct history_totals *t)
{
  uint64_t n = 0;
  size_t i;

  for (i = 0; i < HISTORY_ENDS; i++)
    n += t->ended[i];
  return n;
}

static json_object *
totals_object (const struct history_totals *t)
{
  json_object *o = json_object_new_object ();
  struct member m[] = {
    { "snapshots-created", u64 (t->created) },
    { "snapshots-failed", u64 (t->failed) },
    { "snapshots-crash-consistent", u64 (t->crash_consistent) },
    { "freeze-failures", u64 (t->freeze_failed) },
    { "snapshots-ended", u64 (ended_sum (t)) },
    { "snapshots-ended-by", ended_by (t) },
    { "snapshots-broken", u64 (t->broken) },
    { "writes-refused", u64 (t->writes_refused) },
    { "copy-count", u64 (t->copies) },
    { "bytes-copied", u64 (t->bytes_copied) },
    { "blocks-preserved", u64 (t->blocks_preserved) },
    { "bytes-read", u64 (t->bytes_read) },
    { "live-writes", u64 (t->live_writes) },
  };

  if (o && put_all (o, m, sizeof m / sizeof m[0]) == -1) {
    json_object_put (o);
    o = NULL;
  }
  return o;
}

/* last-snapshot's disks[i]. */
static json_object *
last_disk (const struct control_figures *f, size_t i)
{
  const struct history_disk *d = &f->last.disk[i];
  json_object *o = json_object_new_object ();
  struct member m[] = {
    { "name", json_object_new_string (f->disk[i].name) },
    { "bytes-read", u64 (d->bytes_read) },
    { "blocks-preserved", u64 (d->blocks.preserved) },
    { "blocks-zero", u64 (d->blocks.zero) },
    { "blocks-released", u64 (d->blocks.released) },
    { "broken-cause", d->broken ? str_or_null (d->broken_cause) : NULL },
  };

  if (o && put_all (o, m, sizeof m / sizeof m[0]) == -1) {
    json_object_put (o);
    o = NULL;
  }
  return o;
}

/* The sums over the last snapshot's disks. */
struct last_sums {
  struct blocks_stats blocks;
  bool broken;
  char cause[320];              /* the first broken disk's, as status
                                 * gives it ("disk NAME: ...") */
};

static void
add_disk (const struct control_figures *f, size_t i, struct last_sums *t)
{
  const struct history_disk *h = &f->last.disk[i];
  const char *name = f->disk[i].name;

  t->blocks.preserved += h->blocks.preserved;
  t->blocks.zero += h->blocks.zero;
  t->blocks.released += h->blocks.released;
  if (h->broken && !t->broken)
    snprintf (t->cause, sizeof t->cause, "%s%s%s%s", *name ? "disk " : "",
              name, *name ? ": " : "", h->broken_cause);
  t->broken |= h->broken;
}

static size_t
last_ndisks (const struct control_figures *f)
{
  return f->last.ndisks < f->ndisks ? f->last.ndisks : f->ndisks;
}

/* "disks".  0 or -1. */
static int
last_disks (json_object *o, const struct control_figures *f)
{
  json_object *a = json_object_new_array (), *d;
  size_t i;

  for (i = 0; a && i < last_ndisks (f); i++) {
    d = last_disk (f, i);
    if (d == NULL || json_object_array_add (a, d) == -1) {
      json_object_put (d);
      json_object_put (a);
      a = NULL;
    }
  }
  return a ? put (o, "disks", a) : -1;
}

static int
last_members (json_object *o, const struct history_last *l,
              const struct last_sums *t)
{
  bool app = l->frozen > 0;
  struct member m[] = {
    { "generation", u64 (l->generation) },
    { "description", json_object_new_string (l->description) },
    { "consistency", json_object_new_string (app ? "application-consistent"
                                             : "crash-consistent") },
    { "consistency-reason", app ? NULL : json_object_new_string (l->reason) },
    { "frozen-filesystems", json_object_new_int (l->frozen) },
    { "taken-at", json_object_new_string (l->taken_at) },
    { "ended-at", json_object_new_string (l->ended_at) },
    { "ended-by", json_object_new_string (history_end_name[l->ended_by]) },
    { "broken", json_object_new_boolean (t->broken) },
    { "broken-cause", t->broken ? json_object_new_string (t->cause) : NULL },
    { "blocks-preserved", u64 (t->blocks.preserved) },
    { "blocks-zero", u64 (t->blocks.zero) },
    { "blocks-released", u64 (t->blocks.released) },
    { "copy-count", u64 (l->copies) },
    { "bytes-copied", u64 (l->bytes_copied) },
    { "live-writes", u64 (l->live_writes) },
    { "bytes-read", u64 (l->bytes_read) },
  };

  return put_all (o, m, sizeof m / sizeof m[0]);
}

static json_object *
last_object (const struct control_figures *f)
{
  json_object *o = json_object_new_object ();
  struct last_sums t;
  size_t i;

  memset (&t, 0, sizeof t);
  for (i = 0; i < last_ndisks (f); i++)
    add_disk (f, i, &t);
  if (o && (last_members (o, &f->last, &t) == -1 ||
            last_disks (o, f) == -1)) {
    json_object_put (o);
    o = NULL;
  }
  return o;
}

int
control_history_fill (json_object *o, const struct control_figures *f)
{
  json_object *t = totals_object (&f->totals);
  json_object *l = f->has_last ? last_object (f) : NULL;

  if (t == NULL || (f->has_last && l == NULL)) {
    json_object_put (t);
    json_object_put (l);
    return -1;
  }
  if (put (o, "totals", t) == -1)
    return -1;
  return put (o, "last-snapshot", l);
}
