/* SPDX-License-Identifier: BSD-3-Clause */
#include <config.h>
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "cleanup.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;

static int
locked_early_return (int early)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);
  if (early)
    return 1;
  return 0;
}

static void
rd_then_check (void)
{
  ACQUIRE_RDLOCK_FOR_CURRENT_SCOPE (&rwlock);
  /* A writer cannot get in while we read. */
  assert (pthread_rwlock_trywrlock (&rwlock) != 0);
}

int
main (void)
{
  /* The mutex is released on both return paths. */
  locked_early_return (1);
  assert (pthread_mutex_trylock (&lock) == 0);
  assert (pthread_mutex_unlock (&lock) == 0);
  locked_early_return (0);
  assert (pthread_mutex_trylock (&lock) == 0);
  assert (pthread_mutex_unlock (&lock) == 0);

  rd_then_check ();
  {
    ACQUIRE_WRLOCK_FOR_CURRENT_SCOPE (&rwlock);
    assert (pthread_rwlock_tryrdlock (&rwlock) != 0);
  }
  assert (pthread_rwlock_trywrlock (&rwlock) == 0);
  assert (pthread_rwlock_unlock (&rwlock) == 0);

  /* CLEANUP_FREE frees (valgrind/ASan would report a leak otherwise)
   * and tolerates NULL.
   */
  {
    CLEANUP_FREE char *p = malloc (16);
    CLEANUP_FREE char *q = NULL;
    assert (p != NULL);
    (void) q;
  }
  printf ("ok\n");
  return 0;
}
