/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup: copying one disk from its snapshot export to its
 * qcow2 target (fleecectl(1), BACKUP).
 *
 * The ranges (the whole disk for a full backup, the dirty extents for
 * an incremental) are cut into units of at most COPY_UNIT bytes, taken
 * from one shared queue by the workers, one per connection.  Each
 * worker has its own source handle (the snapshot export) and target
 * handle (qemu-nbd), with one request in flight on each.  Within a
 * unit, the source's base:allocation extents say what is zero: full
 * backups skip it (the qcow2 stays sparse), incrementals write zeroes
 * over the backing file.  Data is read in pieces of at most
 * COPY_PIECE bytes; a piece that reads all zero counts as zero.
 *
 * Locking: one mutex per copy protects the queue, the counters and
 * the first error; no I/O is done under it.  Every handle is
 * connected before the first worker starts (qemu-nbd exits when its
 * last client leaves) and closed after the last worker ends.
 */
#ifndef FLEECECTL_BACKUP_COPY_H
#define FLEECECTL_BACKUP_COPY_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COPY_UNIT (32 * 1024 * 1024)
#define COPY_PIECE (4 * 1024 * 1024)

struct range {
  uint64_t offset, length;
};

struct copy {
  /* Set by the caller. */
  const char *uri;              /* the server, no export name */
  const char *export;           /* the disk's snapshot export */
  const char *disk;             /* its name, for messages */
  uint64_t size;                /* its size, checked on both ends */
  const char *target;           /* qemu-nbd's socket */
  int connections;
  bool incremental;
  const struct range *ranges;
  size_t nranges;
  volatile sig_atomic_t *stop;  /* set asynchronously: stop soon */

  /* Results: read them under lock while workers run. */
  pthread_mutex_t lock;
  uint64_t examined, copied, zeroed;
  bool failed;
  char error[1024];             /* the first failure: disk, offset, cause */

  /* The queue, under lock. */
  size_t next_range;
  uint64_t next_offset;
};

/* Copy c's ranges.  tick(arg, examined) is called about every 0.5 s
 * from the calling thread while the workers run.  0 if every range
 * was copied, -1 with c->error otherwise (also when stopped).
 */
extern int copy_run (struct copy *c, void (*tick) (void *, uint64_t),
                     void *arg);

#endif /* FLEECECTL_BACKUP_COPY_H */
