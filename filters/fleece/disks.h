/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the disks of the VM, as the filter serves them.
 *
 * A plugin that lists its disks (the provider table's disks member,
 * vmdisk with disk=NAME:PATH) makes a multi-disk server: disk NAME is
 * the live export NAME and the snapshot export SNAP/NAME (SNAP is
 * snapshot-export=, "snapshot").  Otherwise (vmdisk with file=, or any
 * plugin without the table) there is one disk: the live export "" and
 * the snapshot export SNAP.  Each disk has its own store.
 *
 * Filled in .get_ready (single-threaded) and read-only afterwards, so
 * no lock; the stores are thread-safe themselves (store.h).
 */
#ifndef FLEECE_DISKS_H
#define FLEECE_DISKS_H

#include <stdbool.h>
#include <stddef.h>

#include <nbdkit-filter.h>

#include "quiesce-provider.h"
#include "store.h"

struct fdisk {
  char name[64];                /* "" for the one disk of file= */
  char live[64];                /* its live export: name */
  char snap[256];               /* its snapshot export */
  struct store *store;
};

extern struct fdisk fleece_disks[FLEECE_MAX_DISKS];
extern size_t fleece_ndisks;

/* For messages: "%s%s" with OF_DISK (i) says " of disk NAME", or
 * nothing for the one disk of a single-disk server.
 */
#define OF_DISK(i) \
  (*fleece_disks[(i)].name ? " of disk " : ""), fleece_disks[(i)].name

/* .get_ready: ask the plugin which disks it serves, open a store for
 * each.  0 or -1 after nbdkit_error.
 */
extern int disks_get_ready (void);

/* Around nbdkit_next_context_open of the filter's own (shared)
 * plugin contexts, which carry no export name: tell the plugin which
 * disk the context is for (disks_select (i)), then forget it
 * (disks_select (-1)).  Per thread.  Nothing with one disk.
 */
extern void disks_select (int disk);

/* .unload: close the stores. */
extern void disks_unload (void);

/* Which disk does a client's export name mean, and is it the
 * snapshot export?  The index, or -1 after one nbdkit_error that
 * lists the valid names.
 */
extern int disks_lookup (const char *exportname, bool *snapshot);

/* .list_exports: add every snapshot export, with a description. */
extern int disks_list_snapshots (struct nbdkit_exports *exports);

#endif /* FLEECE_DISKS_H */
