/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: counters and latency histograms (see stats.h). */
#include <config.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <nbdkit-filter.h>

#include "stats.h"

struct fleece_stats fleece_stats;

const char *const cbw_phase_name[PHASES] = {
  "claim-wait", "extents", "plugin-read", "store-write", "readers-wait",
};

void
latency_add (struct latency *l, uint64_t ns)
{
  unsigned b = ns ? 63 - __builtin_clzll (ns) : 0;

  __atomic_add_fetch (&l->count, 1, __ATOMIC_RELAXED);
  __atomic_add_fetch (&l->sum_ns, ns, __ATOMIC_RELAXED);
  __atomic_add_fetch (&l->bucket[b], 1, __ATOMIC_RELAXED);
}

uint64_t
latency_mean (const struct latency *l)
{
  uint64_t n = __atomic_load_n (&l->count, __ATOMIC_RELAXED);

  return n ? __atomic_load_n (&l->sum_ns, __ATOMIC_RELAXED) / n : 0;
}

uint64_t
latency_p99 (const struct latency *l)
{
  uint64_t n = __atomic_load_n (&l->count, __ATOMIC_RELAXED);
  uint64_t want = n - n / 100, seen = 0;   /* the 99th percentile rank */
  unsigned i;

  if (n == 0)
    return 0;
  for (i = 0; i < 64; i++) {
    seen += __atomic_load_n (&l->bucket[i], __ATOMIC_RELAXED);
    if (seen >= want)
      return i >= 63 ? UINT64_MAX : (UINT64_C (2) << i) - 1;
  }
  return UINT64_MAX;
}

void
stats_reset (void)
{
  memset (&fleece_stats, 0, sizeof fleece_stats);
}

void
stats_log_phases (uint64_t generation)
{
  const struct latency *all = &fleece_stats.live_added;
  char line[512];
  size_t n = 0;
  unsigned i;

  for (i = 0; i < PHASES && n < sizeof line; i++) {
    const struct latency *l = &fleece_stats.phase[i];
    n += snprintf (line + n, sizeof line - n, "; %s %" PRIu64 "x "
                   "mean %.3f p99 %.3f", cbw_phase_name[i], l->count,
                   latency_mean (l) / 1e6, latency_p99 (l) / 1e6);
  }
  nbdkit_debug ("fleece: generation %" PRIu64 ": %" PRIu64 " live "
                "requests spent mean %.3f ms, p99 %.3f ms in "
                "copy-before-write%s", generation, all->count,
                latency_mean (all) / 1e6, latency_p99 (all) / 1e6, line);
}
