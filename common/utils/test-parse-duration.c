/* SPDX-License-Identifier: BSD-3-Clause */
#include <config.h>
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include "parse-duration.h"

static uint64_t
ok (const char *s)
{
  uint64_t ns = UINT64_MAX;

  if (parse_duration (s, &ns) != 0) {
    fprintf (stderr, "rejected valid duration '%s'\n", s);
    assert (0);
  }
  return ns;
}

static void
bad (const char *s)
{
  uint64_t ns = 42;

  if (parse_duration (s, &ns) != -1 || ns != 42) {
    fprintf (stderr, "accepted invalid duration '%s'\n", s);
    assert (0);
  }
}

int
main (void)
{
  assert (ok ("0") == 0);
  assert (ok ("0ms") == 0);
  assert (ok ("0h") == 0);
  assert (ok ("7s") == UINT64_C (7000000000));
  assert (ok ("250ms") == UINT64_C (250000000));
  assert (ok ("15us") == UINT64_C (15000));
  assert (ok ("2m") == UINT64_C (120000000000));
  assert (ok ("24h") == DURATION_MAX_NS);
  bad ("");
  bad ("7");                    /* a unit is required, except for 0 */
  bad ("10");
  bad ("s");
  bad ("-1s");
  bad ("+1s");
  bad ("1.5s");
  bad (" 1s");
  bad ("1s ");
  bad ("1 s");
  bad ("10x");
  bad ("1sms");
  bad ("25h");
  bad ("86401s");
  bad ("99999999999999999999999");
  printf ("ok\n");
  return 0;
}
