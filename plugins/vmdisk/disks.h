/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's disk table, one struct disk per export.
 *
 * Two modes, never mixed:
 *   file=PATH        one disk, the export "" (any export name a client
 *                    asks for reaches it, as before disk= existed);
 *   disk=NAME:PATH   repeatable, up to FLEECE_MAX_DISKS disks, each the
 *                    export NAME (letters, digits, _ and -, 1 to 63
 *                    characters, unique); PATH never the same file as
 *                    another disk's (one file under two exports would
 *                    get two snapshots that disagree).
 * readonly= and cache= apply to every disk.
 *
 * Lifetime: disks_config in .config, disks_config_complete in
 * .config_complete, disks_open in .get_ready, disks_close at .cleanup
 * or .unload.  Errors name the parameter (file=PATH or disk=NAME:PATH)
 * and the fix, in one nbdkit_error.
 *
 * Locking: the table is written during configuration only, before any
 * thread exists, and read-only afterwards (each struct disk keeps its
 * own locking rule, see disk.h).
 */
#ifndef VMDISK_DISKS_H
#define VMDISK_DISKS_H

#include <stddef.h>

#include <nbdkit-plugin.h>

#include "disk.h"

/* From .load: an empty table. */
extern void disks_init (void);

/* From .config: 1 if key is file=, disk=, readonly= or cache= and
 * value was accepted, 0 if key is none of them, -1 after nbdkit_error.
 */
extern int disks_config (const char *key, const char *value);

/* From .config_complete: at least one disk, every path a regular file
 * or block device, no file served twice.  0, or -1 after nbdkit_error.
 */
extern int disks_config_complete (void);

/* From .get_ready: open every disk.  0, or -1 after nbdkit_error. */
extern int disks_open (void);

/* Close every disk and free the table.  Safe to call twice. */
extern void disks_close (void);

/* From .open: the disk serving export name, or NULL after one
 * nbdkit_error listing the export names.
 */
extern struct disk *disks_lookup (const char *name);

/* .list_exports: each export with its description.  0 or -1. */
extern int disks_list_exports (struct nbdkit_exports *exports);

/* The export names in order (file=: one name, ""): sets names[i] for
 * i < min (n, max), returns n.  The provider table's disks member.
 */
extern size_t disks_names (const char **names, size_t max);

#endif /* VMDISK_DISKS_H */
