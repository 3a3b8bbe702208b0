/* SPDX-License-Identifier: BSD-3-Clause */
#include <config.h>
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include "minmax.h"

int
main (void)
{
  int i = 0, j = 10;
  uint64_t a = UINT64_C (1) << 40;

  assert (MIN (3, 4) == 3 && MAX (3, 4) == 4);
  assert (MIN (-1, 1) == -1 && MAX (-1, 1) == 1);
  assert (MIN (a, a + 1) == a);
  /* Each argument is evaluated exactly once. */
  assert (MIN (i++, j++) == 0 && i == 1 && j == 11);
  assert (MAX (i++, j++) == 11 && i == 2 && j == 12);
  /* Nesting does not shadow. */
  assert (MIN (MAX (1, 2), MIN (5, 3)) == 2);
  printf ("ok\n");
  return 0;
}
