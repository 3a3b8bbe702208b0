/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the time now, UTC (see utc-now.h). */
#include <config.h>

#include <stdio.h>
#include <time.h>

#include "utc-now.h"

void
utc_now (char *buf, size_t len)
{
  struct timespec now;
  struct tm tm;
  char when[24];

  clock_gettime (CLOCK_REALTIME, &now);
  gmtime_r (&now.tv_sec, &tm);
  strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf, len, "%.20s.%03dZ", when, (int) (now.tv_nsec / 1000000));
}
