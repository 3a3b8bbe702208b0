/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: one request and its reply (see request.h). */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "conn.h"
#include "options.h"
#include "request.h"

static json_object *
make_request (const struct options *o, const char *command, long id,
              uint64_t offset)
{
  json_object *req = json_object_new_object ();
  bool begin = strcmp (command, "snapshot-begin") == 0;
  bool changes = strcmp (command, "changes") == 0;

  if (req == NULL ||
      json_object_object_add (req, "id", json_object_new_int64 (id)) ||
      json_object_object_add (req, "command",
                              json_object_new_string (command)) ||
      (begin && o->quiesce &&
       json_object_object_add (req, "quiesce",
                               json_object_new_string (o->quiesce))) ||
      (begin && o->fresh &&
       json_object_object_add (req, "fresh", json_object_new_boolean (1))) ||
      (changes &&
       json_object_object_add (req, "since",
                               json_object_new_string (o->since))) ||
      (changes && o->disk &&
       json_object_object_add (req, "disk",
                               json_object_new_string (o->disk))) ||
      (changes && offset &&
       json_object_object_add (req, "offset",
                               json_object_new_int64 (offset))))
    die (EXIT_USAGE, "out of memory");
  return req;
}

/* An error reply: report it and exit. */
void
request_fail (const struct options *o, const struct reply *r)
{
  json_object *err = NULL, *code = NULL, *msg = NULL;
  const char *c;

  if (o->json)
    printf ("%s\n", r->line);
  json_object_object_get_ex (r->obj, "error", &err);
  json_object_object_get_ex (err, "code", &code);
  json_object_object_get_ex (err, "message", &msg);
  c = code ? json_object_get_string (code) : "no code";
  die (strcmp (c, "permission-denied") == 0 ? EXIT_PERMISSION
       : strcmp (c, "full-backup-required") == 0 ? EXIT_FULL_BACKUP
       : EXIT_SERVER,
       "%s: %s (%s)", o->socket,
       msg ? json_object_get_string (msg) : "error", c);
}

bool
request (const struct options *o, struct conn *c, const char *command,
         long id, struct reply *r)
{
  return request_at (o, c, command, id, 0, r);
}

int
request_try (const struct options *o, struct conn *c, const char *command,
             long id, uint64_t offset, struct reply *r)
{
  json_object *req = make_request (o, command, id, offset), *ok = NULL;

  r->obj = NULL;
  r->line = conn_exchange (c, json_object_to_json_string_ext
                           (req, JSON_C_TO_STRING_PLAIN));
  json_object_put (req);
  if (r->line == NULL)
    return -1;
  r->obj = json_tokener_parse (r->line);
  if (r->obj == NULL || !json_object_is_type (r->obj, json_type_object) ||
      !json_object_object_get_ex (r->obj, "ok", &ok) ||
      !json_object_is_type (ok, json_type_boolean))
    conn_not_control (c, r->line);
  return json_object_get_boolean (ok) ? 1 : 0;
}

bool
request_at (const struct options *o, struct conn *c, const char *command,
            long id, uint64_t offset, struct reply *r)
{
  int ok = request_try (o, c, command, id, offset, r);

  if (ok == 0)
    request_fail (o, r);
  return ok == 1;
}

void
reply_free (struct reply *r)
{
  json_object_put (r->obj);
  free (r->line);
  r->obj = NULL;
  r->line = NULL;
}
