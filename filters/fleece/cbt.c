/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: changed-block tracking, the maps' lifecycle (see
 * cbt.h; marking is cbtmark.c, the format cbtmap.h).
 *
 * Start: the directory's "vm" file names the tracking identity (a
 * UUID); the current generation is the highest in the maps' headers.
 * If no map of that identity is readable, a new identity is made: an
 * older checkpoint id then names an unknown identity (answered
 * full-backup-required) rather than a generation number that would be
 * handed out again.
 *
 * A disk's map is opened at its first use (a write, or a snapshot),
 * before anything is written to the disk in this run, and checked
 * (cbt_attach); a map that cannot be trusted is started afresh with
 * the reason recorded in its header, so that checkpoints before it
 * answer full-backup-required with that reason, across restarts too.
 * A map found not clean (nbdkit died while serving it) is trusted: it
 * may only over-report.  Its header is then marked not clean until
 * the clean stop, which records the disk's identity (the plugin's, if
 * it tells one, else only the size) for the next start to compare.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nbdkit-filter.h>

#include "cbt.h"
#include "cbtdisk.h"
#include "cleanup.h"
#include "disks.h"
#include "fleece.h"

struct cdisk cbt_disks[FLEECE_MAX_DISKS];
uint64_t cbt_gen;
uint8_t cbt_vm_uuid[16];

bool
cbt_enabled (void)
{
  return fleece_cfg.cbt_dir != NULL;
}

void
cbt_map_path (size_t i, char *buf, size_t len)
{
  const char *name = fleece_disks[i].name;

  snprintf (buf, len, "%s/disk%s%s.map", fleece_cfg.cbt_dir,
            *name ? "-" : "", name);
}

/* Write the "vm" file anew: temp file, fsync, rename, fsync dir. */
static int
write_vm_file (void)
{
  char path[PATH_MAX], tmp[PATH_MAX], u[37];
  FILE *fp = NULL;
  int fd, dfd, r = -1;

  snprintf (path, sizeof path, "%s/vm", fleece_cfg.cbt_dir);
  snprintf (tmp, sizeof tmp, "%s/vm.tmp", fleece_cfg.cbt_dir);
  if (cbtmap_uuid (cbt_vm_uuid) == -1 ||
      (fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1)
    goto out;
  if ((fp = fdopen (fd, "w")) == NULL) {
    close (fd);
    goto out;
  }
  cbtmap_uuid_str (cbt_vm_uuid, u);
  fprintf (fp, "fleece-cbt %d %s\n", CBTMAP_VERSION, u);
  if (fflush (fp) == EOF || fsync (fileno (fp)) == -1) {
    fclose (fp);
    goto out;
  }
  if (fclose (fp) == EOF || rename (tmp, path) == -1)
    goto out;
  if ((dfd = open (fleece_cfg.cbt_dir, O_RDONLY | O_DIRECTORY)) >= 0) {
    fsync (dfd);
    close (dfd);
  }
  r = 0;
 out:
  if (r == -1)
    nbdkit_error ("fleece: cbt-dir=%s: writing %s: %m", fleece_cfg.cbt_dir,
                  path);
  return r;
}

/* Read the "vm" file: 1 read, 0 missing or unreadable. */
static int
read_vm_file (void)
{
  char path[PATH_MAX];
  unsigned b[16];
  int v, i;
  FILE *fp;

  snprintf (path, sizeof path, "%s/vm", fleece_cfg.cbt_dir);
  if ((fp = fopen (path, "r")) == NULL)
    return 0;
  i = fscanf (fp, "fleece-cbt %d %2x%2x%2x%2x-%2x%2x-%2x%2x-%2x%2x-"
              "%2x%2x%2x%2x%2x%2x", &v, &b[0], &b[1], &b[2], &b[3], &b[4],
              &b[5], &b[6], &b[7], &b[8], &b[9], &b[10], &b[11], &b[12],
              &b[13], &b[14], &b[15]);
  fclose (fp);
  if (i != 17 || v != CBTMAP_VERSION)
    return 0;
  for (i = 0; i < 16; i++)
    cbt_vm_uuid[i] = b[i];
  return 1;
}

/* The highest generation among the maps of this identity (0: none). */
static uint64_t
maps_gen (void)
{
  struct cbtmap_header h;
  char path[PATH_MAX];
  uint64_t gen = 0;
  size_t i;
  int fd;

  for (i = 0; i < fleece_ndisks; i++) {
    cbt_map_path (i, path, sizeof path);
    if ((fd = open (path, O_RDONLY | O_CLOEXEC)) == -1)
      continue;
    if (cbtmap_read_header (fd, &h) == 1 &&
        memcmp (h.vm_uuid, cbt_vm_uuid, 16) == 0 && h.gen > gen)
      gen = h.gen;
    close (fd);
  }
  return gen;
}

int
cbt_get_ready (void)
{
  const char *dir = fleece_cfg.cbt_dir;
  size_t i;
  char u[37];

  if (!cbt_enabled ())
    return 0;
  if (mkdir (dir, 0700) == -1 && errno != EEXIST) {
    nbdkit_error ("fleece: cbt-dir=%s: cannot create it: %m", dir);
    return -1;
  }
  for (i = 0; i < fleece_ndisks; i++) {
    pthread_mutex_init (&cbt_disks[i].lock, NULL);
    pthread_cond_init (&cbt_disks[i].synced, NULL);
    cbt_disks[i].fd = -1;
  }
  if (!read_vm_file () || (cbt_gen = maps_gen ()) == 0) {
    if (write_vm_file () == -1)
      return -1;
    cbt_gen = 1;
  }
  cbtmap_uuid_str (cbt_vm_uuid, u);
  nbdkit_debug ("fleece: cbt: identity %s, generation %" PRIu64, u,
                cbt_gen);
  return 0;
}

void
cbt_checkpoint_id (uint64_t gen, char *buf, size_t len)
{
  char u[37];

  cbtmap_uuid_str (cbt_vm_uuid, u);
  snprintf (buf, len, "%s:%" PRIu64, u, gen);
}

/* Granules with code c become 0 (too old to name a known checkpoint),
 * in memory and in the file.  Lock held, no writer marking c.  It
 * writes whole pages of the map from memory, so it first waits for a
 * sync in flight (whose new marks memory does not show yet), and no
 * other can start while it holds the lock.  0 or -1.
 */
static int
clear_code (struct cdisk *d, uint8_t c)
{
  uint64_t g, page, pend = UINT64_MAX;
  size_t len;

  while (d->syncing)
    pthread_cond_wait (&d->synced, &d->lock);
  for (g = 0; g <= d->ngran; g++) {
    page = g / 4096;
    if (pend != UINT64_MAX && (g == d->ngran || page != pend)) {
      len = d->ngran - pend * 4096 < 4096 ? d->ngran - pend * 4096 : 4096;
      if (pwrite (d->fd, d->map + pend * 4096, len,
                  CBTMAP_DATA + pend * 4096) != (ssize_t) len)
        return -1;
      pend = UINT64_MAX;
    }
    if (g < d->ngran && d->map[g] == c) {
      __atomic_store_n (&d->map[g], 0, __ATOMIC_RELEASE);
      pend = page;
    }
  }
  return fdatasync (d->fd);
}

int
cbt_prepare (const uint64_t *sizes)
{
  size_t i;

  if (!cbt_enabled ())
    return 0;
  for (i = 0; i < fleece_ndisks; i++) {
    struct cdisk *d = &cbt_disks[i];
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&d->lock);
    if (!d->attached && cbt_attach (i, sizes[i]) == -1)
      return -1;
    if (sizes[i] != d->h.disk_size)
      snprintf (d->distrust, sizeof d->distrust, "the disk's size changed "
                "while served (%" PRIu64 " -> %" PRIu64 " bytes)",
                d->h.disk_size, sizes[i]);
    free (d->next_prev);
    free (d->next_saved);
    d->next_prev = calloc (d->ngran + 1, 1);
    d->next_saved = calloc (d->ngran + 1, 1);
    if (d->next_prev == NULL || d->next_saved == NULL) {
      nbdkit_error ("fleece: cbt: calloc: %m");
      return -1;
    }
    if (clear_code (d, cbtmap_code (cbt_gen + 1)) == -1) {
      nbdkit_error ("fleece: cbt: writing the map %s: %m", d->path);
      return -1;
    }
  }
  return 0;
}

uint64_t
cbt_checkpoint (void)
{
  size_t i;

  if (!cbt_enabled ())
    return 0;
  cbt_gen++;
  for (i = 0; i < fleece_ndisks; i++) {
    struct cdisk *d = &cbt_disks[i];
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&d->lock);
    free (d->prev);
    free (d->saved);
    d->prev = d->next_prev;
    d->saved = d->next_saved;
    d->next_prev = d->next_saved = NULL;
    d->h.gen = cbt_gen;
    if (!d->failed && cbtmap_write_header (d->fd, &d->h) == -1) {
      nbdkit_error ("fleece: cbt: writing the header of %s: %m: writes "
                    "to this disk fail from now on", d->path);
      d->failed = true;
    }
  }
  return cbt_gen;
}

/* The clean stop of a map not opened in this run (nothing was written
 * to its disk through nbdkit): if a crash left it not clean, it was
 * trusted as it is, so record the identity now.
 */
static void
stop_unused (size_t i)
{
  struct cbtmap_header h;
  char path[PATH_MAX];
  int fd;

  cbt_map_path (i, path, sizeof path);
  if ((fd = open (path, O_RDWR | O_CLOEXEC)) == -1)
    return;
  if (cbtmap_read_header (fd, &h) == 1 && !h.clean &&
      memcmp (h.vm_uuid, cbt_vm_uuid, 16) == 0 &&
      disks_identity (i, h.identity, sizeof h.identity) == 0) {
    h.clean = true;
    if (cbtmap_write_header (fd, &h) == -1)
      nbdkit_error ("fleece: cbt: clean stop of %s: %m", path);
  }
  close (fd);
}

void
cbt_stop (void)
{
  size_t i;

  for (i = 0; cbt_enabled () && i < fleece_ndisks; i++) {
    struct cdisk *d = &cbt_disks[i];
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&d->lock);
    if (!d->attached) {
      stop_unused (i);
      continue;
    }
    if (!d->failed && d->distrust[0] == '\0' &&
        disks_identity (i, d->h.identity, sizeof d->h.identity) == 0) {
      d->h.clean = true;
      if (fdatasync (d->fd) == -1 ||
          cbtmap_write_header (d->fd, &d->h) == -1)
        nbdkit_error ("fleece: cbt: clean stop of %s: %m", d->path);
    }
    close (d->fd);
    d->fd = -1;
    d->attached = false;
    free (d->map);
    free (d->prev);
    free (d->saved);
    free (d->next_prev);
    free (d->next_saved);
    d->map = d->prev = d->saved = d->next_prev = d->next_saved = NULL;
  }
}
