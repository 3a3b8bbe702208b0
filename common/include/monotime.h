/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: monotonic time in nanoseconds.
 *
 * Every duration in the project is measured with these; wall-clock
 * time is used only to label a snapshot for humans.
 */
#ifndef FLEECE_MONOTIME_H
#define FLEECE_MONOTIME_H

#include <stdint.h>
#include <time.h>

#define NS_PER_SEC UINT64_C (1000000000)
#define NS_PER_MS UINT64_C (1000000)
#define NS_PER_US UINT64_C (1000)

/* Nanoseconds since an arbitrary point (CLOCK_MONOTONIC). */
static inline uint64_t
monotime_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * NS_PER_SEC + (uint64_t) ts.tv_nsec;
}

/* The CLOCK_MONOTONIC timespec ns nanoseconds from now, for
 * pthread_cond_timedwait on a condition created with that clock.
 */
static inline struct timespec
monotime_deadline (uint64_t ns)
{
  uint64_t t = monotime_ns () + ns;
  struct timespec ts = { .tv_sec = t / NS_PER_SEC, .tv_nsec = t % NS_PER_SEC };

  return ts;
}

#endif /* FLEECE_MONOTIME_H */
