/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: counters and latency histograms for status.
 *
 * Lock-free: every field is updated with atomic adds, so the data
 * path never takes a lock for statistics.  A reader may see counters
 * from slightly different instants; that is fine for status.
 * Latencies go into 64 power-of-two buckets of nanoseconds; the p99
 * reported is the upper bound of the bucket it falls in (within 2x).
 */
#ifndef FLEECE_STATS_H
#define FLEECE_STATS_H

#include <stdint.h>

struct latency {
  uint64_t count;
  uint64_t sum_ns;
  uint64_t bucket[64];          /* bucket[i]: ns in [2^i, 2^(i+1)) */
};

/* Record one duration. */
extern void latency_add (struct latency *, uint64_t ns);

/* Mean and p99 in nanoseconds (0 when empty). */
extern uint64_t latency_mean (const struct latency *);
extern uint64_t latency_p99 (const struct latency *);

/* Where a live request's copy-before-write time goes, phase by phase
 * (cbw.c): the sum of the phases is about live_added.
 */
enum cbw_phase {
  PHASE_CLAIM,                  /* waiting for other writers' copies */
  PHASE_EXTENTS,                /* asking the plugin about holes */
  PHASE_READ,                   /* reading the old data from the plugin */
  PHASE_STORE,                  /* writing it to the store */
  PHASE_READERS,                /* waiting for older snapshot reads */
  PHASES
};
extern const char *const cbw_phase_name[PHASES];

/* The per-generation figures (reset when a snapshot is created). */
struct fleece_stats {
  struct latency copy;          /* copy-before-write durations */
  struct latency live_added;    /* time live writes spent in cbw */
  struct latency phase[PHASES]; /* live_added split by phase */
  uint64_t live_writes;         /* live write/zero/trim requests */
  uint64_t bytes_copied;        /* read from the plugin into the store */
  uint64_t bytes_read;          /* read by snapshot clients */
};

extern struct fleece_stats fleece_stats;

/* Zero every field (at snapshot creation, under the barrier). */
extern void stats_reset (void);

/* One debug line (nbdkit -v): the generation's live_added split into
 * phases, mean and p99 of each.
 */
extern void stats_log_phases (uint64_t generation);

#define STATS_ADD(field, n) \
  __atomic_add_fetch (&fleece_stats.field, (n), __ATOMIC_RELAXED)

#endif /* FLEECE_STATS_H */
