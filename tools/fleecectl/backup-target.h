/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup: the qcow2 file one disk is written to, through
 * QEMU's own tools: `qemu-img create -f qcow2 [-b BACKING -F qcow2]
 * FILE SIZE`, then `qemu-nbd --fork --shared N` serving it on a Unix
 * socket inside the partial directory.  The copy connects its N
 * target handles before it starts and disconnects them all at the end;
 * qemu-nbd then flushes and exits by itself (it exits when its last
 * client leaves), and target_wait waits for that.
 *
 * Every failure fills err with one sentence naming the file and the
 * cause (qemu's last line of standard error, kept in a log file inside
 * the partial directory until the target is finished).  Not
 * thread-safe: the backup's main thread owns its target.
 */
#ifndef FLEECECTL_BACKUP_TARGET_H
#define FLEECECTL_BACKUP_TARGET_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct target {
  char file[PATH_MAX];          /* the qcow2 file */
  char sock[PATH_MAX];          /* qemu-nbd's socket */
  char pidfile[PATH_MAX];
  char log[PATH_MAX];           /* qemu's standard error */
  pid_t pid;                    /* qemu-nbd while it runs, else 0 */
};

/* Create dir/name (a qcow2 of size bytes, backed by backing, relative
 * to dir, when not NULL) and fill t.  0, or -1 with err.
 */
extern int target_create (struct target *t, const char *dir,
                          const char *name, const char *backing,
                          uint64_t size, char *err, size_t len);

/* Start qemu-nbd for t, allowing shared connections.  0, or -1. */
extern int target_start (struct target *t, int shared, char *err,
                         size_t len);

/* After every client has disconnected: wait for qemu-nbd to exit
 * (it flushes first), then fsync the file and remove the socket, PID
 * file and log.  0, or -1 (qemu-nbd still there after a minute: it is
 * killed).
 */
extern int target_finish (struct target *t, char *err, size_t len);

/* Failure paths: kill qemu-nbd if it runs, and wait for it to go. */
extern void target_kill (struct target *t);

#endif /* FLEECECTL_BACKUP_TARGET_H */
