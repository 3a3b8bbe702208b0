/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, the crash-recovery marker.
 *
 * A small file in the state directory that exists while we may have a
 * guest frozen.  It outlives a crash (SIGKILL, abort), so the next
 * nbdkit for the same target finds it and thaws the guest.
 * Callers serialise (the guard holds its lock across every call).
 */
#ifndef QUIESCE_MARKER_H
#define QUIESCE_MARKER_H

#include <stdbool.h>
#include <stddef.h>

/* The default state directory of component name ("vmdisk",
 * "fleece"): /run/nbdkit-NAME for root, else $XDG_RUNTIME_DIR/nbdkit-NAME,
 * else /tmp/nbdkit-NAME-UID.  Returns a new string or NULL
 * (nbdkit_error naming param).
 */
extern char *marker_default_dir (const char *name, const char *param);

/* Name the marker: DIR/KIND-KEY.frozen, where key is the configured
 * target (sanitised).  log_name starts our log lines ("vmdisk"),
 * param_name is the parameter that gave dir ("state-dir"), for
 * messages; both are kept (static strings).  0, or -1 after
 * nbdkit_error.
 */
extern int marker_init (const char *log_name, const char *param_name,
                        const char *dir, const char *kind, const char *key);

/* Check the state directory (the rule of the state-dir= parameter):
 * a directory (not a symlink) owned by the nbdkit user and writable by
 * nobody else; a missing one whose parent exists is created, mode
 * 0700.  nbdkit -u/-g switches user after .config_complete and before
 * .after_fork, so as root before the switch (as_user false) the owner
 * is not checked and a missing directory is not created yet (its
 * parent must exist); as_user true (.after_fork) checks everything.
 * Any other user cannot switch: it gets every check at the start,
 * before nbdkit forks.  0, or -1 after nbdkit_error naming
 * the parameter and the fix.
 */
extern int marker_check_dir (bool as_user);

/* Write (atomically: a temporary file, fsync, rename, fsync of the
 * directory) "pid=OUR PID", "target=TARGET" and "time=NOW".  Checks
 * the directory first as marker_check_dir (true) does.  0, or -1 with
 * a reason: then no freeze may be sent.
 */
extern int marker_write (const char *target, char *reason, size_t len);

/* Remove the marker (no error if absent) and fsync the directory.
 * 0, or -1 after nbdkit_error: the marker stays (a later write cannot
 * replace what cannot be removed), and a recovery is not done.
 */
extern int marker_remove (void);

/* 1 if a marker exists that a dead process left (its pid no longer
 * runs nbdkit, or is ours), filling *pid and target; 0 if none, or if
 * a live nbdkit owns it.
 */
extern int marker_find_stale (long *pid, char *target, size_t target_len);

/* Add the process group of a freeze just spawned (pid, its leader)
 * to our marker as "freeze-pid=", "freeze-ticks=" (the leader's start
 * in clock ticks since boot) and "freeze-where=" (boot id and pid
 * namespace), so that a recovery can kill it if it outlives us.  Not
 * fsynced: a host crash ends it too.  On failure only a debug
 * message: the recovery then cannot kill it.
 */
extern void marker_note_freeze (long pid);

/* After marker_find_stale found a dead writer's marker: if it
 * recorded a freeze's process group in this boot and pid namespace
 * and that group still runs (proc-alive.h), kill it before the
 * thaw (its freeze could otherwise land after the thaw), with a
 * warning naming writer.
 */
extern void marker_kill_orphan (long writer);

/* Release memory. */
extern void marker_free (void);

#endif /* QUIESCE_MARKER_H */
