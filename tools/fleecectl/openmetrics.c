/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: a status reply as metrics (see openmetrics.h).
 *
 * Table-driven: each metric names the reply member it comes from and
 * how the member becomes a number (milliseconds and UTC times become
 * seconds, booleans and a few strings 0 or 1).  Counters come from
 * "totals", gauges from the top level (the active snapshot), from
 * each of "disks" (label disk="NAME"), and from "last-snapshot".
 * Integers are printed exactly, other numbers with 10 significant
 * digits.
 */
#include <config.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "openmetrics.h"
#include "utc-parse.h"

/* How a member becomes a sample's value. */
enum conv {
  PLAIN,                        /* a number, as it is */
  MS,                           /* milliseconds -> seconds */
  UTC,                          /* "2026-11-26T16:42:07.755Z" -> seconds
                                 * since the epoch */
  TRUTH,                        /* a boolean -> 1 or 0 */
  APP,                          /* "application-consistent" -> 1, else 0 */
  BROKEN,                       /* "broken" -> 1, else 0 */
};

struct def {
  const char *name;             /* without PREFIX and _total */
  bool counter;
  const char *key;              /* the reply member */
  enum conv conv;
  const char *help;
};

static const struct def totals[] = {
  { "snapshots_created", true, "snapshots-created", PLAIN,
    "Snapshots created since nbdkit started." },
  { "snapshots_failed", true, "snapshots-failed", PLAIN,
    "Snapshot creations that failed: no snapshot was taken." },
  { "snapshots_crash_consistent", true, "snapshots-crash-consistent", PLAIN,
    "Snapshots created with no filesystem frozen." },
  { "freeze_failures", true, "freeze-failures", PLAIN,
    "Guest freezes that were due and froze nothing." },
  { "snapshots_broken", true, "snapshots-broken", PLAIN,
    "Snapshots that broke: every later read of them failed." },
  { "writes_refused", true, "writes-refused", PLAIN,
    "Live writes failed by on-cbw-error=fail-write." },
  { "copies", true, "copy-count", PLAIN,
    "Copy-before-write requests to the plugin." },
  { "copied_bytes", true, "bytes-copied", PLAIN,
    "Bytes copied before writes into snapshot stores." },
  { "preserved_blocks", true, "blocks-preserved", PLAIN,
    "Blocks preserved in snapshot stores." },
  { "read_bytes", true, "bytes-read", PLAIN,
    "Bytes read from snapshot exports." },
  { "live_writes", true, "live-writes", PLAIN,
    "Live write, zero and trim requests while a snapshot was active." },
};

static const struct def snapshot[] = {
  { "snapshot_pinned", false, "pinned", TRUTH,
    "1 if the snapshot is pinned by snapshot-begin." },
  { "snapshot_clients", false, "snapshot-clients", PLAIN,
    "NBD connections open to the snapshot exports." },
  { "snapshot_generation", false, "generation", PLAIN,
    "The active snapshot's generation." },
  { "snapshot_taken_timestamp_seconds", false, "taken-at", UTC,
    "When the active snapshot was taken." },
  { "snapshot_application_consistent", false, "consistency", APP,
    "1 if the active snapshot is application-consistent, 0 if not." },
  { "snapshot_data_bytes", false, "data-bytes", PLAIN,
    "The bytes a backup of the active snapshot must read." },
  { "snapshot_read_bytes", false, "bytes-read", PLAIN,
    "Bytes read from the active snapshot." },
  { "snapshot_progress_ratio", false, "progress", PLAIN,
    "Bytes read from the active snapshot over its data bytes." },
  { "snapshot_copy_p99_seconds", false, "copy-p99-ms", MS,
    "99th percentile of the active snapshot's copies (within 2x)." },
  { "snapshot_live_added_p99_seconds", false, "live-added-p99-ms", MS,
    "99th percentile of the time copies added to live writes." },
  { "snapshot_pin_expires_in_seconds", false, "pin-expires-in-ms", MS,
    "Time until pin-max-age ends the pinned snapshot." },
  { "store_bytes", false, "store-bytes", PLAIN,
    "Store space in use, all disks." },
  { "store_limit_bytes", false, "store-limit", PLAIN,
    "fleece-max-size: each disk's store cap." },
};

static const struct def disk[] = {
  { "disk_broken", false, "state", BROKEN,
    "1 if this disk's snapshot is broken." },
  { "disk_size_bytes", false, "disk-size", PLAIN,
    "The disk's size when the active snapshot was taken." },
  { "disk_store_bytes", false, "store-bytes", PLAIN,
    "This disk's store space in use." },
  { "disk_preserved_blocks", false, "blocks-preserved", PLAIN,
    "Blocks of this disk preserved in its store." },
  { "disk_read_bytes", false, "bytes-read", PLAIN,
    "Bytes read from this disk's snapshot export." },
  { "disk_progress_ratio", false, "progress", PLAIN,
    "Bytes read from this disk's snapshot over its data bytes." },
};

static const struct def last[] = {
  { "last_snapshot_generation", false, "generation", PLAIN,
    "The last ended snapshot's generation." },
  { "last_snapshot_taken_timestamp_seconds", false, "taken-at", UTC,
    "When the last ended snapshot was taken." },
  { "last_snapshot_ended_timestamp_seconds", false, "ended-at", UTC,
    "When the last ended snapshot ended." },
  { "last_snapshot_application_consistent", false, "consistency", APP,
    "1 if the last ended snapshot was application-consistent." },
  { "last_snapshot_broken", false, "broken", TRUTH,
    "1 if the last ended snapshot was broken when it ended." },
  { "last_snapshot_read_bytes", false, "bytes-read", PLAIN,
    "Bytes read from the last ended snapshot." },
  { "last_snapshot_copied_bytes", false, "bytes-copied", PLAIN,
    "Bytes copied before writes for the last ended snapshot." },
};

#define N(a) (sizeof (a) / sizeof (a)[0])

bool
metrics_label_ok (const char *label)
{
  static const char *ours[] = { "disk", "state", "ended_by" };
  size_t i, n = strcspn (label, "=");

  if (label[n] != '=' || n == 0 || strncmp (label, "__", 2) == 0 ||
      strspn (label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
              "0123456789_") != n || (label[0] >= '0' && label[0] <= '9'))
    return false;
  for (i = 0; i < N (ours); i++)
    if (strlen (ours[i]) == n && strncmp (label, ours[i], n) == 0)
      return false;
  return true;
}

/* The member, or NULL when missing or null. */
static json_object *
get (json_object *o, const char *key)
{
  json_object *v = NULL;

  if (o == NULL || !json_object_object_get_ex (o, key, &v))
    return NULL;
  return v;
}

static bool
is (json_object *v, const char *s)
{
  return json_object_is_type (v, json_type_string) &&
    strcmp (json_object_get_string (v), s) == 0;
}

/* The sample value of member key of o in buf; false if there is none
 * (missing, null, or not what conv expects).
 */
static bool
value (json_object *o, const char *key, enum conv conv, char *buf,
       size_t len)
{
  json_object *v = get (o, key);
  bool number = json_object_is_type (v, json_type_int) ||
    json_object_is_type (v, json_type_double);
  double t;

  switch (conv) {
  case PLAIN:
    if (json_object_is_type (v, json_type_int))
      snprintf (buf, len, "%" PRId64, json_object_get_int64 (v));
    else if (number)
      snprintf (buf, len, "%.10g", json_object_get_double (v));
    return number;
  case MS:
    if (number)
      snprintf (buf, len, "%.10g", json_object_get_double (v) / 1000);
    return number;
  case UTC:
    if (!json_object_is_type (v, json_type_string) ||
        !utc_parse (json_object_get_string (v), &t))
      return false;
    snprintf (buf, len, "%.3f", t);
    return true;
  case TRUTH:
    snprintf (buf, len, "%d", json_object_get_boolean (v));
    return json_object_is_type (v, json_type_boolean);
  case APP:
    snprintf (buf, len, "%d", is (v, "application-consistent"));
    return json_object_is_type (v, json_type_string);
  case BROKEN:
    snprintf (buf, len, "%d", is (v, "broken"));
    return json_object_is_type (v, json_type_string);
  }
  return false;
}

/* Each metric of defs[n] from object o: one sample each. */
static void
family_each (const struct metrics *m, const struct def *defs, size_t n,
             json_object *o)
{
  char v[64];
  size_t i;

  for (i = 0; i < n; i++)
    if (value (o, defs[i].key, defs[i].conv, v, sizeof v)) {
      metrics_header (m, defs[i].name, defs[i].counter, defs[i].help);
      metrics_sample (m, defs[i].name, defs[i].counter, NULL, NULL, v);
    }
}

/* One metric with a sample per disk (label disk). */
static void
family_disks (const struct metrics *m, const struct def *d,
              json_object *disks)
{
  size_t i, n = json_object_is_type (disks, json_type_array)
    ? json_object_array_length (disks) : 0;
  json_object *o, *name;
  bool first = true;
  char v[64];

  for (i = 0; i < n; i++) {
    o = json_object_array_get_idx (disks, i);
    name = get (o, "name");
    if (name == NULL || !value (o, d->key, d->conv, v, sizeof v))
      continue;
    if (first)
      metrics_header (m, d->name, d->counter, d->help);
    first = false;
    metrics_sample (m, d->name, d->counter, "disk",
                    json_object_get_string (name), v);
  }
}

/* A counter with a sample per member of o (label: the member name). */
static void
family_members (const struct metrics *m, const char *name,
                const char *label, const char *help, json_object *o)
{
  char v[64];

  if (!json_object_is_type (o, json_type_object) ||
      json_object_object_length (o) == 0)
    return;
  metrics_header (m, name, true, help);
  json_object_object_foreach (o, key, val) {
    if (value (o, key, PLAIN, v, sizeof v))
      metrics_sample (m, name, true, label, key, v);
    (void) val;
  }
}

/* snapshot_state{state="..."}: 1 for the state, 0 for the others. */
static void
family_state (const struct metrics *m, json_object *state)
{
  static const char *states[] = { "none", "creating", "active", "broken" };
  size_t i;

  if (!json_object_is_type (state, json_type_string))
    return;
  metrics_header (m, "snapshot_state", false,
                  "1 for the snapshot's state, 0 for the others.");
  for (i = 0; i < N (states); i++)
    metrics_sample (m, "snapshot_state", false, "state", states[i],
                    is (state, states[i]) ? "1" : "0");
}

/* The last ended snapshot: gauges, and ended_by{ended_by="..."} 1. */
static void
family_last (const struct metrics *m, json_object *l)
{
  json_object *by = get (l, "ended-by");

  if (!json_object_is_type (l, json_type_object))
    return;
  family_each (m, last, N (last), l);
  if (!json_object_is_type (by, json_type_string))
    return;
  metrics_header (m, "last_snapshot_ended_by", false,
                  "1, labelled with how the last ended snapshot ended.");
  metrics_sample (m, "last_snapshot_ended_by", false, "ended_by",
                  json_object_get_string (by), "1");
}

void
metrics_status (const struct metrics *m, json_object *r)
{
  json_object *t = get (r, "totals");
  size_t i;

  family_each (m, totals, N (totals), t);
  family_members (m, "snapshots_ended", "ended_by",
                  "Snapshots ended, by how they ended.",
                  get (t, "snapshots-ended-by"));
  family_state (m, get (r, "state"));
  family_each (m, snapshot, N (snapshot), r);
  for (i = 0; i < N (disk); i++)
    family_disks (m, &disk[i], get (r, "disks"));
  family_last (m, get (r, "last-snapshot"));
  metrics_end (m);
}
