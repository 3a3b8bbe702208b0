/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup --metrics-file PATH: the result of a backup run for
 * Prometheus, in its classic text format (what node exporter's
 * textfile collector reads; the metrics are listed in fleecectl(1),
 * BACKUP METRICS), with --label's label on every sample.
 *
 * Written after the run, whatever its outcome: PATH.tmp.PID, fsynced,
 * renamed over PATH, so that a reader sees the old file or the new one,
 * never a part.  The last success time and the number of backups are
 * DIR's (its newest complete backup's finished-at), so they need no
 * memory of earlier runs.  A failure to write is a warning on standard
 * error: it never changes the backup's exit status.  Single-threaded.
 */
#ifndef FLEECECTL_BACKUP_METRICS_H
#define FLEECECTL_BACKUP_METRICS_H

#include <stdbool.h>

#include "manifest.h"
#include "options.h"

struct backup_result {
  bool ok;                      /* a backup was recorded */
  const struct manifest *m;     /* when ok: its manifest */
  double seconds;               /* the run's duration */
};

/* Write o->metrics_file (nothing if NULL) for result r of a backup
 * into o->output.
 */
extern void backup_metrics_write (const struct options *o,
                                  const struct backup_result *r);

#endif /* FLEECECTL_BACKUP_METRICS_H */
