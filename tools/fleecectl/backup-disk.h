/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup: one disk of a backup (fleecectl(1), BACKUP): its
 * qcow2 file in the partial directory, served by qemu-nbd
 * (backup-target.h), the copy of its ranges (backup-copy.h), then
 * qemu-nbd's exit, the fsync, the SHA-256, and the disk's manifest
 * entry.  The target is the caller's, so that its cleanup can kill
 * qemu-nbd whatever happens here.
 */
#ifndef FLEECECTL_BACKUP_DISK_H
#define FLEECECTL_BACKUP_DISK_H

#include <signal.h>
#include <stddef.h>

#include "backup-plan.h"
#include "backup-target.h"
#include "manifest.h"
#include "options.h"
#include "progress.h"

struct disk_job {
  const struct options *o;      /* --uri, --connections */
  const struct plan *p;
  size_t i;                     /* the disk, in p */
  const struct manifest *parent; /* an incremental's parent */
  const char *partial;          /* the partial directory */
  struct target *t;             /* filled here */
  struct progress *pr;          /* its base grows by the disk's bytes */
  volatile sig_atomic_t *stop;
};

/* Back up disk j->i into md (whose strings it allocates).  0, or -1
 * with one sentence in err naming the disk and the cause.
 */
extern int backup_disk (const struct disk_job *j, struct mdisk *md,
                        char *err, size_t len);

#endif /* FLEECECTL_BACKUP_DISK_H */
