/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: libFuzzer target for the control protocol parser
 * (filters/fleece/control-proto.c): one request line from a control
 * client, then the reply line the server would send for it.  Checks
 * beyond "no crash": an invalid request has an error code, and every
 * reply is one line ending in a single newline.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control-proto.h"

static void
check_line (char *line)
{
  size_t n;

  if (line == NULL)
    return;                     /* allocation failure only */
  n = strlen (line);
  if (n == 0 || line[n - 1] != '\n' || memchr (line, '\n', n - 1) != NULL)
    abort ();
  free (line);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct control_request req;

  if (size > CONTROL_LINE_MAX)
    return 0;                   /* the caller refuses longer lines */
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
