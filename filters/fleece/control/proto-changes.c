/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the members of the changes request (the protocol
 * core, see proto.h): "since" (a string, required), "disk" (a
 * string), "offset" and "length" (non-negative integers), allowed with
 * changes only.  Pure, like the rest of the core.
 */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "proto.h"
#include "proto-int.h"

/* A member given to the wrong command?  Its name or NULL. */
static const char *
misplaced (json_object *obj, enum control_command c)
{
  static const char *const changes_only[] = { "since", "disk", "offset",
                                              "length" };
  size_t i;

  for (i = 0; c != CONTROL_CHANGES && i < 4; i++)
    if (json_object_object_get_ex (obj, changes_only[i], NULL))
      return changes_only[i];
  return NULL;
}

/* A string member no longer than len - 1 into buf.  1 given, 0 absent,
 * -1 after invalid().
 */
static int
get_string (json_object *obj, const char *name, char *buf, size_t len,
            struct control_request *req)
{
  json_object *v;

  if (!json_object_object_get_ex (obj, name, &v))
    return 0;
  if (!json_object_is_type (v, json_type_string) ||
      (size_t) json_object_get_string_len (v) >= len) {
    control_invalid (req, "bad-request", "\"%s\" must be a string of at most %zu "
             "bytes", name, len - 1);
    return -1;
  }
  memcpy (buf, json_object_get_string (v), json_object_get_string_len (v));
  buf[json_object_get_string_len (v)] = '\0';
  return 1;
}

/* A non-negative integer member into *v (unchanged if absent).  0 or
 * -1 after invalid().
 */
static int
get_u64 (json_object *obj, const char *name, uint64_t *v,
         struct control_request *req)
{
  json_object *j;

  if (!json_object_object_get_ex (obj, name, &j))
    return 0;
  if (!json_object_is_type (j, json_type_int) ||
      json_object_get_int64 (j) < 0) {
    control_invalid (req, "bad-request", "\"%s\" must be a non-negative integer "
             "(bytes)", name);
    return -1;
  }
  *v = json_object_get_int64 (j);
  return 0;
}

void
control_parse_changes (json_object *obj, struct control_request *req)
{
  const char *bad = misplaced (obj, req->command);
  int r;

  if (bad != NULL) {
    control_invalid (req, "bad-request", "\"%s\" is only allowed with changes", bad);
    return;
  }
  if (req->command != CONTROL_CHANGES)
    return;
  if ((r = get_string (obj, "since", req->since, sizeof req->since,
                       req)) == -1)
    return;
  if (r == 0) {
    control_invalid (req, "bad-request", "changes needs \"since\": a checkpoint "
             "id");
    return;
  }
  if ((r = get_string (obj, "disk", req->disk, sizeof req->disk, req)) == -1)
    return;
  req->has_disk = r == 1;
  if (get_u64 (obj, "offset", &req->offset, req) == 0)
    get_u64 (obj, "length", &req->length, req);
}
