/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, guest agent replies (the contract is in
 * agent-reply.h).
 *
 * Design: replies come from a guest, which we do not trust: every
 * field is checked for presence and type before use, and anything
 * unexpected becomes a "malformed reply" reason quoting a short prefix
 * of what arrived, never a crash or a guessed value.  No state, no
 * locks.
 */
#include <config.h>

#include <stdarg.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "agent-reply.h"

void
qga_reasonf (char *reason, size_t len, const char *fmt, ...)
{
  va_list ap;

  if (len == 0)
    return;
  va_start (ap, fmt);
  vsnprintf (reason, len, fmt, ap);
  va_end (ap);
}

void
qga_reason_append (char *reason, size_t len, const char *fmt, ...)
{
  size_t used;
  va_list ap;

  if (len == 0)
    return;
  used = strnlen (reason, len);
  if (used + 3 >= len)
    return;
  if (used > 0) {
    memcpy (reason + used, "; ", 3);
    used += 2;
  }
  va_start (ap, fmt);
  vsnprintf (reason + used, len - used, fmt, ap);
  va_end (ap);
}

json_object *
qga_reply_parse (const char *text, const char *cmd, char *reason, size_t len)
{
  json_tokener *tok = json_tokener_new ();
  json_object *obj = NULL;
  enum json_tokener_error jerr;

  if (tok == NULL) {
    qga_reasonf (reason, len, "%s: out of memory parsing the reply", cmd);
    return NULL;
  }
  obj = json_tokener_parse_ex (tok, text, -1);
  jerr = json_tokener_get_error (tok);
  if (obj == NULL || jerr != json_tokener_success) {
    qga_reasonf (reason, len, "%s: garbled reply from the guest agent "
                 "(%s): %.60s", cmd,
                 jerr == json_tokener_continue ? "incomplete JSON"
                 : json_tokener_error_desc (jerr), text);
    json_object_put (obj);
    obj = NULL;
  }
  json_tokener_free (tok);
  return obj;
}

/* True if an agent error description says the command was disabled
 * in the guest (qemu-ga --block-rpcs / --allow-rpcs).
 */
static bool
qga_desc_is_disabled (const char *class, const char *desc)
{
  return (class && strcmp (class, "CommandNotFound") == 0) ||
    (class && strcmp (class, "CommandDisabled") == 0) ||
    (desc && strstr (desc, "has been disabled") != NULL);
}

static int
error_reply (json_object *err, const char *cmd, char *reason, size_t len)
{
  json_object *jclass, *jdesc;
  const char *class = NULL, *desc = NULL;

  if (json_object_object_get_ex (err, "class", &jclass) &&
      json_object_is_type (jclass, json_type_string))
    class = json_object_get_string (jclass);
  if (json_object_object_get_ex (err, "desc", &jdesc) &&
      json_object_is_type (jdesc, json_type_string))
    desc = json_object_get_string (jdesc);
  if (class == NULL || desc == NULL)
    qga_reasonf (reason, len, "%s: malformed error reply from the guest "
                 "agent: %.80s", cmd, json_object_to_json_string (err));
  else if (qga_desc_is_disabled (class, desc))
    qga_reasonf (reason, len, "%s is disabled in the guest agent (allow it "
                 "in qemu-ga's --allow-rpcs/--block-rpcs configuration): "
                 "%s", cmd, desc);
  else
    qga_reasonf (reason, len, "%s failed in the guest agent: %s: %s",
                 cmd, class, desc);
  return -1;
}

int
qga_reply_return (json_object *reply, const char *cmd,
                  json_object **ret, char *reason, size_t len)
{
  json_object *err;

  if (!json_object_is_type (reply, json_type_object)) {
    qga_reasonf (reason, len, "%s: malformed reply from the guest agent "
                 "(not an object): %.80s", cmd,
                 json_object_to_json_string (reply));
    return -1;
  }
  if (json_object_object_get_ex (reply, "error", &err)) {
    if (!json_object_is_type (err, json_type_object)) {
      qga_reasonf (reason, len, "%s: malformed error reply from the guest "
                   "agent: %.80s", cmd, json_object_to_json_string (reply));
      return -1;
    }
    return error_reply (err, cmd, reason, len);
  }
  if (!json_object_object_get_ex (reply, "return", ret)) {
    qga_reasonf (reason, len, "%s: malformed reply from the guest agent "
                 "(no \"return\" or \"error\"): %.80s", cmd,
                 json_object_to_json_string (reply));
    return -1;
  }
  return 0;
}

int
qga_reply_count (json_object *ret, const char *cmd, char *reason, size_t len)
{
  int64_t n;

  if (!json_object_is_type (ret, json_type_int)) {
    qga_reasonf (reason, len, "%s: malformed reply from the guest agent "
                 "(expected a filesystem count): %.80s", cmd,
                 json_object_to_json_string (ret));
    return -1;
  }
  n = json_object_get_int64 (ret);
  if (n < 0 || n > 1000000) {
    qga_reasonf (reason, len, "%s: the guest agent returned an impossible "
                 "filesystem count %" PRId64, cmd, n);
    return -1;
  }
  return (int) n;
}

int
qga_reply_status (json_object *ret, char *reason, size_t len)
{
  const char *s;

  if (json_object_is_type (ret, json_type_string)) {
    s = json_object_get_string (ret);
    if (strcmp (s, "frozen") == 0)
      return 1;
    if (strcmp (s, "thawed") == 0)
      return 0;
  }
  qga_reasonf (reason, len, "guest-fsfreeze-status: malformed reply from "
               "the guest agent (expected \"frozen\" or \"thawed\"): %.80s",
               json_object_to_json_string (ret));
  return -1;
}
