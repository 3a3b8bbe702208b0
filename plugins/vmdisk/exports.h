/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's exports, what clients and the fleece filter
 * see of the disk table (disks.h).
 *
 * file=: one export, "", and any name a client asks for reaches the
 * disk.  disk=NAME:PATH: each disk is the export NAME; any other name,
 * "" included, is refused.
 *
 * Locking: none; the table is read-only once nbdkit serves.
 */
#ifndef VMDISK_EXPORTS_H
#define VMDISK_EXPORTS_H

#include <stddef.h>

#include <nbdkit-plugin.h>

#include "disk.h"

/* From .open: the disk serving export name, or NULL after one
 * nbdkit_error listing the export names (the client's name quoted so
 * that it cannot forge a log line).
 */
extern struct disk *exports_lookup (const char *name);

/* .list_exports: each export with its description, e.g.
 * "disk vda: /images/vda.img (raw image, 20 GiB)".  0 or -1.
 */
extern int exports_list (struct nbdkit_exports *exports);

/* From .open: the disk this connection or context is for.  file=: the
 * one disk, without asking nbdkit (a filter's shared context has no
 * export name).  disk=: the export chosen by exports_select in this
 * thread if any (the fleece filter's own contexts), else
 * nbdkit_export_name; NULL after nbdkit_error as exports_lookup.
 */
extern struct disk *exports_open (void);

/* The provider table's select_export (quiesce-provider.h): name the
 * export the next .open in this thread is for; NULL forgets it.
 */
extern void exports_select (const char *name);

/* The export names in order (file=: one name, ""): sets names[i] for
 * i < min (n, max), returns n.  The provider table's disks member
 * (quiesce-provider.h); callable from .config_complete on.
 */
extern size_t exports_names (const char **names, size_t max);

#endif /* VMDISK_EXPORTS_H */
