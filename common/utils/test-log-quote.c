/* SPDX-License-Identifier: BSD-3-Clause */
/* log_quote: plain text passes, control bytes and backslashes are
 * escaped, long input is cut with "...", the buffer is never overrun.
 */
#include <config.h>

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "log-quote.h"

int
main (void)
{
  char buf[400], small[16], long_in[200];

  log_quote ("vda", buf, sizeof buf);
  assert (strcmp (buf, "vda") == 0);
  log_quote ("a\nb\\c\x7f", buf, sizeof buf);
  assert (strcmp (buf, "a\\x0ab\\x5cc\\x7f") == 0);
  memset (long_in, 'x', sizeof long_in - 1);
  long_in[sizeof long_in - 1] = '\0';
  log_quote (long_in, buf, sizeof buf);
  assert (strlen (buf) == 83 && strcmp (buf + 80, "...") == 0);
  memset (small, '#', sizeof small);
  log_quote ("\n\n\n\n\n\n", small, sizeof small);
  assert (memchr (small, '\0', sizeof small) != NULL);
  assert (strncmp (small, "\\x0a", 4) == 0);
  printf ("ok\n");
  return 0;
}
