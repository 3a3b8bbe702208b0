/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: reading a UTC time (see utc-parse.h). */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "utc-parse.h"

bool
utc_parse (const char *s, double *secs)
{
  struct tm tm;
  const char *p;
  char *end;
  double frac = 0;

  memset (&tm, 0, sizeof tm);
  if (s == NULL || (p = strptime (s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
    return false;
  if (*p == '.') {
    frac = strtod (p, &end);
    p = end;
  }
  if (strcmp (p, "Z") != 0)
    return false;
  *secs = (double) timegm (&tm) + frac;
  return true;
}
