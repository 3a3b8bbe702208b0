/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: parse a duration parameter (see parse-duration.h). */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "parse-duration.h"

static const struct {
  const char *suffix;
  uint64_t ns;
} units[] = {
  { "s",  UINT64_C (1000000000) },
  { "ms", UINT64_C (1000000) },
  { "us", UINT64_C (1000) },
  { "m",  UINT64_C (60000000000) },
  { "h",  UINT64_C (3600000000000) },
};

int
parse_duration (const char *str, uint64_t *ns)
{
  uint64_t v = 0;
  const char *p = str;
  size_t i;

  if (*p < '0' || *p > '9')
    return -1;
  for (; *p >= '0' && *p <= '9'; p++) {
    v = v * 10 + (uint64_t) (*p - '0');
    if (v > DURATION_MAX_NS)     /* also keeps the multiply below safe */
      return -1;
  }
  if (*p == '\0' && v == 0) {   /* 0 is 0 in every unit */
    *ns = 0;
    return 0;
  }
  for (i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp (p, units[i].suffix) == 0) {
      if (v > DURATION_MAX_NS / units[i].ns)
        return -1;
      *ns = v * units[i].ns;
      return 0;
    }
  }
  return -1;
}
