/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup: the report of a recorded backup, on standard
 * output: one line per disk and a summary, or with --json one line,
 * the manifest with "seconds" and "rate" (bytes copied per second).
 * A crash-consistent snapshot adds a warning on standard error.
 */
#ifndef FLEECECTL_BACKUP_REPORT_H
#define FLEECECTL_BACKUP_REPORT_H

#include "backup-plan.h"
#include "manifest.h"
#include "options.h"

/* EXIT_SUCCESS, or EXIT_CRASH when crash-consistent. */
extern int report (const struct options *o, const struct manifest *m,
                   const struct plan *p, double seconds);

#endif /* FLEECECTL_BACKUP_REPORT_H */
