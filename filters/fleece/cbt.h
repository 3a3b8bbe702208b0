/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: crash-safe changed-block tracking (cbt-dir=).
 *
 * Contract: every live write, zero and trim of a disk is marked, with
 * the current checkpoint generation, in the disk's map (cbtmap.h) and
 * the mark is durable (fdatasync) before the request goes down to the
 * plugin.  So after a crash at any point the map may over-report,
 * never under-report.  A granule already marked in the current
 * generation costs an in-memory check; concurrent writers that do need
 * a mark share one fdatasync (group commit).  Every snapshot of the VM
 * is a checkpoint: at the barrier's switch the generation goes up by
 * one on every disk and each map's header records it durably before
 * the barrier is released.  Without cbt-dir= every function here
 * returns at once.
 *
 * Locking: each disk's map has its own mutex (marks, queries, header
 * updates); the generation changes only under the barrier's write side
 * (snapshot.h), so a write, which runs on its read side, sees one
 * generation from its mark to its completion.  Lock order: barrier ->
 * a disk's map mutex.
 */
#ifndef FLEECE_CBT_H
#define FLEECE_CBT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nbdkit-filter.h>

/* Is tracking on (cbt-dir= given)? */
extern bool cbt_enabled (void);

/* .get_ready: the directory (created 0700), the VM's tracking identity
 * and the current generation from the maps' headers.  0 or -1 after
 * nbdkit_error.
 */
extern int cbt_get_ready (void);

/* A live write, zero or trim of [offset, offset+count) on disk, on the
 * barrier's read side, before it goes down: mark it durably (the map
 * is opened and checked at the disk's first use; next gives its size).
 * 0, or -1 with *err set after nbdkit_error: then the request must
 * fail, since it would not be tracked.
 */
extern int cbt_mark (nbdkit_next *next, size_t disk, uint64_t offset,
                     uint64_t count, int *err);

/* Before a snapshot's freeze (lifecycle mutex held, no barrier): open
 * every disk's map (sizes[i]: disk i's size now) and make the next
 * generation's code free (granules still carrying it are too old to
 * name any checkpoint still known: they become 0).  0 or -1 after
 * nbdkit_error.
 */
extern int cbt_prepare (const uint64_t *sizes);

/* At the switch, with the barrier's write side held: the new
 * checkpoint's generation, made durable in every map's header.  0 if
 * tracking is off.
 */
extern uint64_t cbt_checkpoint (void);

/* The checkpoint id of generation gen ("UUID:GEN"), into buf. */
extern void cbt_checkpoint_id (uint64_t gen, char *buf, size_t len);

/* Which ranges of disk's active snapshot may differ from the snapshot
 * of checkpoint `since` (an id as cbt_checkpoint_id makes), from
 * offset for length bytes (0: to the end): adjacent granules of equal
 * state merged, at most CBT_EXTENTS_MAX extents; if more remain,
 * more is set and next is where to go on.
 */
#define CBT_EXTENTS_MAX 1024
struct cbt_extent {
  uint64_t offset, length;
  bool dirty;
};
struct cbt_changes {
  uint32_t granularity;
  size_t n;
  struct cbt_extent e[CBT_EXTENTS_MAX];
  bool more;
  uint64_t next;
};
enum cbt_answer {
  CBT_OK,
  CBT_OFF,                      /* no cbt-dir= */
  CBT_NO_SNAPSHOT,              /* none active (or still being made) */
  CBT_FULL_BACKUP,              /* why says why */
  CBT_BAD_REQUEST,              /* a malformed id, offset past the end */
};
extern enum cbt_answer cbt_changes (const char *since, size_t disk,
                                    uint64_t offset, uint64_t length,
                                    struct cbt_changes *out,
                                    char *why, size_t len);

/* .cleanup: a clean stop: each map synced, the disk's identity
 * recorded, the header marked clean.
 */
extern void cbt_stop (void);

#endif /* FLEECE_CBT_H */
