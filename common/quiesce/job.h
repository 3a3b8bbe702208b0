/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, a bounded job on a detached worker thread.
 *
 * Use: job = qga_job_new (fn, free_data, data); qga_job_start (job);
 * qga_job_wait (job, deadline); read the results fn wrote into data
 * if the wait says done; qga_job_release (job).  The caller may give
 * up waiting; the worker then finishes alone, and whichever of the two
 * lets go last frees data.
 *
 * Locking: the calls on one job are made by one thread, the one that
 * made it.  fn runs with no lock of this file held.
 */
#ifndef QUIESCE_JOB_H
#define QUIESCE_JOB_H

#include <stdbool.h>
#include <stdint.h>

struct qga_job;

/* Set the clock of qga_job_drain's wait to CLOCK_MONOTONIC, and make
 * the key through which workers hold this module in memory.  Call
 * before the first job, while no job runs.
 */
extern void qga_job_init (void);

/* A job that will run fn (data) once and, when its last reference
 * goes, call free_data (data) if free_data is not NULL.  The caller
 * holds one reference.  NULL if out of memory: data is untouched and
 * still the caller's.
 */
extern struct qga_job *qga_job_new (void (*fn) (void *data),
                                    void (*free_data) (void *data),
                                    void *data);

/* Start the job's detached worker thread, which holds a reference of
 * its own until fn has returned, and a reference on this module (so
 * that nbdkit's dlclose cannot unmap the code it runs) until the
 * thread has exited.  0, or an error number (of the failing pthread
 * call; ELIBACC if the module reference cannot be taken; EINVAL
 * without qga_job_init): then fn never runs, and the caller still
 * holds its reference and must release it.  Call at most once per
 * job.
 */
extern int qga_job_start (struct qga_job *job);

/* Wait until fn has returned or deadline_ns (CLOCK_MONOTONIC, see
 * monotime.h) has passed.  True if fn returned: everything it wrote
 * into data is then visible to the caller.
 */
extern bool qga_job_wait (struct qga_job *job, uint64_t deadline_ns);

/* Drop the caller's reference.  After this, data belongs to the
 * worker (if it is still running) and may be freed at any time.
 */
extern void qga_job_release (struct qga_job *job);

/* Wait until every started worker has finished or deadline_ns
 * (CLOCK_MONOTONIC) has passed.  Returns how many still run.  A worker
 * counted as finished may still be leaving this module's code; its
 * module reference keeps the code mapped until it has left.
 */
extern unsigned qga_job_drain (uint64_t deadline_ns);

#endif /* QUIESCE_JOB_H */
