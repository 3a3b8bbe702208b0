/* SPDX-License-Identifier: BSD-3-Clause */
#include <config.h>
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include "ispowerof2.h"

int
main (void)
{
  uint64_t v;
  unsigned i;

  assert (!is_power_of_2 (0));
  for (i = 0; i < 64; i++) {
    v = UINT64_C (1) << i;
    assert (is_power_of_2 (v));
    assert (log_2_bits (v) == i);
    if (i >= 2)
      assert (!is_power_of_2 (v + 1) && !is_power_of_2 (v - 1));
  }
  assert (!is_power_of_2 (UINT64_MAX));
  printf ("ok\n");
  return 0;
}
