/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, a bounded job on a detached worker thread.
 *
 * Design: a call that may block for ever (libvirt's, which nothing
 * below us bounds) runs as fn (data) on a detached thread of its own,
 * and the caller waits for it on a condition variable until its
 * deadline and then stops waiting.  That wait is the hard bound,
 * whatever fn does.
 *
 * States of a job: new (made, not started) -> running -> done (fn
 * returned; its results in data are valid), or running -> abandoned
 * (the caller released the job before done; the worker finishes alone
 * and frees it).  A job has at most two references, the caller's and,
 * from start until fn has returned, the worker's; the last one to go
 * calls free_data (data) and frees the job.  done is set under
 * job->lock after fn returns, so a caller that saw done (under the
 * same lock) sees all fn wrote.
 *
 * nr_workers counts the workers of every job, from just before their
 * thread is started to just after they dropped their reference, so
 * that unload can wait for abandoned jobs, with a bound.
 *
 * The module pin: nbdkit dlcloses the plugin after .cleanup, and a
 * worker must never run, or return into, plugin code once it is
 * unmapped.  nr_workers cannot promise that: a worker that has
 * decremented it still unlocks workers_lock and returns through
 * worker (), and qga_job_drain may see 0 and let the unload go on in
 * between.  No count, flag or lock kept in the plugin can close that
 * window, since whatever the worker does last to release it returns
 * into the plugin.  So each worker holds a reference of its own on
 * this module (a dlopen handle, taken by qga_job_start on the caller's
 * thread, while nbdkit's own reference is certainly held) and lets go
 * of it from code that is not ours: the handle is the worker's value
 * of pin_key, whose destructor is libc's dlclose, which glibc calls
 * from its own thread-exit code after worker () has returned.  When
 * that dlclose unmaps the plugin, no frame of the thread is in it.
 * nbdkit's dlclose at unload then only unmaps the plugin if no worker
 * runs; otherwise the last worker's exit does.  pin_key is never
 * deleted: a worker still running at unload must still find its
 * destructor at its exit (one key per load of the plugin).  If a
 * worker cannot store its handle (pthread_setspecific fails), the
 * handle is leaked and the plugin stays loaded until nbdkit exits:
 * safe, only not tidy.
 *
 * Not handled: cancelling.  A fn that never returns keeps its thread,
 * its data and its module pin, and stays counted in nr_workers;
 * qga_job_drain gives up at its deadline, and the plugin stays mapped
 * until nbdkit exits.  Nothing limits how many abandoned jobs pile up
 * either; the caller's own serialisation and deadlines keep that
 * small.
 *
 * Locking: job->lock protects refs and done; workers_lock protects
 * nr_workers.  Neither is held while fn runs, and the two are never
 * held together.
 */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <nbdkit-plugin.h>

#include "cleanup.h"
#include "monotime.h"
#include "job.h"

struct qga_job {
  pthread_mutex_t lock;         /* protects refs, done */
  pthread_cond_t cond;          /* signalled when done */
  unsigned refs;
  bool done;
  void (*fn) (void *data);
  void (*free_data) (void *data);
  void *data;
  void *pin;                    /* the worker's module reference */
};

static pthread_mutex_t workers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t workers_cond = PTHREAD_COND_INITIALIZER;
static unsigned nr_workers;

static pthread_once_t pin_once = PTHREAD_ONCE_INIT;
static pthread_key_t pin_key;
static int pin_key_err = -1;    /* pthread_key_create's result */

static void
create_pin_key (void)
{
  /* dlclose returns an int that nobody reads; called as a destructor
   * it has the same calling convention as void (void *) on every ABI
   * glibc runs on.  The cast through void (*) (void) says so.
   */
  pin_key_err = pthread_key_create (&pin_key, (void (*) (void *))
                                    (void (*) (void)) dlclose);
}

void
qga_job_init (void)
{
  pthread_condattr_t attr;

  pthread_once (&pin_once, create_pin_key);
  if (pthread_condattr_init (&attr) == 0) {
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_destroy (&workers_cond);
    pthread_cond_init (&workers_cond, &attr);
    pthread_condattr_destroy (&attr);
  }
}

struct qga_job *
qga_job_new (void (*fn) (void *data), void (*free_data) (void *data),
             void *data)
{
  struct qga_job *job = calloc (1, sizeof *job);
  pthread_condattr_t attr;

  if (job == NULL)
    return NULL;
  if (pthread_condattr_init (&attr) != 0) {
    free (job);
    return NULL;
  }
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_mutex_init (&job->lock, NULL);
  pthread_cond_init (&job->cond, &attr);
  pthread_condattr_destroy (&attr);
  job->refs = 1;
  job->fn = fn;
  job->free_data = free_data;
  job->data = data;
  return job;
}

void
qga_job_release (struct qga_job *job)
{
  bool last;

  {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&job->lock);
    last = --job->refs == 0;
  }
  if (!last)
    return;
  if (job->free_data)
    job->free_data (job->data);
  pthread_mutex_destroy (&job->lock);
  pthread_cond_destroy (&job->cond);
  free (job);
}

static void
count_worker (int delta)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&workers_lock);
  nr_workers += delta;
  if (delta < 0)
    pthread_cond_broadcast (&workers_cond);
}

static void *
worker (void *vp)
{
  struct qga_job *job = vp;

  /* From here on our module reference is dropped by libc, after this
   * function has returned (see the design comment).
   */
  if (pthread_setspecific (pin_key, job->pin) != 0)
    nbdkit_debug ("vmdisk: pthread_setspecific failed: the plugin stays "
                  "loaded until nbdkit exits");
  job->fn (job->data);
  {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&job->lock);
    job->done = true;
    pthread_cond_broadcast (&job->cond);
  }
  qga_job_release (job);        /* the worker's reference */
  count_worker (-1);
  return NULL;
}

/* A new reference on the object holding this code, or NULL.  In a
 * program (the tests' quiesce-driver) that is the program itself,
 * which is never unloaded: a handle on it does no harm.
 */
static void *
pin_module (void)
{
  Dl_info info;
  struct link_map *map = NULL;
  const char *err;
  void *pin = NULL;

  if (dladdr1 ((void *) pin_module, &info, (void **) &map,
               RTLD_DL_LINKMAP) != 0 && map != NULL)
    pin = dlopen (map->l_prev == NULL ? NULL : map->l_name,
                  RTLD_NOW | RTLD_NOLOAD);
  if (pin == NULL) {
    err = dlerror ();
    nbdkit_debug ("vmdisk: cannot hold the plugin in memory for a call: %s",
                  err ? err : "not found by dladdr1");
  }
  return pin;
}

int
qga_job_start (struct qga_job *job)
{
  pthread_attr_t tattr;
  pthread_t thread;
  int err;

  if (pin_key_err != 0)         /* qga_job_init not called, or failed */
    return pin_key_err == -1 ? EINVAL : pin_key_err;
  job->pin = pin_module ();
  if (job->pin == NULL)
    return ELIBACC;
  job->refs++;                  /* no other thread knows the job yet */
  count_worker (1);
  err = pthread_attr_init (&tattr);
  if (err == 0) {
    pthread_attr_setdetachstate (&tattr, PTHREAD_CREATE_DETACHED);
    err = pthread_create (&thread, &tattr, worker, job);
    pthread_attr_destroy (&tattr);
  }
  if (err != 0) {
    count_worker (-1);
    job->refs--;
    dlclose (job->pin);         /* nbdkit's own reference is held */
    job->pin = NULL;
  }
  return err;
}

bool
qga_job_wait (struct qga_job *job, uint64_t deadline_ns)
{
  struct timespec ts = { .tv_sec = deadline_ns / NS_PER_SEC,
                         .tv_nsec = deadline_ns % NS_PER_SEC };
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&job->lock);

  while (!job->done &&
         pthread_cond_timedwait (&job->cond, &job->lock, &ts) != ETIMEDOUT)
    ;
  return job->done;
}

unsigned
qga_job_drain (uint64_t deadline_ns)
{
  struct timespec ts = { .tv_sec = deadline_ns / NS_PER_SEC,
                         .tv_nsec = deadline_ns % NS_PER_SEC };
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&workers_lock);

  while (nr_workers > 0 &&
         pthread_cond_timedwait (&workers_cond, &workers_lock, &ts) == 0)
    ;
  if (nr_workers > 0)
    nbdkit_debug ("vmdisk: plugin pinned in memory for the calls still "
                  "running: each lets go when its thread exits");
  return nr_workers;
}
