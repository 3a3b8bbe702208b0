/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: counters and latency histograms (see stats.h). */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "stats.h"

struct fleece_stats fleece_stats;

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
