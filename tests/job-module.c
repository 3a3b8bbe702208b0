/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the quiesce library's bounded job (job.c) in a
 * shared object of its own, so
 * that test-vmdisk-job-unload can dlclose it as nbdkit dlcloses the
 * plugin.  Only what the test needs.
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>

#include "job.h"

/* Start a job running fn (NULL), abandoned at once.  0 or an error
 * number.
 */
int
job_module_start (void (*fn) (void *))
{
  struct qga_job *job;
  int err;

  qga_job_init ();
  job = qga_job_new (fn, NULL, NULL);
  if (job == NULL)
    return -1;
  err = qga_job_start (job);
  qga_job_release (job);
  return err;
}

unsigned
job_module_drain (uint64_t deadline_ns)
{
  return qga_job_drain (deadline_ns);
}
