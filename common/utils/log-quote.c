/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: a client's string, safe for one log line (see
 * log-quote.h).
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>

#include "log-quote.h"

void
log_quote (const char *s, char *buf, size_t len)
{
  const unsigned char *p = (const unsigned char *) s;
  size_t used = 0, n = 0;
  bool plain;

  buf[0] = '\0';
  for (; *p && n < 80 && used + 8 < len; p++, n++) {
    plain = *p >= 0x20 && *p < 0x7f && *p != '\\';
    used += snprintf (buf + used, len - used, plain ? "%c" : "\\x%02x", *p);
  }
  if (*p)
    snprintf (buf + used, len - used, "...");
}
