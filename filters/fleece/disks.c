/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the disks of the VM (see disks.h).
 *
 * The disk names come from the plugin's provider table, looked up
 * here on its own (not through the quiesce code): with
 * quiesce-command= the quiesce side uses the filter's own table, but
 * the disks are still the plugin's.
 */
#include <config.h>

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <nbdkit-filter.h>

#include "disks.h"
#include "fleece.h"
#include "log-quote.h"

struct fdisk fleece_disks[FLEECE_MAX_DISKS];
size_t fleece_ndisks;
static void (*select_export) (const char *name);

/* The plugin's disk names: n (names[] set), or 1 with names[0] "". */
static size_t
plugin_disks (const char **names)
{
  const struct fleece_quiesce_provider *p =
    dlsym (RTLD_DEFAULT, FLEECE_QUIESCE_PROVIDER_SYMBOL);
  size_t n;

  if (p == NULL || p->abi_version != FLEECE_QUIESCE_ABI_VERSION ||
      !FLEECE_PROVIDER_HAS (p, disks) ||
      !FLEECE_PROVIDER_HAS (p, select_export))
    n = 0;
  else {
    n = p->disks (names, FLEECE_MAX_DISKS);
    select_export = p->select_export;
  }
  if (n == 0 || n > FLEECE_MAX_DISKS) {
    names[0] = "";
    n = 1;
  }
  return n;
}

static int
add_disk (struct fdisk *d, const char *name, bool multi)
{
  const char *snap = fleece_cfg.snapshot_export;

  if (strlen (name) >= sizeof d->name) {
    nbdkit_error ("fleece: the plugin's disk name '%s' is too long", name);
    return -1;
  }
  strcpy (d->name, name);
  strcpy (d->live, name);
  if (multi)
    snprintf (d->snap, sizeof d->snap, "%s/%s", snap, name);
  else
    snprintf (d->snap, sizeof d->snap, "%s", snap);
  d->store = store_open (fleece_cfg.dir, fleece_cfg.max_size, name);
  return d->store ? 0 : -1;
}

int
disks_get_ready (void)
{
  const char *names[FLEECE_MAX_DISKS];
  size_t i, n = plugin_disks (names);
  bool multi = n > 1 || names[0][0] != '\0';

  for (i = 0; i < n; i++) {
    if (add_disk (&fleece_disks[i], names[i], multi) == -1)
      return -1;
    fleece_ndisks = i + 1;
  }
  if (multi)
    nbdkit_debug ("fleece: %zu disks: one snapshot covers them all", n);
  return 0;
}

void
disks_select (int disk)
{
  if (select_export)
    select_export (disk >= 0 ? fleece_disks[disk].live : NULL);
}

void
disks_unload (void)
{
  size_t i;

  for (i = 0; i < fleece_ndisks; i++) {
    store_close (fleece_disks[i].store);
    fleece_disks[i].store = NULL;
  }
  fleece_ndisks = 0;
}

/* "'vda', 'vdb', 'snapshot/vda', 'snapshot/vdb'" into buf. */
static void
valid_names (char *buf, size_t len)
{
  size_t i, k, used = 0;

  buf[0] = '\0';
  for (k = 0; k < 2; k++)
    for (i = 0; i < fleece_ndisks && used < len; i++)
      used += snprintf (buf + used, len - used, "%s'%s'",
                        used ? ", " : "",
                        k ? fleece_disks[i].snap : fleece_disks[i].live);
}

int
disks_lookup (const char *exportname, bool *snapshot)
{
  char names[2048], asked[400];
  size_t i;

  for (i = 0; i < fleece_ndisks; i++) {
    *snapshot = strcmp (exportname, fleece_disks[i].snap) == 0;
    if (*snapshot || strcmp (exportname, fleece_disks[i].live) == 0)
      return i;
  }
  valid_names (names, sizeof names);
  log_quote (exportname, asked, sizeof asked);
  nbdkit_error ("fleece: unknown export '%s': valid exports are %s "
                "(a disk, and its point-in-time snapshot)", asked, names);
  return -1;
}

int
disks_list_snapshots (struct nbdkit_exports *exports)
{
  char desc[160];
  size_t i;

  for (i = 0; i < fleece_ndisks; i++) {
    if (fleece_disks[i].name[0])
      snprintf (desc, sizeof desc, "point-in-time snapshot of disk %.63s "
                "(fleece; one instant for all %zu disks)",
                fleece_disks[i].name, fleece_ndisks);
    else
      snprintf (desc, sizeof desc, "point-in-time snapshot of the disk "
                "(fleece)");
    if (nbdkit_add_export (exports, fleece_disks[i].snap, desc) == -1)
      return -1;
  }
  return 0;
}
