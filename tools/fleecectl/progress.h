/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup: the progress line on standard error, when it is a
 * terminal and --json is not given: one line redrawn with \r,
 * "0002-incr: 1.2 GiB of 3.0 GiB, 120 MiB/s, ETA 0:15".  Rates and
 * ETAs from a monotonic clock since the copy started.  Called from
 * one thread only.
 */
#ifndef FLEECECTL_PROGRESS_H
#define FLEECECTL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
  const char *name;             /* the backup's name */
  uint64_t total;               /* bytes to examine, all disks */
  uint64_t base;                /* examined in the disks already done */
  double start;                 /* monotonic seconds */
  bool on, drawn;
};

/* Seconds on the monotonic clock. */
extern double progress_now (void);

/* Start: on decides whether anything is ever drawn. */
extern void progress_start (struct progress *p, const char *name,
                            uint64_t total, bool on);

/* A copy tick (backup-copy.h): examined bytes of the current disk. */
extern void progress_tick (void *p, uint64_t examined);

/* Erase the line, if one was drawn. */
extern void progress_clear (struct progress *p);

#endif /* FLEECECTL_PROGRESS_H */
