/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup: one disk of a backup (see backup-disk.h).
 *
 * A disk's name becomes its file's name: [A-Za-z0-9_-]{1,63}, and ""
 * (a server of one disk) is "disk".  An incremental's backing file is
 * the parent's file of the same disk, relative ("../PARENT/FILE"), so
 * that the directory can move as a whole.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backup-copy.h"
#include "backup-disk.h"
#include "sha256.h"

static int
file_name (const char *disk, struct mdisk *md, char *err, size_t len)
{
  char buf[128];
  size_t n = strlen (disk);

  if (n > 63 || strspn (disk, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
                        "NOPQRSTUVWXYZ0123456789_-") != n) {
    snprintf (err, len, "disk name \"%s\" cannot be a file name (1 to 63 "
              "of A-Z a-z 0-9 _ -): rename the disk in the plugin's disks",
              disk);
    return -1;
  }
  snprintf (buf, sizeof buf, "%s.qcow2", n ? disk : "disk");
  md->file = strdup (buf);
  return 0;
}

static int
backing_of (const struct manifest *parent, const char *disk,
            struct mdisk *md, char *err, size_t len)
{
  char buf[512];
  size_t i;

  for (i = 0; i < parent->ndisks; i++)
    if (strcmp (parent->disks[i].name, disk) == 0) {
      snprintf (buf, sizeof buf, "../%s/%s", parent->name,
                parent->disks[i].file);
      md->backing = strdup (buf);
      return 0;
    }
  snprintf (err, len, "disk \"%s\" is not in %s", disk, parent->name);
  return -1;
}

/* The file as written: its size and SHA-256. */
static int
seal (const struct disk_job *j, struct mdisk *md, char *err, size_t len)
{
  char path[8192];
  struct stat st;

  snprintf (path, sizeof path, "%s/%s", j->partial, md->file);
  if (stat (path, &st) == -1 || sha256_file (path, md->sha256) == -1) {
    snprintf (err, len, "%s: %s", path, strerror (errno));
    return -1;
  }
  md->file_size = st.st_size;
  return 0;
}

int
backup_disk (const struct disk_job *j, struct mdisk *md, char *err,
             size_t len)
{
  const struct plan_disk *pd = &j->p->disks[j->i];
  struct copy c = {
    .uri = j->o->uri, .export = pd->export, .disk = pd->name,
    .size = pd->size, .target = j->t->sock, /* filled by target_create */
    .connections = j->o->connections,
    .incremental = j->p->incremental, .ranges = pd->ranges,
    .nranges = pd->nranges, .stop = j->stop,
  };
  char why[1024];

  md->name = strdup (pd->name);
  md->export = strdup (pd->export);
  md->size = pd->size;
  if (file_name (pd->name, md, err, len) == -1 ||
      (j->p->incremental &&
       backing_of (j->parent, pd->name, md, err, len) == -1))
    return -1;
  if (target_create (j->t, j->partial, md->file, md->backing, md->size,
                     why, sizeof why) == -1 ||
      target_start (j->t, j->o->connections, why, sizeof why) == -1)
    goto target_failed;
  if (copy_run (&c, progress_tick, j->pr) == -1) {
    snprintf (err, len, "%s", c.error);
    return -1;
  }
  if (target_finish (j->t, why, sizeof why) == -1)
    goto target_failed;
  j->pr->base += c.examined;
  md->examined = c.examined;
  md->copied = c.copied;
  md->zeroed = c.zeroed;
  return seal (j, md, err, len);

 target_failed:
  snprintf (err, len, "disk \"%s\": %s", pd->name, why);
  return -1;
}
