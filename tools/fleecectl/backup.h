/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup, restore, verify and prune (fleecectl(1), BACKUP,
 * RESTORE, VERIFY, PRUNE; the layout of DIR in FILES).
 *
 * backup: begin a snapshot through the control socket, copy every
 * disk from its snapshot export into one qcow2 per disk (full, or
 * incremental over the previous backup), record a manifest, end the
 * snapshot if it began it.  The backup appears in DIR only when
 * complete; every failure (an error, SIGINT, SIGTERM) removes what it
 * wrote and exits with EXIT_FAILED.
 */
#ifndef FLEECECTL_BACKUP_H
#define FLEECECTL_BACKUP_H

#include "options.h"

/* The exit status: EXIT_SUCCESS, or EXIT_CRASH for a backup recorded
 * from a crash-consistent snapshot.  Failures exit.
 */
extern int backup (const struct options *o);

/* verify --input DIR: EXIT_SUCCESS or EXIT_FAILED. */
extern int verify (const struct options *o);

/* restore --input DIR [--at NAME] --output PATH: EXIT_SUCCESS, or
 * exits.
 */
extern int restore (const struct options *o);

/* prune --input DIR --keep-chains N [--keep-days D] [--dry-run]
 * (prune.c; the rule in prune-rule.h): EXIT_SUCCESS, or exits.
 */
extern int prune (const struct options *o);

#endif /* FLEECECTL_BACKUP_H */
