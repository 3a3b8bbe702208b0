/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the snapshot lifecycle and the write barrier.
 *
 * States: none -> creating -> active (possibly broken) -> none.  One
 * snapshot at a time; each gets the next generation number.  A
 * snapshot is of the whole VM: every disk the filter serves (disks.h)
 * is switched to the new generation at the same instant, under one
 * freeze and one barrier; only breaking is per disk.
 *
 * The barrier is one writer-preferring rwlock for all disks: the
 * switch of every disk is one instant.  Every live write, zero and
 * trim, to any disk, runs entirely on its read side (snapshot_enter/exit), from
 * before it looks for an active snapshot until the plugin has
 * answered.  Creating or ending a snapshot takes the write side for
 * the instant of the switch, which drains the live writes in flight
 * and holds new ones.  Snapshot reads also run on the read side, so a
 * generation's state is never freed under a reader.
 *
 * Lock order: lifecycle mutex (snapshot.c) -> barrier -> block map;
 * history.h's lock is innermost.  A generation's end is recorded in
 * history under the barrier's write lock, as it is unpublished, so a
 * status that finds no snapshot finds the record of the last one.
 */
#ifndef FLEECE_SNAPSHOT_H
#define FLEECE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nbdkit-filter.h>

#include "blocks.h"
#include "disks.h"
#include "quiesce.h"
#include "store.h"

/* One disk's part of a generation (see struct snap). */
struct snap_disk {
  struct snap *snap;            /* the generation it belongs to */
  size_t index;                 /* in fleece_disks (disks.h) */
  uint64_t size;                /* disk size when taken */
  uint64_t nblocks;
  struct blocks *blocks;        /* its own: a break is this disk's */
  uint8_t *windows;             /* cbw.c's extents hints (cbw.h) */
  struct store *store;          /* the disk's store */
  uint64_t bytes_read;          /* by snapshot clients (atomic) */
  uint64_t writes_refused;      /* by on-cbw-error=fail-write (atomic) */
  char description[640];        /* its export description */
};

/* One generation: a snapshot of every disk at one instant.  Published
 * in `current` at the barrier's switch, before its thaw and
 * descriptions exist: until `complete` is set (atomically, release;
 * read with acquire) only the data path may use it (generation and
 * the disks' size, nblocks, blocks, windows, store).  Once complete it
 * is immutable except through blocks, bytes_read and writes_refused.
 */
struct snap {
  bool complete;                /* thawed and described */
  uint64_t generation;
  uint64_t checkpoint;          /* cbt.h's generation; 0: no tracking */
  char description[640];        /* of the whole snapshot (status) */
  char taken_at[48];            /* UTC, ISO 8601 with milliseconds */
  struct quiesce_outcome q;     /* frozen count, reason, timings */
  uint64_t barrier_ns;          /* how long live writes were held */
  size_t ndisks;                /* fleece_ndisks */
  struct snap_disk *disk;       /* [ndisks] */
};

/* Enter the barrier's read side; returns the active snapshot or NULL.
 * Must be paired with snapshot_exit (use SNAPSHOT_SCOPE).
 */
extern struct snap *snapshot_enter (void);
extern void snapshot_exit (void);

static inline void
snapshot_exit_cleanup (struct snap **unused)
{
  snapshot_exit ();
}
#define SNAPSHOT_SCOPE(var)                                             \
  __attribute__ ((cleanup (snapshot_exit_cleanup)))                     \
  struct snap *var = snapshot_enter ()

/* A snapshot connection to disk `disk` joins the active snapshot:
 * from .prepare with create false (join only if one is active: listing
 * exports must not take a snapshot), and from its first data request
 * with create true (join, or create one of every disk first: freeze,
 * barrier, switch, thaw).  next is the connection's plugin context.
 * Sets *generation.  1 joined, 0 nothing active (create false only),
 * or -1 after nbdkit_error.
 */
extern int snapshot_join (nbdkit_next *next, size_t disk, bool create,
                          uint64_t *generation);

/* A snapshot connection that joined leaves (from .close).  The last
 * one out ends the snapshot at once or after snapshot-linger.
 */
extern void snapshot_leave (uint64_t generation);

/* Explicit control (the control socket).  snapshot_begin creates a
 * snapshot if none is active (freezing with mode), or adopts the
 * active one, and pins it: it lives until snapshot_end (or until
 * pin-max-age has passed since the last begin), whatever its NBD
 * clients do.  With fresh, an active snapshot is ended first (as
 * snapshot_end does).  With mode (or quiesce=) require, an active
 * crash-consistent snapshot is not adopted.  snapshot_end ends the
 * active snapshot at once; connections still open to it get EIO.
 */
struct snapshot_begun {
  uint64_t generation;
  uint64_t checkpoint;          /* cbt.h's; 0: no tracking */
  bool created;                 /* false: an active one was adopted */
  int frozen;                   /* > 0: application-consistent */
  char description[640];
  char reason[256];             /* crash-consistent: why */
};
#define SNAPSHOT_BEGIN_FAILED -1        /* why says why */
#define SNAPSHOT_NOT_CONSISTENT -2      /* require, active one is not */

/* 0 with *out filled, or SNAPSHOT_BEGIN_FAILED / SNAPSHOT_NOT_CONSISTENT
 * with why[why_len] filled (then nothing changed, except that with
 * fresh the old snapshot has ended).
 */
extern int snapshot_begin (enum quiesce_mode mode, bool fresh,
                           struct snapshot_begun *out,
                           char *why, size_t why_len);

/* 0 with *generation set to the generation ended, or -1 with
 * why[why_len] filled.
 */
extern int snapshot_end (uint64_t *generation, char *why, size_t why_len);

/* A consistent-enough picture of the snapshot for `status`. */
struct snapshot_disk_status {
  uint64_t size, nblocks;
  uint64_t bytes_read;
  struct blocks_stats blocks;
  bool broken;
  char broken_cause[256];
};
struct snapshot_status {
  const char *state;            /* none, creating, active, broken (any
                                 * disk broken) */
  bool pinned;                  /* begun by snapshot_begin */
  bool pin_expires;             /* pinned, and pin-max-age is not 0 */
  uint64_t pin_left_ns;         /* if pin_expires: until it ends */
  unsigned clients;             /* snapshot connections */
  struct snap info;             /* valid if state is active or broken
                                 * (a complete snapshot); info.disk is
                                 * NULL in the copy: see disk[] */
  struct snapshot_disk_status disk[FLEECE_MAX_DISKS]; /* [info.ndisks] */
};
extern void snapshot_status (struct snapshot_status *);

/* A read-only plugin context of disk's live export that sees the disk
 * as it is now (see open_context), or NULL with why filled; closed
 * with snapshot_plugin_close.
 */
extern nbdkit_next *snapshot_plugin_open (size_t disk, char *why,
                                          size_t why_len);
extern void snapshot_plugin_close (nbdkit_next *);

/* Start / stop the linger thread (.after_fork / .cleanup), which also
 * ends a pin older than pin-max-age; the backend is kept for
 * snapshot_begin's own plugin contexts.
 */
extern int snapshot_start (nbdkit_backend *backend);
extern void snapshot_stop (void);

#endif /* FLEECE_SNAPSHOT_H */
