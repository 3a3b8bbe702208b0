/* SPDX-License-Identifier: BSD-3-Clause */
/* The provider header compiles on its own and its layout is the
 * versioned ABI: appending is allowed, moving fields is not.
 */
#include <config.h>
#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "quiesce-provider.h"

int
main (void)
{
  assert (FLEECE_QUIESCE_ABI_VERSION == 1);
  assert (strcmp (FLEECE_QUIESCE_PROVIDER_SYMBOL,
                  "fleece_quiesce_provider_v1") == 0);
  assert (offsetof (struct fleece_quiesce_provider, abi_version) == 0);
  assert (offsetof (struct fleece_quiesce_provider, struct_size) == 4);
  assert (offsetof (struct fleece_quiesce_provider, name) == 8);
  assert (offsetof (struct fleece_quiesce_provider, available) == 16);
  assert (offsetof (struct fleece_quiesce_provider, freeze) == 24);
  assert (offsetof (struct fleece_quiesce_provider, thaw) == 32);
  assert (offsetof (struct fleece_quiesce_provider, status) == 40);
  assert (offsetof (struct fleece_quiesce_provider, disks) == 48);
  assert (offsetof (struct fleece_quiesce_provider, select_export) == 56);
  {
    /* A provider built before disks was appended is 48 bytes long. */
    struct fleece_quiesce_provider old = { .struct_size = 48 };
    struct fleece_quiesce_provider cur = {
      .struct_size = sizeof cur, .disks = NULL,
    };
    assert (!FLEECE_PROVIDER_HAS (&old, disks));
    assert (!FLEECE_PROVIDER_HAS (&cur, disks));
  }
  printf ("ok\n");
  return 0;
}
