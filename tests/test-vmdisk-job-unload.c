/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's worker threads (the quiesce library's
 * bounded job, common/quiesce/job.c) against the plugin's unload.
 *
 * nbdkit dlcloses the plugin after .cleanup, which waits for the
 * workers with qga_job_drain.  A worker that drain has counted as
 * finished still runs plugin code for a few instructions: it unlocks
 * the count's mutex and returns.  If the plugin is unmapped in that
 * window, the worker returns into nothing and nbdkit crashes.  This
 * test holds the window open deterministically: the job, built as a
 * module of its own (job-module.c), is dlopened; this program
 * interposes pthread_cond_timedwait (to learn the mutex that drain
 * waits with) and pthread_mutex_unlock (so that the worker, right
 * after unlocking that mutex, that is after the count has dropped,
 * waits until the main thread has dlclosed the module).  With the
 * module pinned only by a count, the worker then returns into
 * unmapped code and the test dies with SIGSEGV; with the worker's own
 * module reference (dropped by libc at thread exit) the module must
 * still be mapped after the dlclose, and unmapped once the worker has
 * exited.
 *
 * What it does not prove: that no other path of the plugin runs code
 * after nbdkit's dlclose; it checks the job's contract (job.h).
 */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nbdkit-plugin.h>

#define BOUND_S 20              /* bounds every wait (a regression hangs) */

static int (*real_unlock) (pthread_mutex_t *);
static int (*real_timedwait) (pthread_cond_t *, pthread_mutex_t *,
                              const struct timespec *);

static pthread_mutex_t *drain_mutex; /* set by the main thread in drain */
static pthread_t main_thread;
static sem_t in_drain;          /* the main thread waits in drain */
static sem_t unloaded;          /* the main thread has dlclosed */
static volatile bool held;      /* the worker was held in the window */

/* The job logs through nbdkit; the module finds this at dlopen. */
void
nbdkit_debug (const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  fprintf (stderr, "debug: ");
  vfprintf (stderr, fs, args);
  fprintf (stderr, "\n");
  va_end (args);
}

static void
wait_sem (sem_t *sem, const char *what)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  ts.tv_sec += BOUND_S;
  while (sem_timedwait (sem, &ts) == -1) {
    if (errno != EINTR) {
      fprintf (stderr, "test-vmdisk-job-unload: FAIL: timed out waiting "
               "for %s\n", what);
      _exit (1);
    }
  }
}

int
pthread_cond_timedwait (pthread_cond_t *cond, pthread_mutex_t *mutex,
                        const struct timespec *abstime)
{
  if (pthread_equal (pthread_self (), main_thread) && drain_mutex == NULL) {
    drain_mutex = mutex;
    sem_post (&in_drain);
  }
  return real_timedwait (cond, mutex, abstime);
}

int
pthread_mutex_unlock (pthread_mutex_t *mutex)
{
  bool hold = mutex == drain_mutex &&
    !pthread_equal (pthread_self (), main_thread);
  int r;

  /* The worker has just dropped the count: say so before the unlock
   * (drain reads held once it has the mutex back), then hold it here,
   * in the module's code, until the module has been dlclosed.
   */
  if (hold)
    held = true;
  r = real_unlock (mutex);
  if (hold)
    wait_sem (&unloaded, "the main thread's dlclose");
  return r;
}

/* The job's fn, in this program: returns once drain waits. */
static void
job_fn (void *data)
{
  wait_sem (&in_drain, "the main thread to wait in qga_job_drain");
}

static int
find_module (struct dl_phdr_info *info, size_t size, void *found)
{
  if (strstr (info->dlpi_name, "job-module.so"))
    *(bool *) found = true;
  return 0;
}

static bool
module_mapped (void)
{
  bool found = false;

  dl_iterate_phdr (find_module, &found);
  return found;
}

int
main (int argc, char *argv[])
{
  const char *dir = getenv ("abs_builddir");
  char path[4096];
  void *h;
  int (*start) (void (*) (void *));
  unsigned (*drain) (uint64_t);
  struct timespec now;
  uint64_t deadline;
  unsigned left;
  int err, i;

  real_unlock = dlsym (RTLD_NEXT, "pthread_mutex_unlock");
  real_timedwait = dlvsym (RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2");
  if (real_timedwait == NULL)
    real_timedwait = dlsym (RTLD_NEXT, "pthread_cond_timedwait");
  if (real_unlock == NULL || real_timedwait == NULL) {
    fprintf (stderr, "test-vmdisk-job-unload: FAIL: dlsym: %s\n", dlerror ());
    return 1;
  }
  main_thread = pthread_self ();
  sem_init (&in_drain, 0, 0);
  sem_init (&unloaded, 0, 0);

  snprintf (path, sizeof path, "%s/.libs/job-module.so", dir ? dir : ".");
  h = dlopen (path, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    fprintf (stderr, "test-vmdisk-job-unload: FAIL: %s\n", dlerror ());
    return 1;
  }
  start = (int (*) (void (*) (void *))) dlsym (h, "job_module_start");
  drain = (unsigned (*) (uint64_t)) dlsym (h, "job_module_drain");
  if (start == NULL || drain == NULL) {
    fprintf (stderr, "test-vmdisk-job-unload: FAIL: %s\n", dlerror ());
    return 1;
  }

  err = start (job_fn);
  if (err != 0) {
    fprintf (stderr, "test-vmdisk-job-unload: FAIL: job start: %s\n",
             strerror (err));
    return 1;
  }
  clock_gettime (CLOCK_MONOTONIC, &now);
  deadline = (uint64_t) (now.tv_sec + BOUND_S) * 1000000000 + now.tv_nsec;
  left = drain (deadline);
  if (left != 0 || !held) {
    fprintf (stderr, "test-vmdisk-job-unload: FAIL: drain left %u "
             "worker(s), worker held: %d\n", left, held);
    return 1;
  }
  /* As nbdkit does after .cleanup; the worker is still in the module. */
  if (dlclose (h) != 0) {
    fprintf (stderr, "test-vmdisk-job-unload: FAIL: dlclose: %s\n",
             dlerror ());
    return 1;
  }
  if (!module_mapped ()) {
    fprintf (stderr, "test-vmdisk-job-unload: FAIL: the module was "
             "unmapped while its worker still ran in it\n");
    return 1;
  }
  printf ("ok: the module stays mapped while the worker leaves it\n");
  sem_post (&unloaded);         /* the worker returns into the module */

  /* The worker's exit drops the last reference: the module goes. */
  for (i = 0; i < BOUND_S * 1000 && module_mapped (); i++)
    usleep (1000);
  if (module_mapped ()) {
    fprintf (stderr, "test-vmdisk-job-unload: FAIL: the module is still "
             "mapped %d s after its worker's exit\n", BOUND_S);
    return 1;
  }
  printf ("ok: the module is unmapped once the worker has exited\n");
  return 0;
}
