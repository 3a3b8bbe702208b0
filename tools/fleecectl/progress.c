/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup: the progress line (see progress.h). */
#include <config.h>

#include <stdio.h>
#include <time.h>

#include "progress.h"
#include "show.h"

double
progress_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
progress_start (struct progress *p, const char *name, uint64_t total,
                bool on)
{
  p->name = name;
  p->total = total;
  p->base = 0;
  p->start = progress_now ();
  p->on = on;
  p->drawn = false;
}

void
progress_tick (void *arg, uint64_t examined)
{
  struct progress *p = arg;
  double secs = progress_now () - p->start, rate;
  uint64_t done = p->base + examined;
  long eta;
  char a[32], b[32], r[32];

  if (!p->on || secs <= 0)
    return;
  rate = done / secs;
  eta = rate > 0 ? (long) ((p->total > done ? p->total - done : 0) / rate)
    : -1;
  fprintf (stderr, "\r%s: %s of %s, %s/s, ETA ", p->name,
           show_iec (done, a, sizeof a), show_iec (p->total, b, sizeof b),
           show_iec (rate, r, sizeof r));
  if (eta >= 0)
    fprintf (stderr, "%ld:%02ld\033[K", eta / 60, eta % 60);
  else
    fprintf (stderr, "-\033[K");
  fflush (stderr);
  p->drawn = true;
}

void
progress_clear (struct progress *p)
{
  if (p->drawn)
    fprintf (stderr, "\r\033[K");
  p->drawn = false;
}
