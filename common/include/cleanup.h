/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: scoped cleanup.
 *
 * CLEANUP_FREE frees a pointer when it goes out of scope; initialise it
 * where it is declared (NULL if nothing yet), never leave it undefined.
 * ACQUIRE_LOCK_FOR_CURRENT_SCOPE (and the rwlock variants) take a lock
 * and release it at the end of the enclosing block, on every path.
 * Locking a mutex we own cannot fail for a correctly initialised
 * mutex, so a failure aborts: it is a bug, not a runtime condition.
 */
#ifndef FLEECE_CLEANUP_H
#define FLEECE_CLEANUP_H

#include <pthread.h>
#include <stdlib.h>

static inline void
cleanup_free (void *ptr)
{
  free (*(void **) ptr);
}
#define CLEANUP_FREE __attribute__ ((cleanup (cleanup_free)))

static inline void
cleanup_unlock (pthread_mutex_t **ptr)
{
  if (pthread_mutex_unlock (*ptr) != 0)
    abort ();
}
static inline pthread_mutex_t *
cleanup_lock (pthread_mutex_t *m)
{
  if (pthread_mutex_lock (m) != 0)
    abort ();
  return m;
}

static inline void
cleanup_rwunlock (pthread_rwlock_t **ptr)
{
  if (pthread_rwlock_unlock (*ptr) != 0)
    abort ();
}
static inline pthread_rwlock_t *
cleanup_rdlock (pthread_rwlock_t *l)
{
  if (pthread_rwlock_rdlock (l) != 0)
    abort ();
  return l;
}
static inline pthread_rwlock_t *
cleanup_wrlock (pthread_rwlock_t *l)
{
  if (pthread_rwlock_wrlock (l) != 0)
    abort ();
  return l;
}

#define CLEANUP_CONCAT_(a, b) a##b
#define CLEANUP_CONCAT(a, b) CLEANUP_CONCAT_ (a, b)
#define CLEANUP_UNIQUE(name) CLEANUP_CONCAT (name, __LINE__)

#define ACQUIRE_LOCK_FOR_CURRENT_SCOPE(mutex)                           \
  __attribute__ ((cleanup (cleanup_unlock), unused))                    \
  pthread_mutex_t *CLEANUP_UNIQUE (_lock) = cleanup_lock (mutex)

#define ACQUIRE_RDLOCK_FOR_CURRENT_SCOPE(rwlock)                        \
  __attribute__ ((cleanup (cleanup_rwunlock), unused))                  \
  pthread_rwlock_t *CLEANUP_UNIQUE (_rdlock) = cleanup_rdlock (rwlock)

#define ACQUIRE_WRLOCK_FOR_CURRENT_SCOPE(rwlock)                        \
  __attribute__ ((cleanup (cleanup_rwunlock), unused))                  \
  pthread_rwlock_t *CLEANUP_UNIQUE (_wrlock) = cleanup_wrlock (rwlock)

#endif /* FLEECE_CLEANUP_H */
