/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk, the crash-recovery marker.
 *
 * A small file in the state directory that exists while we may have a
 * guest frozen.  It outlives a crash (SIGKILL, abort), so the next
 * nbdkit for the same target finds it and thaws the guest.
 * Callers serialise (quiesce.c's mutex).
 */
#ifndef VMDISK_QUIESCE_MARKER_H
#define VMDISK_QUIESCE_MARKER_H

#include <stddef.h>

/* The default state directory: /run/nbdkit-vmdisk for root, else
 * $XDG_RUNTIME_DIR/nbdkit-vmdisk, else /tmp/nbdkit-vmdisk-UID.
 * Returns a new string or NULL (nbdkit_error).
 */
extern char *marker_default_dir (void);

/* Name the marker: DIR/KIND-KEY.frozen, where key is the configured
 * target (sanitised).  0, or -1 after nbdkit_error.
 */
extern int marker_init (const char *dir, const char *kind, const char *key);

/* Write (atomically) "pid=OUR PID" and "target=TARGET".  Creates the
 * directory (mode 0700) if needed and refuses one not owned by us or
 * writable by others.  0, or -1 with a reason.
 */
extern int marker_write (const char *target, char *reason, size_t len);

/* Remove the marker (no error if absent). */
extern void marker_remove (void);

/* 1 if a marker exists that a dead process left (its pid no longer
 * runs nbdkit, or is ours), filling *pid and target; 0 if none, or if
 * a live nbdkit owns it.
 */
extern int marker_find_stale (long *pid, char *target, size_t target_len);

/* Release memory. */
extern void marker_free (void);

#endif /* VMDISK_QUIESCE_MARKER_H */
