/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup: what the snapshot is, and whether the backup is
 * full or incremental (fleecectl(1), BACKUP).
 *
 * plan_snapshot reads snapshot-begin's and status's replies (their
 * generations must be equal: the snapshot begun is the one described).
 * plan_choose decides: incremental only if nothing forces a full
 * backup and `changes --since PARENT_CHECKPOINT` answers for every
 * disk; otherwise full, for the whole VM, with the reason in
 * full_reason (broken, if not NULL, says why parent's chain cannot be
 * built on: then full).  The dirty ranges of each disk are kept for the copy.
 */
#ifndef FLEECECTL_BACKUP_PLAN_H
#define FLEECECTL_BACKUP_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "backup-copy.h"
#include "conn.h"
#include "manifest.h"
#include "options.h"

struct plan_disk {
  const char *name;             /* in the status reply */
  const char *export;
  uint64_t size;
  struct range *ranges;         /* to examine */
  size_t nranges;
  uint64_t total;               /* their bytes */
};

struct plan {
  json_object *begin, *status;  /* the replies (references held) */
  bool created;
  int64_t generation;
  const char *checkpoint;       /* NULL without tracking */
  const char *taken_at, *description, *consistency, *consistency_reason;
  size_t ndisks;
  struct plan_disk *disks;
  bool incremental;
  char full_reason[512];
};

/* Fill p from the replies (taking references).  0, or -1 with err. */
extern int plan_snapshot (struct plan *p, json_object *begin,
                          json_object *status, char *err, size_t len);

/* Choose full or incremental since parent (NULL: none) and fill the
 * ranges.  Error replies other than full-backup-required end the
 * program (request.h).  0, or -1 if interrupted.
 */
extern int plan_choose (struct plan *p, const struct options *o,
                        struct conn *c, const struct manifest *parent,
                        const char *broken);

/* Free p. */
extern void plan_free (struct plan *p);

#endif /* FLEECECTL_BACKUP_PLAN_H */
