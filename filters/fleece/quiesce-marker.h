/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the crash-recovery marker of quiesce-command=.
 *
 * With quiesce-state-dir=DIR, the file DIR/quiesce-command.frozen
 * exists whenever 'PATH thaw' may be owed: it is written before
 * 'PATH freeze' and removed after a successful 'PATH thaw'.  A marker
 * left by an nbdkit that died tells the next one to thaw.
 *
 * Locking: none here.  quiesce.c calls these from .config,
 * .config_complete, .after_fork (before nbdkit serves and before the
 * control thread starts) and snapshot creation (under snapshot.c's
 * lifecycle mutex), so calls never overlap.
 */
#ifndef FLEECE_QUIESCE_MARKER_H
#define FLEECE_QUIESCE_MARKER_H

#include <stdbool.h>
#include <stddef.h>

/* .config of quiesce-state-dir=DIR: made absolute now (nbdkit
 * changes directory to / when it forks).  1, or -1 after nbdkit_error.
 */
extern int marker_config (const char *value);

/* .config_complete.  With command NULL (no quiesce-command=), a
 * quiesce-state-dir= is an error.  Otherwise, if DIR exists, it must
 * be a directory (not a symlink) not writable by group or others.
 * Nothing is created or owner-checked here: nbdkit still runs as the
 * user who started it, before any -u/-g switch.  0, or -1 after one
 * nbdkit_error naming quiesce-state-dir= and the fix.
 */
extern int marker_config_complete (const char *command);

/* .after_fork (after nbdkit's -u/-g switch), before marker_settle:
 * DIR is created (0700) if missing and must be a directory (not a
 * symlink) owned by the effective uid and not writable by group or
 * others.  0 (also when not enabled), or -1 after one nbdkit_error
 * naming quiesce-state-dir= and the fix: nbdkit must not start.
 */
extern int marker_after_fork (void);

/* True when quiesce-state-dir= was given (and accepted). */
extern bool marker_enabled (void);

/* The marker's path, for messages ("" when not enabled). */
extern const char *marker_path (void);

/* Pay the thaw that the marker says is owed, by calling thaw (which
 * returns >= 0 on success, else -1 with why filled), and remove the
 * marker when it succeeds.  If the marker's writer died and its
 * 'PATH freeze' group still runs, that group is killed first (its
 * freeze could otherwise land after the thaw), with a warning.
 * at_start: called before nbdkit serves (a marker with our own pid is
 * then a dead process's).  A thaw for a dead process, and at start a
 * marker left alone, get one warning line.  Returns 0 when nothing is
 * owed any more, -1 with why filled when no freeze may happen now.
 */
extern int marker_settle (bool at_start, int (*thaw) (char *, size_t),
                          char *why, size_t why_len);

/* Create the marker, exclusively (it must not exist), holding our pid,
 * the command and the UTC time, and fsync it and DIR.  0, or -1 with
 * why filled (then no marker of ours exists).
 */
extern int marker_create (char *why, size_t why_len);

/* Add the process group of the 'PATH freeze' just spawned (pid, its
 * leader, and the leader's start ticks) to our marker, so that a
 * recovery can kill it if it outlives us.  Not fsynced: a host crash
 * ends it too.  On failure only a debug message: the recovery then
 * cannot kill it.
 */
extern void marker_note_freeze (long pid);

/* Remove the marker and fsync DIR.  0 (also if it was absent), or -1
 * after nbdkit_error: it stays, so the next freeze thaws first.
 */
extern int marker_remove (void);

/* Release memory (.unload). */
extern void marker_free (void);

#endif /* FLEECE_QUIESCE_MARKER_H */
