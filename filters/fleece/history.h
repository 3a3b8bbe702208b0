/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: what outlives a snapshot: counters since nbdkit
 * started (the totals) and the result of the last snapshot that ended
 * (see nbdkit-fleece-filter(1), Status members: "totals" and
 * "last-snapshot").
 *
 * Totals: counters that only grow, never reset, each bumped with a
 * relaxed atomic add where its event happens (the data path takes no
 * lock for them).  A reader loads each one atomically: two counters
 * may be from slightly different instants, but no counter ever goes
 * back, which is what a monitoring system's counters need.
 *
 * The last result: written once per ended snapshot by the lifecycle,
 * and read by status.  Locking rule: both copy the whole record under
 * this unit's own mutex, held only for the copy; nothing else is done
 * and no other lock is taken under it, so it is innermost in the lock
 * order (snapshot.h), and a reader never sees a half-written record.
 */
#ifndef FLEECE_HISTORY_H
#define FLEECE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blocks.h"
#include "disks.h"

struct snap;

/* How a snapshot ended (names: history_end_name). */
enum history_end {
  HISTORY_END_COMMAND,          /* snapshot-end */
  HISTORY_END_FRESH,            /* snapshot-begin with fresh */
  HISTORY_END_LAST_CLOSE,       /* its last connection closed */
  HISTORY_END_LINGER,           /* snapshot-linger passed after that */
  HISTORY_END_PIN_MAX_AGE,      /* pinned longer than pin-max-age */
  HISTORY_END_SHUTDOWN,         /* nbdkit stopped */
  HISTORY_ENDS
};
extern const char *const history_end_name[HISTORY_ENDS];

/* The counters since nbdkit started. */
struct history_totals {
  uint64_t created;             /* snapshots created */
  uint64_t failed;              /* creations that failed (none taken) */
  uint64_t crash_consistent;    /* created with no filesystem frozen */
  uint64_t freeze_failed;       /* a freeze was due and froze nothing */
  uint64_t ended[HISTORY_ENDS]; /* snapshots ended, by how */
  uint64_t broken;              /* snapshots that broke (once each) */
  uint64_t writes_refused;      /* live writes failed by
                                 * on-cbw-error=fail-write */
  uint64_t copies;              /* copy-before-write requests */
  uint64_t bytes_copied;        /* ... the bytes they read */
  uint64_t blocks_preserved;    /* blocks they preserved */
  uint64_t bytes_read;          /* by snapshot clients */
  uint64_t live_writes;         /* live requests during a snapshot */
};

extern struct history_totals fleece_totals;

#define TOTALS_ADD(field, n) \
  __atomic_add_fetch (&fleece_totals.field, (n), __ATOMIC_RELAXED)

/* Copy every counter (each loaded atomically). */
extern void history_totals (struct history_totals *out);

/* Snapshot generation broke (a disk's map, cbw.h): counts it in
 * totals.broken the first time only, however many disks or requests
 * report it.  Any thread.
 */
extern void history_broke (uint64_t generation);

/* The result of the last snapshot that ended. */
struct history_disk {
  uint64_t bytes_read;
  struct blocks_stats blocks;   /* when it ended */
  bool broken;
  char broken_cause[256];
};
struct history_last {
  uint64_t generation;
  char description[640];
  char taken_at[48];            /* UTC, ISO 8601 with milliseconds */
  char ended_at[48];
  int frozen;                   /* > 0: application-consistent */
  char reason[256];             /* else why not */
  enum history_end ended_by;
  uint64_t copies, bytes_copied, live_writes, bytes_read;
  size_t ndisks;
  struct history_disk disk[FLEECE_MAX_DISKS];
};

/* From the lifecycle's end, with its mutex held, after s was
 * unpublished (nothing changes it any more) and before it is freed;
 * the per-generation statistics (stats.h) are still s's.  Records s
 * as the last result and counts the end.
 */
extern void history_ended (const struct snap *s, enum history_end how);

/* Copy the last result into *out: true, or false if no snapshot has
 * ended yet.  Any thread.
 */
extern bool history_last (struct history_last *out);

#endif /* FLEECE_HISTORY_H */
