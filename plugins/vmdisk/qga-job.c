/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk, a bounded job on a detached worker thread.
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
 * Not handled: cancelling.  A fn that never returns keeps its thread
 * and its data, and stays counted in nr_workers; qga_job_drain gives
 * up at its deadline.  It then pins this module in memory
 * (RTLD_NODELETE): nbdkit dlcloses the plugin after .cleanup, and a
 * worker that returned into unmapped code would crash nbdkit at exit.
 * Nothing limits how many abandoned jobs pile up either; the caller's
 * own serialisation and deadlines keep that small.
 *
 * Locking: job->lock protects refs and done; workers_lock protects
 * nr_workers.  Neither is held while fn runs, and the two are never
 * held together.
 */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <nbdkit-plugin.h>

#include "cleanup.h"
#include "monotime.h"
#include "qga-job.h"

struct qga_job {
  pthread_mutex_t lock;         /* protects refs, done */
  pthread_cond_t cond;          /* signalled when done */
  unsigned refs;
  bool done;
  void (*fn) (void *data);
  void (*free_data) (void *data);
  void *data;
};

static pthread_mutex_t workers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t workers_cond = PTHREAD_COND_INITIALIZER;
static unsigned nr_workers;

void
qga_job_init (void)
{
  pthread_condattr_t attr;

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

int
qga_job_start (struct qga_job *job)
{
  pthread_attr_t tattr;
  pthread_t thread;
  int err;

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

/* Keep the object holding this code loaded after nbdkit's dlclose. */
static void
pin_module (void)
{
  Dl_info info;

  if (dladdr ((void *) pin_module, &info) == 0 || info.dli_fname == NULL ||
      dlopen (info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) == NULL)
    nbdkit_debug ("vmdisk: cannot pin the plugin in memory for the calls "
                  "still running: %s", dlerror () ? : "dladdr failed");
  else
    nbdkit_debug ("vmdisk: plugin pinned in memory for the calls still "
                  "running");
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
    pin_module ();
  return nr_workers;
}
