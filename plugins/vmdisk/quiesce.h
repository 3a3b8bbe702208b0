/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's quiesce side, as seen by vmdisk.c.
 *
 * vmdisk.c owns the callback table and the data path; everything about
 * freezing the guest (libvirt, the guest agent, the watchdog and the
 * provider table exported to the fleece filter) lives behind these
 * hooks, called from the matching plugin callbacks.
 */
#ifndef VMDISK_QUIESCE_H
#define VMDISK_QUIESCE_H

#include <stddef.h>

/* Called from .config for every key.  Returns 1 if the key is a
 * quiesce parameter and was accepted, 0 if it is not a quiesce
 * parameter, -1 after nbdkit_error if it is one but the value is bad.
 */
extern int vmdisk_quiesce_config (const char *key, const char *value);

/* Called from .config_complete, first: the disk table's names and the
 * per-thread export choice, for the provider table's disks and
 * select_export members (quiesce-provider.h).
 */
extern void vmdisk_quiesce_disks (size_t (*names) (const char **names,
                                                    size_t max),
                                  void (*select) (const char *name));

/* Called from .config_complete: cross-checks.  0 or -1 (after
 * nbdkit_error).
 */
extern int vmdisk_quiesce_config_complete (void);

/* Called from .after_fork: connections and threads.  0 or -1. */
extern int vmdisk_quiesce_after_fork (void);

/* Called from .cleanup: stop threads, thaw anything we froze, close. */
extern void vmdisk_quiesce_cleanup (void);

/* Lines for .config_help, one parameter per line. */
extern const char vmdisk_quiesce_config_help[];

#endif /* VMDISK_QUIESCE_H */
