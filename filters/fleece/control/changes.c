/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the changes command (see changes.h).
 *
 * Errors: "not-tracking" (no cbt-dir=), "no-snapshot", "unknown-disk"
 * (or no "disk" on a server of several disks), "bad-request" (a
 * malformed checkpoint id, an offset past the end), and
 * "full-backup-required" with the reason.  A reply holds at most
 * CBT_EXTENTS_MAX extents; "next" says where the next page starts.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <nbdkit-filter.h>

#include "cbt.h"
#include "changes.h"
#include "cleanup.h"
#include "disks.h"

/* The disk req names: its index, or -1 with why filled. */
static int
find_disk (const struct control_request *req, char *why, size_t len)
{
  size_t i, used;

  if (!req->has_disk && fleece_ndisks == 1)
    return 0;
  for (i = 0; req->has_disk && i < fleece_ndisks; i++)
    if (strcmp (req->disk, fleece_disks[i].name) == 0)
      return i;
  used = snprintf (why, len, "%s: the disks are",
                   req->has_disk ? "no such disk" : "give \"disk\"");
  for (i = 0; i < fleece_ndisks && used < len; i++)
    used += snprintf (why + used, len - used, "%s '%s'", i ? "," : "",
                      fleece_disks[i].name);
  return -1;
}

static json_object *
extents_array (const struct cbt_changes *c)
{
  json_object *a = json_object_new_array (), *e;
  size_t i;

  for (i = 0; a && i < c->n; i++) {
    if ((e = json_object_new_object ()) == NULL ||
        json_object_array_add (a, e) == -1) {
      json_object_put (e);
      json_object_put (a);
      return NULL;
    }
    json_object_object_add (e, "offset",
                            json_object_new_int64 (c->e[i].offset));
    json_object_object_add (e, "length",
                            json_object_new_int64 (c->e[i].length));
    json_object_object_add (e, "dirty",
                            json_object_new_boolean (c->e[i].dirty));
  }
  return a;
}

static const char *
error_code (enum cbt_answer a)
{
  switch (a) {
  case CBT_OFF: return "not-tracking";
  case CBT_NO_SNAPSHOT: return "no-snapshot";
  case CBT_FULL_BACKUP: return "full-backup-required";
  case CBT_BAD_REQUEST: case CBT_OK: break;
  }
  return "bad-request";
}

char *
control_run_changes (const struct control_request *req)
{
  CLEANUP_FREE struct cbt_changes *c = malloc (sizeof *c);
  json_object *r, *a;
  enum cbt_answer ans;
  char why[512] = "changed-block tracking is off (no cbt-dir=)";
  int disk;

  if (c == NULL)
    return NULL;
  if ((disk = find_disk (req, why, sizeof why)) == -1)
    return control_error_line (req->id, "unknown-disk", why);
  ans = cbt_changes (req->since, disk, req->offset, req->length, c,
                     why, sizeof why);
  if (ans != CBT_OK) {
    nbdkit_debug ("fleece: control: changes since %s: %s", req->since, why);
    return control_error_line (req->id, error_code (ans), why);
  }
  if ((r = control_reply_ok (req->id)) == NULL)
    return NULL;
  if ((a = extents_array (c)) == NULL ||
      json_object_object_add (r, "granularity",
                              json_object_new_int64 (c->granularity)) ||
      json_object_object_add (r, "extents", a) ||
      json_object_object_add (r, "next", c->more ?
                              json_object_new_int64 (c->next) : NULL)) {
    json_object_put (r);
    return NULL;
  }
  return control_reply_line (r);
}
