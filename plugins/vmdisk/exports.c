/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's exports (the contract is in exports.h).
 *
 * A thin layer over the disk table: the export name is the disk's
 * NAME, looked up linearly (at most FLEECE_MAX_DISKS, once per
 * connection).
 */
#include <config.h>

#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "disks.h"
#include "exports.h"
#include "log-quote.h"
#include "quiesce-provider.h"

struct disk *
exports_lookup (const char *name)
{
  char list[FLEECE_MAX_DISKS * 68] = "", asked[400];
  struct disk *d;
  size_t i, used;

  if (!disks_named ())
    return disks_get (0);
  d = disks_find (name);
  if (d)
    return d;
  for (i = 0; i < disks_count (); i++) {
    used = strlen (list);
    snprintf (list + used, sizeof list - used, "%s'%.63s'",
              i ? ", " : "", disks_get (i)->name);
  }
  log_quote (name, asked, sizeof asked);
  nbdkit_error ("vmdisk: no disk is exported as '%s': the exports are %s "
                "(disk=NAME:PATH)", asked, list);
  return NULL;
}

/* "256 MiB": the largest binary unit that divides size, else bytes. */
static void
format_size (uint64_t size, char *buf, size_t len)
{
  static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
  size_t u = 0;

  while (u + 1 < sizeof units / sizeof units[0] && size >= 1024 &&
         size % 1024 == 0) {
    size /= 1024;
    u++;
  }
  snprintf (buf, len, "%" PRIu64 " %s", size, units[u]);
}

int
exports_list (struct nbdkit_exports *exports)
{
  char desc[PATH_MAX + 128], size[32];
  const struct disk *d;
  size_t i;

  for (i = 0; i < disks_count (); i++) {
    d = disks_get (i);
    format_size (d->size, size, sizeof size);
    snprintf (desc, sizeof desc, "%s%.63s%s%s (%s, %s)",
              *d->name ? "disk " : "", d->name, *d->name ? ": " : "",
              d->path, d->is_bdev ? "block device" : "raw image", size);
    if (nbdkit_add_export (exports, d->name, desc) == -1)
      return -1;
  }
  return 0;
}

/* Per thread: the fleece filter names its own contexts' disk here. */
static __thread const char *selected;

void
exports_select (const char *name)
{
  selected = name;
}

struct disk *
exports_open (void)
{
  const char *name;

  if (!disks_named ())
    return disks_get (0);
  name = selected ? selected : nbdkit_export_name ();
  if (name == NULL) {
    nbdkit_error ("vmdisk: a plugin context without an export name (a "
                  "filter's own context) cannot choose one of the disks "
                  "given by disk=: the filter must name it "
                  "(select_export)");
    return NULL;
  }
  return exports_lookup (name);
}

size_t
exports_names (const char **names, size_t max)
{
  size_t i;

  for (i = 0; i < disks_count () && i < max; i++)
    names[i] = disks_get (i)->name;
  return disks_count ();
}
