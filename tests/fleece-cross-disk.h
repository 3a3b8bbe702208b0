/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: test-fleece-cross-disk, its helpers.
 *
 * test-fleece-cross-disk.c: the design, the writer, the snapshots and
 * their checks.  fleece-cross-disk-util.c: failure reports, libnbd
 * helpers, snapshot descriptions and the control socket client.
 *
 * Locking: the control socket is used by the main thread only; die()
 * may be called from any thread.
 */
#ifndef FLEECE_CROSS_DISK_H
#define FLEECE_CROSS_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libnbd.h>

#include "nbd-util.h"         /* die () is defined by the program */


/* A multi-disk snapshot export's description:
 * "fleece snapshot generation G, disk NAME (I of N), REST" where REST
 * ("taken ..., consistency") is the same on every disk of a snapshot.
 */
struct desc {
  char text[512];
  char export[128];             /* the canonical export name */
  uint64_t generation;
  char disk[64];
  unsigned index, total;
  const char *rest;             /* points into text */
};

/* Fill *d from h's description.  Returns false if h has not joined a
 * snapshot yet (none was active when it connected), true if it has;
 * dies on any other description.
 */
extern bool describe (struct nbd_handle *h, struct desc *d);

/* Connect to the control socket at path (retrying while nbdkit has not
 * yet created it).
 */
extern void ctl_open (const char *path);

/* Wait (bounded) until status says no snapshot is active: the last
 * one ends a little after its last connection closed.
 */
extern void ctl_wait_idle (void);

/* snapshot-begin: it must create a snapshot; returns its generation
 * and copies the reply's description (the whole snapshot's:
 * "fleece snapshot generation G of N disks, REST") into desc.
 */
extern uint64_t ctl_begin (char *desc, size_t len);

/* snapshot-end: returns the generation it ended. */
extern uint64_t ctl_end (void);

#endif /* FLEECE_CROSS_DISK_H */
