/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: libFuzzer target for the guest agent reply parser
 * (common/quiesce/agent-reply.c): replies come from the guest, which we
 * do not trust.  The first byte picks the reason buffer's length
 * (0-255, to exercise truncation); the rest is the reply text, run
 * through every helper the quiesce backends use on a reply.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent-reply.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char reason[256];
  size_t len;
  char *text;
  json_object *reply, *ret = NULL;
  int n;

  if (size < 1)
    return 0;
  len = data[0];
  if ((text = malloc (size)) == NULL)
    return 0;
  memcpy (text, data + 1, size - 1);
  text[size - 1] = '\0';
  memset (reason, 'x', sizeof reason);
  reason[0] = '\0';

  reply = qga_reply_parse (text, "guest-fsfreeze-freeze", reason, len);
  if (reply != NULL &&
      qga_reply_return (reply, "guest-fsfreeze-freeze", &ret,
                        reason, len) == 0) {
    n = qga_reply_count (ret, "guest-fsfreeze-freeze", reason, len);
    if (n < -1 || n > 1000000)
      abort ();
    n = qga_reply_status (ret, reason, len);
    if (n < -1 || n > 1)
      abort ();
  }
  if (len > 0 && strnlen (reason, len) >= len)
    abort ();                   /* not NUL-terminated inside len */
  qga_reason_append (reason, len, "%s", text);
  if (len > 0 && strnlen (reason, len) >= len)
    abort ();
  json_object_put (reply);
  free (text);
  return 0;
}
