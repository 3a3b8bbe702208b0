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
 * or .unload.  What clients see of the table (export names, the
 * list of exports) is in exports.h.  Errors name the parameter
 * (file=PATH or disk=NAME:PATH) and the fix, in one nbdkit_error.
 *
 * Locking: the table is written during configuration only, before any
 * thread exists, and read-only afterwards (each struct disk keeps its
 * own locking rule, see disk.h).
 */
#ifndef VMDISK_DISKS_H
#define VMDISK_DISKS_H

#include <stdbool.h>
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

/* The number of disks, and disk i (i < disks_count ()), in the order
 * given.
 */
extern size_t disks_count (void);
extern struct disk *disks_get (size_t i);

/* true if the disks were given by disk= (each its own export NAME),
 * false for file= (one disk, whatever the export name).
 */
extern bool disks_named (void);

/* The disk given as disk=NAME:PATH with this NAME, or NULL. */
extern struct disk *disks_find (const char *name);

#endif /* VMDISK_DISKS_H */
