/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: the backup directory DIR of one VM, the chain store
 * (fleecectl(1), FILES).
 *
 *   DIR/.lock                  flock'd by backup and restore, holds the pid
 *   DIR/NNNN-full, NNNN-incr   complete backups (NNNN: 4 or more digits)
 *   DIR/.NNNN-KIND.partial     a backup being written, or left by a crash
 *   DIR/.NNNN-KIND.pruning     a backup being removed by prune, or left
 *                              by a crash (never part of a chain)
 *
 * A backup is written into its partial directory and becomes complete
 * in one rename, after everything in it was fsynced; DIR is fsynced
 * after.  Entries of other names are ignored.  Errors fill err with a
 * sentence naming the path, the problem and the fix.
 */
#ifndef FLEECECTL_BACKUP_DIR_H
#define FLEECECTL_BACKUP_DIR_H

#include <stdbool.h>
#include <stddef.h>

struct bdir {
  char *path;                   /* absolute */
  int lock_fd;                  /* -1 unless locked */
  size_t n;                     /* complete backups */
  char **names;                 /* their names, by sequence */
  size_t npartial;
  char **partials;              /* partial directories' names */
  size_t npruning;
  char **prunings;              /* .pruning directories' names */
  unsigned long last;           /* highest sequence of a complete backup */
  /* Set by bdir_remove_partials: the snapshot a crashed run created
   * and recorded in its partial directory (bdir_note_snapshot), and
   * that directory's name; else NULL.
   */
  char *stale_snapshot, *stale_partial;
};

/* Open DIR (created, mode 0700, if create), lock it if lock, and list
 * its backups.  0, or -1 with err (EXIT_FAILED); -2 if DIR does not
 * exist and !create, or is not a directory (EXIT_USAGE).
 */
extern int bdir_open (struct bdir *d, const char *path, bool create,
                      bool lock, char *err, size_t len);

/* Remove the partial directories (a locked DIR only), printing
 * "incomplete backup NAME left by an interrupted run: removed" for
 * each on stderr, after reading the snapshot one recorded (see
 * stale_snapshot); and the .pruning ones (bdir_remove_pruning).  0, or
 * -1 with err.
 */
extern int bdir_remove_partials (struct bdir *d, char *err, size_t len);

/* Remove the .pruning directories an interrupted prune left (a locked
 * DIR only), printing "backup NAME was being pruned by an interrupted
 * run: removed" for each on stderr.  0, or -1 with err.
 */
extern int bdir_remove_pruning (struct bdir *d, char *err, size_t len);

/* Make the partial directory of the next backup: name gets
 * "NNNN-KIND" (kind "full" or "incr"), partial its path.  0, or -1.
 */
extern int bdir_begin (struct bdir *d, const char *kind, char *name,
                       size_t namelen, char *partial, size_t partlen,
                       char *err, size_t len);

/* Record in partial (as partial/snapshot) that this run created the
 * snapshot named by id ("GENERATION TAKEN-AT"): if the run is killed,
 * the next one knows whose snapshot is still pinned.  Best effort.
 */
extern void bdir_note_snapshot (const char *partial, const char *id);

/* Remove that record, before partial becomes a complete backup. */
extern void bdir_forget_snapshot (const char *partial);

/* fsync partial, rename it to DIR/name, fsync DIR.  0, or -1. */
extern int bdir_complete (struct bdir *d, const char *partial,
                          const char *name, char *err, size_t len);

/* Remove a directory and the files in it: 0 if path is gone after
 * (or was never there), -1 if it is still there.
 */
extern int bdir_remove_tree (const char *path);

/* Unlock and free. */
extern void bdir_close (struct bdir *d);

#endif /* FLEECECTL_BACKUP_DIR_H */
