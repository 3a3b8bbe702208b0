/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: reading a UTC time (see utc-parse.h). */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "utc-now.h"
#include "utc-parse.h"

bool
utc_parse (const char *s, double *secs)
{
  struct tm tm = { 0 };
  int ms, n = 0;

  if (s == NULL || strlen (s) != UTC_NOW_LEN - 1 ||
      sscanf (s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon,
              &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms,
              &n) != 7 || s[n] != '\0')
    return false;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  *secs = (double) timegm (&tm) + ms / 1000.0;
  return true;
}
