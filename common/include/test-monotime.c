/* SPDX-License-Identifier: BSD-3-Clause */
#include <config.h>
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include "monotime.h"

int
main (void)
{
  uint64_t t0, t1;
  struct timespec d;
  pthread_condattr_t attr;
  pthread_cond_t cond;
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

  t0 = monotime_ns ();
  t1 = monotime_ns ();
  assert (t1 >= t0);

  /* A deadline 2 ms ahead lies in the future and is normalised. */
  d = monotime_deadline (2 * NS_PER_MS);
  assert (d.tv_nsec >= 0 && d.tv_nsec < (long) NS_PER_SEC);
  assert ((uint64_t) d.tv_sec * NS_PER_SEC + d.tv_nsec >= t1 + 2 * NS_PER_MS);

  /* And it works with a CLOCK_MONOTONIC condition: the wait times out
   * (nobody signals) no earlier than the deadline.
   */
  assert (pthread_condattr_init (&attr) == 0);
  assert (pthread_condattr_setclock (&attr, CLOCK_MONOTONIC) == 0);
  assert (pthread_cond_init (&cond, &attr) == 0);
  assert (pthread_mutex_lock (&lock) == 0);
  t0 = monotime_ns ();
  d = monotime_deadline (NS_PER_MS);
  while (pthread_cond_timedwait (&cond, &lock, &d) == 0)
    ;
  assert (monotime_ns () - t0 >= NS_PER_MS);
  assert (pthread_mutex_unlock (&lock) == 0);
  printf ("ok\n");
  return 0;
}
