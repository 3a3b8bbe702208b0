/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: libFuzzer target for the control protocol core
 * (filters/fleece/control/: proto.c, proto-changes.c and json.c, nothing else of the
 * filter): one request line from a control client, then the reply
 * line the server would send for it.  Checks
 * beyond "no crash": an invalid request has an error code, and every
 * reply is one line ending in a single newline, holding one JSON
 * object that both control_json_scan (RFC 8259, no repeated names) and
 * json-c (strict, valid UTF-8) accept: the echoed id text and quoted
 * names must never break the reply.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "control/json.h"
#include "control/proto.h"

/* The reply is one JSON object on one line. */
static void
check_json (const char *line, size_t n)
{
  json_tokener *tok = json_tokener_new ();
  json_object *o;
  const char *raw;
  size_t raw_len;
  char why[160];

  if (control_json_scan (line, n, NULL, &raw, &raw_len, why, sizeof why)
      != CONTROL_JSON_OK)
    abort ();
  if (tok == NULL)
    return;
  json_tokener_set_flags (tok, JSON_TOKENER_STRICT |
                          JSON_TOKENER_VALIDATE_UTF8);
  o = json_tokener_parse_ex (tok, line, n);
  if (json_tokener_get_error (tok) != json_tokener_success ||
      !json_object_is_type (o, json_type_object))
    abort ();
  json_object_put (o);
  json_tokener_free (tok);
}

static void
check_line (char *line)
{
  size_t n;

  if (line == NULL)
    return;                     /* allocation failure only */
  n = strlen (line);
  if (n == 0 || line[n - 1] != '\n' || memchr (line, '\n', n - 1) != NULL)
    abort ();
  check_json (line, n - 1);
  free (line);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct control_request req;

  if (size > CONTROL_LINE_MAX)
    return 0;                   /* the caller refuses longer lines */
  {
    /* The text scanner alone, on any input. */
    const char *raw;
    size_t raw_len;
    char why[160];

    if (control_json_scan ((const char *) data, size, "id", &raw, &raw_len,
                           why, sizeof why) == CONTROL_JSON_OK &&
        raw != NULL && (raw < (const char *) data ||
                        raw + raw_len > (const char *) data + size))
      abort ();
  }
  memset (&req, 0, sizeof req);
  control_parse ((const char *) data, size, &req);
  switch (req.command) {
  case CONTROL_NONE:
    break;
  case CONTROL_INVALID:
    if (req.error_code == NULL ||
        strnlen (req.error_message, sizeof req.error_message) ==
        sizeof req.error_message)
      abort ();
    check_line (control_error_line (req.id, req.error_code,
                                    req.error_message));
    break;
  default:
    check_line (control_reply_line (control_reply_ok (req.id)));
  }
  control_request_free (&req);
  return 0;
}
