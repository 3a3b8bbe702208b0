/* SPDX-License-Identifier: BSD-3-Clause */
#include <config.h>
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include "rounding.h"

int
main (void)
{
  uint64_t big = UINT64_C (1) << 40;

  assert (ROUND_DOWN (0, 4096) == 0);
  assert (ROUND_DOWN (4095, 4096) == 0);
  assert (ROUND_DOWN (4096, 4096) == 4096);
  assert (ROUND_DOWN (big + 5, 4096) == big);
  assert (ROUND_UP (0, 4096) == 0);
  assert (ROUND_UP (1, 4096) == 4096);
  assert (ROUND_UP (4096, 4096) == 4096);
  assert (ROUND_UP (big + 1, 65536) == big + 65536);
  assert (IS_ALIGNED (big, 4096));
  assert (!IS_ALIGNED (big + 512, 4096));
  /* The type of v is kept: no truncation of 64-bit values by an int mask. */
  assert (ROUND_DOWN (UINT64_MAX, 512u) == UINT64_MAX - 511);
  printf ("ok\n");
  return 0;
}
