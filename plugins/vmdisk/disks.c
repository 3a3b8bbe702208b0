/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's disk table (the contract is in disks.h).
 *
 * A fixed array of FLEECE_MAX_DISKS struct disk, of which the first
 * nr_disks are in use, in the order given.  mode says which parameter
 * filled it; the first file= or disk= fixes it, and the other is then
 * refused.  readonly= and cache= may come before or after the disks,
 * so they are kept here and copied into every disk in
 * disks_config_complete.
 *
 * "The same file" is the same inode (st_dev, st_ino) or, for block
 * devices, the same device number: a symlink, a hard link or a second
 * device node does not make a file another disk.
 */
#include <config.h>

#define _GNU_SOURCE 1          /* asprintf */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "disks.h"
#include "quiesce-provider.h"

static struct disk table[FLEECE_MAX_DISKS];
static size_t nr_disks;
static enum { MODE_NONE, MODE_FILE, MODE_DISK } mode;
static bool readonly, direct;   /* readonly=, cache=none */

void
disks_init (void)
{
  nr_disks = 0;
  mode = MODE_NONE;
  readonly = direct = false;
}

/* Append a disk; takes path (absolute, malloc'd).  0 or -1. */
static int
add_disk (const char *name, char *path)
{
  struct disk *d = &table[nr_disks];
  int r;

  disk_init (d);
  snprintf (d->name, sizeof d->name, "%s", name);
  d->path = path;
  r = *name ? asprintf (&d->param, "disk=%s:%s", name, path)
            : asprintf (&d->param, "file=%s", path);
  if (r == -1) {
    nbdkit_error ("asprintf: %m");
    free (path);
    d->path = NULL;
    return -1;
  }
  nr_disks++;
  return 0;
}

static int
mixed (void)
{
  nbdkit_error ("file= and disk= cannot be used together: give file=PATH "
                "for one disk (the export \"\"), or disk=NAME:PATH for "
                "each disk of the VM");
  return -1;
}

static int
parse_file (const char *value)
{
  char *path;

  if (mode == MODE_DISK)
    return mixed ();
  if (mode == MODE_FILE) {
    nbdkit_error ("file= given twice: file= serves one disk: give file= "
                  "once, or disk=NAME:PATH for each disk of a VM");
    return -1;
  }
  if (*value == '\0') {
    nbdkit_error ("file= is empty: give the path of a raw disk image or "
                  "block device");
    return -1;
  }
  path = nbdkit_absolute_path (value);
  if (path == NULL)
    return -1;
  mode = MODE_FILE;
  return add_disk ("", path);
}

/* NAME of disk=NAME:PATH: 1..63 of [A-Za-z0-9_-]. */
static bool
valid_name (const char *name, size_t len)
{
  size_t i;

  if (len < 1 || len > 63)
    return false;
  for (i = 0; i < len; i++)
    if (!((name[i] >= 'a' && name[i] <= 'z') ||
          (name[i] >= 'A' && name[i] <= 'Z') ||
          (name[i] >= '0' && name[i] <= '9') ||
          name[i] == '_' || name[i] == '-'))
      return false;
  return true;
}

/* The disk whose export is name[len], or NULL. */
static struct disk *
find (const char *name, size_t len)
{
  size_t i;

  for (i = 0; i < nr_disks; i++)
    if (strlen (table[i].name) == len &&
        memcmp (table[i].name, name, len) == 0)
      return &table[i];
  return NULL;
}

static int
parse_disk (const char *value)
{
  const char *colon = strchr (value, ':');
  size_t len = colon ? (size_t) (colon - value) : 0;
  struct disk *other;
  char name[64], *path;

  if (mode == MODE_FILE)
    return mixed ();
  if (colon == NULL) {
    nbdkit_error ("disk=%s: expected NAME:PATH, the export name, a colon "
                  "and the raw disk image or block device, e.g. "
                  "disk=vda:/var/lib/libvirt/images/vda.img", value);
    return -1;
  }
  if (!valid_name (value, len)) {
    nbdkit_error ("disk=%s: the export name '%.*s' must be 1 to 63 "
                  "letters, digits, '_' or '-' (e.g. disk=vda:PATH)",
                  value, (int) len, value);
    return -1;
  }
  if (colon[1] == '\0') {
    nbdkit_error ("disk=%s: the path after ':' is empty: give the raw "
                  "disk image or block device to export as '%.*s'",
                  value, (int) len, value);
    return -1;
  }
  if ((other = find (value, len)) != NULL) {
    nbdkit_error ("disk=%s: the export name '%s' is already used by %s: "
                  "give each disk its own NAME", value, other->name,
                  other->param);
    return -1;
  }
  if (nr_disks == FLEECE_MAX_DISKS) {
    nbdkit_error ("disk=%s: too many disks: vmdisk serves at most %d; "
                  "run one nbdkit per VM", value, FLEECE_MAX_DISKS);
    return -1;
  }
  path = nbdkit_absolute_path (colon + 1);
  if (path == NULL)
    return -1;
  mode = MODE_DISK;
  snprintf (name, sizeof name, "%.*s", (int) len, value);
  return add_disk (name, path);
}

static int
parse_readonly (const char *value)
{
  static const char *const yes[] = { "true", "yes", "on", "1" };
  static const char *const no[] = { "false", "no", "off", "0" };
  size_t i;

  for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    if (strcasecmp (value, yes[i]) == 0 || strcasecmp (value, no[i]) == 0) {
      readonly = strcasecmp (value, yes[i]) == 0;
      return 0;
    }
  }
  nbdkit_error ("readonly=%s: expected true or false", value);
  return -1;
}

int
disks_config (const char *key, const char *value)
{
  int r;

  if (strcmp (key, "file") == 0)
    r = parse_file (value);
  else if (strcmp (key, "disk") == 0)
    r = parse_disk (value);
  else if (strcmp (key, "readonly") == 0)
    r = parse_readonly (value);
  else if (strcmp (key, "cache") == 0) {
    if (strcmp (value, "writeback") != 0 && strcmp (value, "none") != 0) {
      nbdkit_error ("cache=%s: expected writeback (the default) or none "
                    "(O_DIRECT)", value);
      return -1;
    }
    direct = strcmp (value, "none") == 0;
    r = 0;
  }
  else
    return 0;
  return r == 0 ? 1 : -1;
}

/* Is b the same file as a (see the top of this file)? */
static bool
same_file (const struct stat *a, const struct stat *b)
{
  if (S_ISBLK (a->st_mode) && S_ISBLK (b->st_mode))
    return a->st_rdev == b->st_rdev;
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int
disks_config_complete (void)
{
  struct stat st[FLEECE_MAX_DISKS];
  size_t i, j;

  if (nr_disks == 0) {
    nbdkit_error ("file= is required: name the raw disk image or block "
                  "device, e.g. nbdkit vmdisk file=disk.img (or give "
                  "disk=NAME:PATH for each disk of a VM)");
    return -1;
  }
  for (i = 0; i < nr_disks; i++) {
    table[i].readonly = readonly;
    table[i].direct = direct;
    if (disk_check_path (&table[i]) == -1)
      return -1;
    if (stat (table[i].path, &st[i]) == -1) {
      nbdkit_error ("%s: stat: %m", table[i].param);
      return -1;
    }
    for (j = 0; j < i; j++)
      if (same_file (&st[j], &st[i])) {
        nbdkit_error ("%s is the same file as %s: give each disk its own "
                      "image or device (one file under two exports would "
                      "get two snapshots that disagree)",
                      table[i].param, table[j].param);
        return -1;
      }
  }
  return 0;
}

int
disks_open (void)
{
  size_t i;

  for (i = 0; i < nr_disks; i++)
    if (disk_open (&table[i]) == -1)
      return -1;
  return 0;
}

void
disks_close (void)
{
  size_t i;

  for (i = 0; i < nr_disks; i++)
    disk_close (&table[i]);
}

size_t
disks_count (void)
{
  return nr_disks;
}

struct disk *
disks_get (size_t i)
{
  return &table[i];
}

bool
disks_named (void)
{
  return mode == MODE_DISK;
}

struct disk *
disks_find (const char *name)
{
  return find (name, strlen (name));
}
