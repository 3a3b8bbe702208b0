/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: power-of-two tests. */
#ifndef FLEECE_ISPOWEROF2_H
#define FLEECE_ISPOWEROF2_H

#include <stdbool.h>
#include <stdint.h>

/* True if v is a power of two (0 is not). */
static inline bool
is_power_of_2 (uint64_t v)
{
  return v != 0 && (v & (v - 1)) == 0;
}

/* log2 of v, which must be a power of two. */
static inline unsigned
log_2_bits (uint64_t v)
{
  return 63 - __builtin_clzll (v);
}

#endif /* FLEECE_ISPOWEROF2_H */
