/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the control protocol, without I/O (see proto.h).
 *
 * A request is one line holding one JSON object, parsed strictly:
 * json-c (JSON_TOKENER_STRICT, valid UTF-8) makes the values, and
 * control_json_scan (json.h) checks the text against RFC 8259 itself,
 * refuses a member name given twice at any depth, and finds the exact
 * text of "id".  Members: "command" (required string), "id" (any value,
 * echoed exactly as written), "quiesce" and "fresh" (snapshot-begin
 * only), "since", "disk", "offset" and "length" (changes only).  Any
 * other member is a bad-request, so a typo never silently
 * changes a command.  Blank lines are ignored (no reply).
 *
 * Not handled here: line framing and the line length limit (the
 * caller splits lines and answers line-too-long itself), permissions,
 * and running the commands.  No state, no locks.
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "proto.h"
#include "proto-int.h"

void
control_invalid (struct control_request *req, const char *code,
                 const char *fmt, ...)
{
  va_list ap;

  req->command = CONTROL_INVALID;
  req->error_code = code;
  va_start (ap, fmt);
  vsnprintf (req->error_message, sizeof req->error_message, fmt, ap);
  va_end (ap);
}

static bool
blank (const char *s, size_t len)
{
  size_t i;

  for (i = 0; i < len; i++)
    if (s[i] != ' ' && s[i] != '\t')
      return false;
  return true;
}

/* One JSON value filling the whole line into *obj (NULL for JSON
 * null).  0, or -1 after invalid().
 */
static int
parse_json (const char *line, size_t len, struct control_request *req,
            json_object **obj)
{
  json_tokener *tok;
  enum json_tokener_error e;
  size_t end;
  int r = -1;

  *obj = NULL;
  if (memchr (line, '\0', len) != NULL) {
    control_invalid (req, "parse-error", "the line contains a NUL byte");
    return -1;
  }
  if ((tok = json_tokener_new ()) == NULL) {
    control_invalid (req, "parse-error", "out of memory parsing the request");
    return -1;
  }
  json_tokener_set_flags (tok, JSON_TOKENER_STRICT |
                          JSON_TOKENER_VALIDATE_UTF8);
  *obj = json_tokener_parse_ex (tok, line, len);
  end = json_tokener_get_parse_end (tok);
  if ((e = json_tokener_get_error (tok)) == json_tokener_continue) {
    *obj = json_tokener_parse_ex (tok, " ", 1);  /* ends a bare number */
    end = len;
    e = json_tokener_get_error (tok);
  }
  if (e != json_tokener_success)
    control_invalid (req, "parse-error", "not valid JSON: %s",
             e == json_tokener_continue ? "incomplete value"
             : json_tokener_error_desc (e));
  else if (end < len && !blank (line + end, len - end))
    control_invalid (req, "parse-error", "unexpected characters after the JSON "
             "object: one request per line");
  else
    r = 0;
  if (r == -1) {
    json_object_put (*obj);
    *obj = NULL;
  }
  json_tokener_free (tok);
  return r;
}

/* How many bytes of s to quote in a message: at most 100, cut on a
 * UTF-8 character boundary (the reply must stay valid UTF-8).
 */
static int
quote_len (const char *s)
{
  size_t len = strnlen (s, 101);

  if (len > 100)
    for (len = 100; len > 0 && (s[len] & 0xc0) == 0x80; len--)
      ;
  return len;
}

/* The names a request may give, with their values. */
struct name {
  const char *name;
  int value;
};
#define NAMES(t) (t), sizeof (t) / sizeof (t)[0]

static const struct name commands[] = {
  { "snapshot-begin", CONTROL_BEGIN },
  { "snapshot-end", CONTROL_END },
  { "status", CONTROL_STATUS },
  { "changes", CONTROL_CHANGES },
};

static const struct name modes[] = {           /* "quiesce" */
  { "auto", CONTROL_QUIESCE_AUTO },
  { "require", CONTROL_QUIESCE_REQUIRE },
  { "off", CONTROL_QUIESCE_OFF },
};

/* name's value in table[0..n), or none if it is not there. */
static int
lookup (const struct name *table, size_t n, const char *name, int none)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp (name, table[i].name) == 0)
      return table[i].value;
  return none;
}

/* Any member no command has?  Its name or NULL. */
static const char *
unknown_member (json_object *obj)
{
  static const char *const known[] = {
    "command", "id", "quiesce", "fresh", "since", "disk", "offset", "length"
  };
  size_t i;

  json_object_object_foreach (obj, key, val) {
    (void) val;
    for (i = 0; i < sizeof known / sizeof known[0]; i++)
      if (strcmp (key, known[i]) == 0)
        break;
    if (i == sizeof known / sizeof known[0])
      return key;
  }
  return NULL;
}

/* Check the members of the request object and fill req. */
static void
parse_members (json_object *obj, struct control_request *req)
{
  json_object *cmd = NULL, *q = NULL;
  const char *bad = unknown_member (obj);
  enum control_quiesce m;

  if (bad != NULL)
    control_invalid (req, "bad-request", "unknown member \"%.*s\": "
             "expected command, id, quiesce, fresh, since, disk, offset, "
             "length", quote_len (bad), bad);
  else if (!json_object_object_get_ex (obj, "command", &cmd) ||
           !json_object_is_type (cmd, json_type_string))
    control_invalid (req, "bad-request", "\"command\" must be a string");
  else if ((req->command = lookup (NAMES (commands),
                                   json_object_get_string (cmd),
                                   CONTROL_NONE)) == CONTROL_NONE)
    control_invalid (req, "unknown-command", "unknown command \"%.*s\": "
             "expected snapshot-begin, snapshot-end, status or changes",
             quote_len (json_object_get_string (cmd)),
             json_object_get_string (cmd));
  else if (!json_object_object_get_ex (obj, "quiesce", &q))
    ;                           /* the default mode */
  else if (req->command != CONTROL_BEGIN)
    control_invalid (req, "bad-request", "\"quiesce\" is only allowed with "
             "snapshot-begin");
  else if (!json_object_is_type (q, json_type_string) ||
           (m = lookup (NAMES (modes), json_object_get_string (q),
                        CONTROL_QUIESCE_DEFAULT)) == CONTROL_QUIESCE_DEFAULT)
    control_invalid (req, "bad-request", "\"quiesce\" must be \"auto\", "
             "\"require\" or \"off\"");
  else
    req->quiesce = m;
}

/* The reply echoes the id's own text (raw[0..raw_len)): json-c's
 * value of it (id) is given a serializer that writes that text.  A
 * CR or LF in it can only be white space (control_json_scan refuses
 * them in strings); each becomes a space, so the reply stays one line.
 * Returns the new reference to id, or NULL for JSON null.
 */
static json_object *
echo_id (json_object *id, const char *raw, size_t raw_len)
{
  char *text, *p;

  if (id == NULL || raw == NULL || (text = strndup (raw, raw_len)) == NULL)
    return json_object_get (id);        /* json-c's own rendering */
  for (p = text; (p = strpbrk (p, "\r\n")) != NULL; p++)
    *p = ' ';
  json_object_set_serializer (id, json_object_userdata_to_json_string,
                              text, json_object_free_userdata);
  return json_object_get (id);
}

/* "fresh": a boolean, snapshot-begin only.  Called after
 * parse_members succeeded.
 */
static void
parse_fresh (json_object *obj, struct control_request *req)
{
  json_object *f = NULL;

  if (!json_object_object_get_ex (obj, "fresh", &f))
    ;                           /* adopt an active snapshot */
  else if (req->command != CONTROL_BEGIN)
    control_invalid (req, "bad-request", "\"fresh\" is only allowed with "
             "snapshot-begin");
  else if (!json_object_is_type (f, json_type_boolean))
    control_invalid (req, "bad-request", "\"fresh\" must be true or false");
  else
    req->fresh = json_object_get_boolean (f);
}

void
control_parse (const char *line, size_t len, struct control_request *req)
{
  json_object *obj, *id;
  const char *raw;
  size_t raw_len;
  char why[160];

  memset (req, 0, sizeof *req);
  req->command = CONTROL_NONE;
  req->quiesce = CONTROL_QUIESCE_DEFAULT;
  if (len > 0 && line[len - 1] == '\r')
    len--;
  if (blank (line, len))
    return;
  if (parse_json (line, len, req, &obj) == -1)
    return;
  switch (control_json_scan (line, len, "id", &raw, &raw_len,
                             why, sizeof why)) {
  case CONTROL_JSON_SYNTAX:
    control_invalid (req, "parse-error", "not valid JSON (RFC 8259) %s", why);
    break;
  case CONTROL_JSON_DUPLICATE:
    control_invalid (req, "bad-request", "%s: give each member once", why);
    break;
  case CONTROL_JSON_NUL_NAME:
    control_invalid (req, "bad-request", "%s", why);
    break;
  case CONTROL_JSON_OK:
    if (!json_object_is_type (obj, json_type_object))
      control_invalid (req, "bad-request", "a request must be a JSON object");
    else {
      if (json_object_object_get_ex (obj, "id", &id))
        req->id = echo_id (id, raw, raw_len);
      parse_members (obj, req);
      if (req->command != CONTROL_INVALID)
        parse_fresh (obj, req);
      if (req->command != CONTROL_INVALID)
        control_parse_changes (obj, req);
    }
  }
  json_object_put (obj);
}

void
control_request_free (struct control_request *req)
{
  json_object_put (req->id);
  req->id = NULL;
}

json_object *
control_reply_ok (json_object *id)
{
  json_object *r = json_object_new_object ();

  if (r == NULL)
    return NULL;
  if (json_object_object_add (r, "id", json_object_get (id)) == -1 ||
      json_object_object_add (r, "ok", json_object_new_boolean (1)) == -1) {
    json_object_put (r);
    return NULL;
  }
  return r;
}

char *
control_reply_line (json_object *reply)
{
  const char *s;
  char *line = NULL;

  if (reply == NULL)
    return NULL;
  s = json_object_to_json_string_ext (reply, JSON_C_TO_STRING_PLAIN |
                                      JSON_C_TO_STRING_NOSLASHESCAPE);
  if (s == NULL || asprintf (&line, "%s\n", s) == -1)
    line = NULL;
  json_object_put (reply);
  return line;
}

char *
control_error_line (json_object *id, const char *code, const char *message)
{
  json_object *r = json_object_new_object ();
  json_object *e = json_object_new_object ();

  if (r == NULL || e == NULL ||
      json_object_object_add (e, "code", json_object_new_string (code)) ||
      json_object_object_add (e, "message",
                              json_object_new_string (message)) ||
      json_object_object_add (r, "id", json_object_get (id)) ||
      json_object_object_add (r, "ok", json_object_new_boolean (0))) {
    json_object_put (r);
    json_object_put (e);
    return NULL;
  }
  json_object_object_add (r, "error", e);
  return control_reply_line (r);
}
