/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: libFuzzer target for parse_duration
 * (common/utils/parse-duration.c), which reads user parameters.
 * Checks beyond "no crash": a success is at most DURATION_MAX_NS and
 * the text has only the documented shape (digits then a unit, which
 * only 0 may lack).
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse-duration.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = malloc (size + 1);
  uint64_t ns = 0;
  size_t digits;

  if (s == NULL)
    return 0;
  memcpy (s, data, size);
  s[size] = '\0';
  if (parse_duration (s, &ns) == 0) {
    digits = strspn (s, "0123456789");
    if (ns > DURATION_MAX_NS || digits == 0 ||
        strspn (s + digits, "usmh") != strlen (s + digits) ||
        (s[digits] == '\0' && ns != 0))
      abort ();
  }
  free (s);
  return 0;
}
