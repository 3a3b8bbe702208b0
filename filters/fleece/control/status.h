/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the members of the replies that carry the snapshot's
 * figures (status, and the generation in snapshot-begin and
 * snapshot-end replies; see nbdkit-fleece-filter(1), PROTOCOL).
 *
 * Pure functions over json-c, like the protocol core (proto.h), but
 * they read the filter's own types (struct snapshot_status), so they
 * live outside the core.  No I/O, no locks.
 */
#ifndef FLEECE_CONTROL_STATUS_H
#define FLEECE_CONTROL_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "history.h"
#include "snapshot.h"

/* The figures behind a status reply, gathered by the caller
 * (durations in nanoseconds).  Top-level byte and block counts are
 * sums over the disks; disk[] has each disk's own.  The last ended
 * snapshot's disks are disk[]'s, in the same order (the disks never
 * change while nbdkit runs).
 */
struct control_disk_figures {
  const char *name;             /* "" for the one disk of file= */
  const char *export;           /* its snapshot export */
  bool data_known;
  uint64_t data_bytes;
  uint64_t store_bytes;
};
struct control_figures {
  struct snapshot_status snap;
  uint64_t copy_count, copy_mean_ns, copy_p99_ns, bytes_copied;
  uint64_t live_writes, live_mean_ns, live_p99_ns;
  uint64_t bytes_read;
  bool data_known;              /* every disk's data_bytes measured
                                 * (progress.h) */
  uint64_t data_bytes;
  uint64_t store_bytes;
  uint64_t store_limit;         /* 0: no cap */
  uint32_t block_size;
  uint64_t pin_max_age_ns;      /* 0: never */
  size_t ndisks;
  struct control_disk_figures disk[FLEECE_MAX_DISKS];
  struct history_totals totals; /* since nbdkit started (history.h) */
  bool has_last;                /* a snapshot has ended: last is it */
  struct history_last last;
};

/* Add the status members to reply.  0, or -1 on allocation failure. */
extern int control_status_fill (json_object *reply,
                                const struct control_figures *f);

/* Add "generation" and, if known, "description" (snapshot-begin and
 * snapshot-end replies).  0 or -1.
 */
extern int control_generation_fill (json_object *reply, uint64_t generation,
                                    const char *description);

#endif /* FLEECE_CONTROL_STATUS_H */
