/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: a test filter that prints the disks of the plugin's
 * quiesce provider table (quiesce-provider.h), found with dlsym as the
 * fleece filter finds it, in .get_ready, to stderr:
 *   provider disks: N: 'NAME' 'NAME' ...
 * and, asking for one name only, "provider disks max 1: N: 'NAME'"
 * (with " (wrote past max)" if it set more), so that test-vmdisk-provider-disks.sh can check what the plugin
 * tells the fleece filter.  Nothing else: every request passes through.
 */
#include <config.h>

#include <dlfcn.h>
#include <stdio.h>

#include <nbdkit-filter.h>

#include "quiesce-provider.h"

/* Print what p->disks says when asked for at most max names. */
static void
print_disks (const struct fleece_quiesce_provider *p, const char *what,
             size_t max)
{
  const char *names[FLEECE_MAX_DISKS + 2];
  size_t i, n;

  for (i = 0; i < FLEECE_MAX_DISKS + 2; i++)
    names[i] = NULL;
  n = p->disks (names, max);
  fprintf (stderr, "%s: %zu:", what, n);
  for (i = 0; i < n && i < max; i++)
    fprintf (stderr, " '%s'", names[i]);
  if (names[max] != NULL)
    fprintf (stderr, " (wrote past max)");
  fprintf (stderr, "\n");
}

static int
provider_disks_get_ready (int thread_model)
{
  const struct fleece_quiesce_provider *p =
    dlsym (RTLD_DEFAULT, FLEECE_QUIESCE_PROVIDER_SYMBOL);

  if (p == NULL || !FLEECE_PROVIDER_HAS (p, disks)) {
    fprintf (stderr, "provider disks: none\n");
    return 0;
  }
  print_disks (p, "provider disks", FLEECE_MAX_DISKS + 1);
  print_disks (p, "provider disks max 1", 1);
  return 0;
}

static struct nbdkit_filter filter = {
  .name = "providerdisks",
  .longname = "nbdkit-fleece test: print the provider's disks",
  .get_ready = provider_disks_get_ready,
};

NBDKIT_REGISTER_FILTER (filter)
