/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: the backup directory (see backup-dir.h).
 *
 * The lock is flock(LOCK_EX|LOCK_NB) on DIR/.lock, which holds the
 * holder's pid for the message of the one refused.  Two backups with
 * the same sequence (0002-full and 0002-incr), or a backup name that
 * is not a directory, make DIR unusable until someone looks: an error,
 * not a guess.
 */
#include <config.h>

#define _XOPEN_SOURCE_EXTENDED 1
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup-dir.h"
#include "fsync-path.h"

static int
take_lock (struct bdir *d, char *err, size_t len)
{
  char path[4096], pid[32] = "";
  ssize_t r;

  snprintf (path, sizeof path, "%s/.lock", d->path);
  d->lock_fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (d->lock_fd == -1) {
    snprintf (err, len, "%s: %s", path, strerror (errno));
    return -1;
  }
  if (flock (d->lock_fd, LOCK_EX | LOCK_NB) == -1) {
    r = pread (d->lock_fd, pid, sizeof pid - 1, 0);
    pid[r > 0 ? r : 0] = '\0';
    pid[strcspn (pid, "\n")] = '\0';
    snprintf (err, len, "%s is in use by pid %s (another backup, "
              "restore or prune): wait for it to finish", d->path,
              pid[0] ? pid : "?");
    close (d->lock_fd);
    d->lock_fd = -1;
    return -1;
  }
  snprintf (pid, sizeof pid, "%ld\n", (long) getpid ());
  if (ftruncate (d->lock_fd, 0) == -1 ||
      pwrite (d->lock_fd, pid, strlen (pid), 0) == -1) {
    snprintf (err, len, "%s: %s", path, strerror (errno));
    return -1;
  }
  return 0;
}

static int
by_sequence (const void *a, const void *b)
{
  unsigned long x = strtoul (*(char *const *) a, NULL, 10);
  unsigned long y = strtoul (*(char *const *) b, NULL, 10);

  return x < y ? -1 : x > y;
}

static int
add (char ***list, size_t *n, const char *name)
{
  char **l = realloc (*list, (*n + 1) * sizeof *l);

  if (l == NULL || (l[*n] = strdup (name)) == NULL)
    return -1;
  *list = l;
  (*n)++;
  return 0;
}

/* One entry of DIR. */
static int
entry (struct bdir *d, const char *name, const regex_t *full,
       const regex_t *partial, char *err, size_t len)
{
  char path[4096];
  struct stat st;
  size_t n = strlen (name);

  if (regexec (partial, name, 0, NULL, 0) == 0)
    return name[n - 2] == 'a'   /* .partial, not .pruning */
      ? add (&d->partials, &d->npartial, name)
      : add (&d->prunings, &d->npruning, name);
  if (regexec (full, name, 0, NULL, 0) != 0)
    return 0;
  snprintf (path, sizeof path, "%s/%s", d->path, name);
  if (lstat (path, &st) == -1 || !S_ISDIR (st.st_mode)) {
    snprintf (err, len, "%s is not a directory, but its name is that of a "
              "backup: move it out of %s", path, d->path);
    return -1;
  }
  return add (&d->names, &d->n, name);
}

/* List DIR's backups, sorted, and check the sequences are unique. */
static int
scan (struct bdir *d, char *err, size_t len)
{
  regex_t full, partial;
  DIR *dir = opendir (d->path);
  struct dirent *e;
  size_t i;
  int r = 0;

  if (dir == NULL) {
    snprintf (err, len, "%s: %s", d->path, strerror (errno));
    return -1;
  }
  regcomp (&full, "^[0-9]{4,9}-(full|incr)$", REG_EXTENDED | REG_NOSUB);
  regcomp (&partial, "^\\.[0-9]{4,9}-(full|incr)\\.(partial|pruning)$",
           REG_EXTENDED | REG_NOSUB);
  while (r == 0 && (e = readdir (dir)) != NULL)
    r = entry (d, e->d_name, &full, &partial, err, len);
  closedir (dir);
  regfree (&full);
  regfree (&partial);
  if (r == -1)
    return -1;
  if (d->n > 1)
    qsort (d->names, d->n, sizeof *d->names, by_sequence);
  for (i = 1; i < d->n; i++)
    if (by_sequence (&d->names[i - 1], &d->names[i]) == 0) {
      snprintf (err, len, "%s holds two backups numbered %lu (%s and %s): "
                "move the one that does not belong out of it", d->path,
                strtoul (d->names[i], NULL, 10), d->names[i - 1],
                d->names[i]);
      return -1;
    }
  d->last = d->n ? strtoul (d->names[d->n - 1], NULL, 10) : 0;
  return 0;
}

int
bdir_open (struct bdir *d, const char *path, bool create, bool lock,
           char *err, size_t len)
{
  struct stat st;

  memset (d, 0, sizeof *d);
  d->lock_fd = -1;
  if (create && mkdir (path, 0700) == -1 && errno != EEXIST) {
    snprintf (err, len, "cannot create %s: %s", path, strerror (errno));
    return -1;
  }
  if (stat (path, &st) == -1) {
    snprintf (err, len, "%s: %s", path, errno == ENOENT
              ? "no such directory: pass a backup directory (backup --output DIR)"
              : strerror (errno));
    return -2;
  }
  if (!S_ISDIR (st.st_mode)) {  /* errno is stale here: no errno test */
    snprintf (err, len, "%s: not a directory: pass a backup directory",
              path);
    return -2;
  }
  if ((d->path = realpath (path, NULL)) == NULL) {
    snprintf (err, len, "%s: %s", path, strerror (errno));
    return -1;
  }
  if (lock && take_lock (d, err, len) == -1)
    return -1;
  return scan (d, err, len);
}

static int
remove_one (const char *path, const struct stat *st, int flag, struct FTW *f)
{
  return remove (path) == -1 ? -1 : 0;
}

int
bdir_remove_tree (const char *path)
{
  nftw (path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  return access (path, F_OK) == 0 ? -1 : 0;
}

void
bdir_note_snapshot (const char *partial, const char *id)
{
  char path[4096 + 16];
  FILE *fp;

  snprintf (path, sizeof path, "%s/snapshot", partial);
  if ((fp = fopen (path, "w")) != NULL) {
    fprintf (fp, "%s\n", id);
    fclose (fp);
  }
}

void
bdir_forget_snapshot (const char *partial)
{
  char path[4096 + 16];

  snprintf (path, sizeof path, "%s/snapshot", partial);
  unlink (path);
}

/* The snapshot id partial/snapshot records, into d. */
static void
read_stale (struct bdir *d, const char *partial, const char *name)
{
  char path[4096 + 16], id[256];
  FILE *fp;

  snprintf (path, sizeof path, "%s/snapshot", partial);
  if ((fp = fopen (path, "r")) == NULL)
    return;
  if (fgets (id, sizeof id, fp) != NULL) {
    id[strcspn (id, "\n")] = '\0';
    free (d->stale_snapshot);
    free (d->stale_partial);
    d->stale_snapshot = strdup (id);
    d->stale_partial = strdup (name);
  }
  fclose (fp);
}

int
bdir_remove_pruning (struct bdir *d, char *err, size_t len)
{
  char path[4096];
  size_t i;

  for (i = 0; i < d->npruning; i++) {
    snprintf (path, sizeof path, "%s/%s", d->path, d->prunings[i]);
    if (bdir_remove_tree (path) == -1) {
      snprintf (err, len, "cannot remove %s, left by an interrupted prune: "
                "remove it by hand", path);
      return -1;
    }
    fprintf (stderr, "fleecectl: backup %s was being pruned by an "
             "interrupted run: removed\n", d->prunings[i]);
  }
  return 0;
}

int
bdir_remove_partials (struct bdir *d, char *err, size_t len)
{
  char path[4096];
  size_t i;

  if (bdir_remove_pruning (d, err, len) == -1)
    return -1;
  for (i = 0; i < d->npartial; i++) {
    snprintf (path, sizeof path, "%s/%s", d->path, d->partials[i]);
    read_stale (d, path, d->partials[i]);
    if (bdir_remove_tree (path) == -1) {
      snprintf (err, len, "cannot remove the incomplete backup %s: remove "
                "it by hand", path);
      return -1;
    }
    fprintf (stderr, "fleecectl: incomplete backup %s left by an "
             "interrupted run: removed\n", d->partials[i]);
  }
  return 0;
}

int
bdir_begin (struct bdir *d, const char *kind, char *name, size_t namelen,
            char *partial, size_t partlen, char *err, size_t len)
{
  snprintf (name, namelen, "%04lu-%s", d->last + 1, kind);
  snprintf (partial, partlen, "%s/.%s.partial", d->path, name);
  if (mkdir (partial, 0700) == 0)
    return 0;
  snprintf (err, len, "cannot create %s: %s", partial, strerror (errno));
  return -1;
}


int
bdir_complete (struct bdir *d, const char *partial, const char *name,
               char *err, size_t len)
{
  char final[4096];

  snprintf (final, sizeof final, "%s/%s", d->path, name);
  if (fsync_path (partial, O_DIRECTORY) == -1 ||
      rename (partial, final) == -1 ||
      fsync_path (d->path, O_DIRECTORY) == -1) {
    snprintf (err, len, "completing %s: %s", final, strerror (errno));
    return -1;
  }
  return 0;
}

void
bdir_close (struct bdir *d)
{
  size_t i;

  for (i = 0; i < d->n; i++)
    free (d->names[i]);
  for (i = 0; i < d->npartial; i++)
    free (d->partials[i]);
  for (i = 0; i < d->npruning; i++)
    free (d->prunings[i]);
  free (d->names);
  free (d->partials);
  free (d->prunings);
  free (d->stale_snapshot);
  free (d->stale_partial);
  d->stale_snapshot = d->stale_partial = NULL;
  if (d->lock_fd != -1)
    close (d->lock_fd);
  free (d->path);
  d->path = NULL;
  d->lock_fd = -1;
  d->names = d->partials = d->prunings = NULL;
  d->n = d->npartial = d->npruning = 0;
}
