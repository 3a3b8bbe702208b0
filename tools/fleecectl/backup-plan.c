/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup: full or incremental (see backup-plan.h). */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "backup-plan.h"
#include "request.h"
#include "show.h"

static json_object *
get (json_object *o, const char *key)
{
  json_object *v = NULL;

  json_object_object_get_ex (o, key, &v);
  return v;
}

static const char *
str (json_object *o, const char *key)
{
  json_object *v = get (o, key);

  return v && json_object_is_type (v, json_type_string)
    ? json_object_get_string (v) : NULL;
}

static int
disk_of (struct plan_disk *d, json_object *o, char *err, size_t len)
{
  json_object *size = get (o, "disk-size");

  d->name = str (o, "name");
  d->export = str (o, "export");
  if (d->name == NULL || d->export == NULL || size == NULL ||
      !json_object_is_type (size, json_type_int)) {
    snprintf (err, len, "the status reply has a disk without \"name\", "
              "\"export\" or \"disk-size\": is nbdkit-fleece older than "
              "this fleecectl?");
    return -1;
  }
  d->size = json_object_get_int64 (size);
  return 0;
}

int
plan_snapshot (struct plan *p, json_object *begin, json_object *status,
               char *err, size_t len)
{
  json_object *disks = get (status, "disks"), *created = get (begin, "created");
  int64_t sgen = json_object_get_int64 (get (status, "generation"));
  size_t i;

  memset (p, 0, sizeof *p);
  p->begin = json_object_get (begin);
  p->status = json_object_get (status);
  p->created = created && json_object_get_boolean (created);
  p->generation = json_object_get_int64 (get (begin, "generation"));
  p->checkpoint = str (begin, "checkpoint");
  p->taken_at = str (status, "taken-at");
  p->description = str (begin, "description");
  p->consistency = str (begin, "consistency");
  p->consistency_reason = str (begin, "consistency-reason");
  if (sgen != p->generation) {
    snprintf (err, len, "the snapshot changed during the backup's start "
              "(begun: generation %" PRId64 ", status: %" PRId64 "): "
              "another client ended it; run the backup again", p->generation,
              sgen);
    return -1;
  }
  if (disks == NULL || !json_object_is_type (disks, json_type_array) ||
      json_object_array_length (disks) == 0) {
    snprintf (err, len, "the status reply lists no \"disks\": is "
              "nbdkit-fleece older than this fleecectl?");
    return -1;
  }
  p->ndisks = json_object_array_length (disks);
  p->disks = calloc (p->ndisks, sizeof *p->disks);
  for (i = 0; i < p->ndisks; i++)
    if (disk_of (&p->disks[i], json_object_array_get_idx (disks, i), err,
                 len) == -1)
      return -1;
  return 0;
}

/* The whole of every disk. */
static void
whole (struct plan *p)
{
  size_t i;

  for (i = 0; i < p->ndisks; i++) {
    free (p->disks[i].ranges);
    p->disks[i].ranges = malloc (sizeof (struct range));
    p->disks[i].ranges[0] = (struct range) { 0, p->disks[i].size };
    p->disks[i].nranges = 1;
    p->disks[i].total = p->disks[i].size;
  }
  p->incremental = false;
}

/* Whether the disks (names and sizes) are those of parent; if not,
 * the difference in why.
 */
static bool
same_disks (const struct plan *p, const struct manifest *parent, char *why,
            size_t len)
{
  char a[32], b[32];
  size_t i, j;

  if (p->ndisks != parent->ndisks) {
    snprintf (why, len, "%zu disks, then %zu", parent->ndisks, p->ndisks);
    return false;
  }
  for (i = 0; i < p->ndisks; i++) {
    for (j = 0; j < parent->ndisks; j++)
      if (strcmp (p->disks[i].name, parent->disks[j].name) == 0)
        break;
    if (j == parent->ndisks) {
      snprintf (why, len, "disk \"%s\" is new", p->disks[i].name);
      return false;
    }
    if (p->disks[i].size != parent->disks[j].size) {
      snprintf (why, len, "disk \"%s\" was %s, now %s", p->disks[i].name,
                show_iec (parent->disks[j].size, a, sizeof a),
                show_iec (p->disks[i].size, b, sizeof b));
      return false;
    }
  }
  return true;
}

/* Add one page of a changes reply to d's ranges, merging neighbours. */
static void
add_page (struct plan_disk *d, json_object *reply)
{
  json_object *ext = get (reply, "extents"), *e, *dirty;
  uint64_t off, len;
  size_t i;

  for (i = 0; ext && i < json_object_array_length (ext); i++) {
    e = json_object_array_get_idx (ext, i);
    dirty = get (e, "dirty");
    if (dirty == NULL || !json_object_get_boolean (dirty))
      continue;
    off = json_object_get_int64 (get (e, "offset"));
    len = json_object_get_int64 (get (e, "length"));
    d->total += len;
    if (d->nranges &&
        d->ranges[d->nranges - 1].offset + d->ranges[d->nranges - 1].length == off) {
      d->ranges[d->nranges - 1].length += len;
      continue;
    }
    d->ranges = realloc (d->ranges, (d->nranges + 1) * sizeof *d->ranges);
    d->ranges[d->nranges++] = (struct range) { off, len };
  }
}

/* changes for one disk: 1 answered, 0 full-backup-required (the
 * message in p->full_reason), -1 interrupted.
 */
static int
disk_changes (struct plan *p, struct plan_disk *d, const struct options *o,
              struct conn *c, const char *since)
{
  struct options q = *o;
  struct reply r;
  json_object *next, *error;
  uint64_t offset = 0;
  static long id = 100;
  int ok;

  q.json = false;
  q.since = since;
  q.disk = d->name[0] ? d->name : NULL;
  do {
    ok = request_try (&q, c, "changes", id++, offset, &r);
    if (ok == 0 && (error = get (r.obj, "error")) &&
        str (error, "code") && strcmp (str (error, "code"),
                                        "full-backup-required") == 0) {
      snprintf (p->full_reason, sizeof p->full_reason, "the filter answered "
                "full-backup-required: %s", str (error, "message")
                ? str (error, "message") : "no reason given");
      reply_free (&r);
      return 0;
    }
    if (ok == 0)
      request_fail (&q, &r);
    if (ok == -1)
      return -1;
    add_page (d, r.obj);
    next = get (r.obj, "next");
    offset = next ? json_object_get_int64 (next) : 0;
    reply_free (&r);
  } while (offset != 0);
  return 1;
}

int
plan_choose (struct plan *p, const struct options *o, struct conn *c,
             const struct manifest *parent, const char *broken)
{
  char why[256];
  size_t i;
  int r = 1;

  whole (p);
  if (o->full)
    snprintf (p->full_reason, sizeof p->full_reason, "--full");
  else if (parent == NULL)
    snprintf (p->full_reason, sizeof p->full_reason, "first backup in DIR");
  else if (broken)
    snprintf (p->full_reason, sizeof p->full_reason, "the chain of %s is "
              "broken (%s)", parent->name, broken);
  else if (p->checkpoint == NULL)
    snprintf (p->full_reason, sizeof p->full_reason, "no change tracking "
              "(start nbdkit with cbt-dir=)");
  else if (parent->checkpoint == NULL)
    snprintf (p->full_reason, sizeof p->full_reason, "no change tracking "
              "in %s (it was taken without cbt-dir=)", parent->name);
  else if (!same_disks (p, parent, why, sizeof why))
    snprintf (p->full_reason, sizeof p->full_reason, "the disks changed "
              "since %s (%s)", parent->name, why);
  else {
    for (i = 0; i < p->ndisks; i++) {
      free (p->disks[i].ranges);
      p->disks[i].ranges = NULL;
      p->disks[i].nranges = 0;
      p->disks[i].total = 0;
    }
    for (i = 0; r == 1 && i < p->ndisks; i++)
      r = disk_changes (p, &p->disks[i], o, c, parent->checkpoint);
    if (r == -1)
      return -1;
    p->incremental = r == 1;
    if (r == 0)
      whole (p);
  }
  return 0;
}

void
plan_free (struct plan *p)
{
  size_t i;

  for (i = 0; p->disks && i < p->ndisks; i++)
    free (p->disks[i].ranges);
  free (p->disks);
  json_object_put (p->begin);
  json_object_put (p->status);
  memset (p, 0, sizeof *p);
}
