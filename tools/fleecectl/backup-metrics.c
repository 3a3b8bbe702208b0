/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup --metrics-file (see backup-metrics.h). */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup-dir.h"
#include "backup-metrics.h"
#include "metrics.h"
#include "utc-parse.h"

/* DIR's complete backups and its newest one's finished-at (0: none). */
static void
dir_state (const char *dir, size_t *n, double *last)
{
  struct bdir d;
  struct manifest m;
  char err[1024], path[4096];

  *n = 0;
  *last = 0;
  if (bdir_open (&d, dir, false, false, err, sizeof err) < 0)
    return;
  *n = d.n;
  if (d.n > 0) {
    snprintf (path, sizeof path, "%s/%s", d.path, d.names[d.n - 1]);
    if (manifest_read (path, &m, err, sizeof err) == 0) {
      if (!utc_parse (m.finished_at, last))
        *last = 0;
      manifest_free (&m);
    }
  }
  bdir_close (&d);
}

/* One gauge, header and sample. */
static void
gauge (const struct metrics *mt, const char *name, const char *help,
       const char *fmt, double v)
{
  char value[64];

  snprintf (value, sizeof value, fmt, v);
  metrics_header (mt, name, false, help);
  metrics_sample (mt, name, false, NULL, NULL, value);
}

static void
write_all (FILE *fp, const struct options *o, const struct backup_result *r)
{
  struct metrics mt = { fp, false, o->label };
  struct timespec now;
  uint64_t copied = 0;
  double last;
  size_t n, i;

  clock_gettime (CLOCK_REALTIME, &now);
  dir_state (o->output, &n, &last);
  gauge (&mt, "backup_last_run_timestamp_seconds", "When the last backup "
         "run ended, successful or not.", "%.3f",
         now.tv_sec + now.tv_nsec / 1e9);
  gauge (&mt, "backup_last_success_timestamp_seconds", "When the newest "
         "complete backup in the directory finished (0: none).", "%.3f",
         last);
  gauge (&mt, "backup_result", "The last run: 0 recorded a backup, 1 "
         "failed.", "%.0f", r->ok ? 0 : 1);
  gauge (&mt, "backup_duration_seconds", "How long the last run took.",
         "%.6f", r->seconds);
  gauge (&mt, "backup_backups", "Complete backups in the directory.",
         "%.0f", n);
  if (!r->ok)
    return;
  for (i = 0; i < r->m->ndisks; i++)
    copied += r->m->disks[i].copied;
  gauge (&mt, "backup_full", "The last backup recorded: 1 full, 0 "
         "incremental.", "%.0f", strcmp (r->m->kind, "full") == 0);
  gauge (&mt, "backup_application_consistent", "The last backup "
         "recorded: 1 application-consistent, 0 crash-consistent.", "%.0f",
         r->m->consistency &&
         strcmp (r->m->consistency, "application-consistent") == 0);
  gauge (&mt, "backup_copied_bytes", "Bytes the last backup recorded "
         "copied, all disks.", "%.0f", (double) copied);
}

void
backup_metrics_write (const struct options *o, const struct backup_result *r)
{
  char tmp[4096 + 32];
  const char *what = "writing";
  FILE *fp;
  int e = 0;

  if (o->metrics_file == NULL)
    return;
  snprintf (tmp, sizeof tmp, "%s.tmp.%ld", o->metrics_file, (long) getpid ());
  if ((fp = fopen (tmp, "w")) == NULL) {
    e = errno;
    what = "creating";
  }
  else {
    write_all (fp, o, r);
    if (fflush (fp) == EOF || fsync (fileno (fp)) == -1)
      e = errno;
    if (fclose (fp) == EOF && e == 0)
      e = errno;
    if (e == 0 && rename (tmp, o->metrics_file) == -1) {
      e = errno;
      what = "renaming";
    }
    if (e)
      unlink (tmp);
  }
  if (e)
    fprintf (stderr, "fleecectl: warning: --metrics-file %s: %s %s: %s "
             "(the backup's result is not recorded there; its exit status "
             "stands)\n", o->metrics_file, what, tmp, strerror (e));
}
