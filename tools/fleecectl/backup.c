/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup: the command (see backup.h).
 *
 * The order: lock DIR and clear what a crashed run left; read the
 * parent's manifest; snapshot-begin; status (disks, taken-at); choose
 * full or incremental (backup-plan.h); make the partial directory;
 * back up each disk (backup-disk.h: its qcow2, the copy, fsync, hash);
 * write the manifest; rename the partial directory into place;
 * snapshot-end.
 *
 * One cleanup path, on every way out after begin (an error, a signal,
 * a die() anywhere): kill qemu-nbd, remove the partial directory, and
 * end the snapshot if this run created it (on a new connection: the
 * old one may be mid-reply).  An adopted snapshot belongs to whoever
 * pinned it and is left alone.
 *
 * --metrics-file (backup-metrics.h): written after report() on
 * success, and by an atexit handler on every exit that recorded
 * nothing (it runs after the cleanup).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backup.h"
#include "backup-dir.h"
#include "backup-disk.h"
#include "backup-metrics.h"
#include "backup-plan.h"
#include "backup-report.h"
#include "backup-target.h"
#include "conn.h"
#include "manifest.h"
#include "progress.h"
#include "request.h"
#include "show.h"
#include "utc-now.h"

struct backup {
  const struct options *o;
  struct conn c;
  struct bdir d;
  struct manifest parent, m;
  bool have_parent;
  char broken[512];             /* why the parent's chain is unusable */
  struct plan p;
  char name[64], partial[4096];
  bool partial_made, snapshot_owed;
  struct target t;
  struct progress pr;
};

static struct backup b;
static volatile sig_atomic_t stop, begun;

/* --metrics-file: a run that exits without recording a backup (die,
 * from anywhere after the options were checked) writes "failed" at
 * exit, in this process only (not in a forked child).
 */
static double run_t0;
static pid_t run_pid;
static bool metrics_written;

static void
metrics_at_exit (void)
{
  struct backup_result r = { .ok = false };

  if (metrics_written || getpid () != run_pid)
    return;
  metrics_written = true;
  r.seconds = progress_now () - run_t0;
  backup_metrics_write (b.o, &r);
}

/* Until snapshot-begin has answered, a signal waits for the answer
 * (bounded by --timeout): only then is it known whether this run
 * created the snapshot and owes its end.
 */
static void
on_signal (int sig)
{
  stop = 1;
  if (begun)
    conn_interrupted = 1;
}

/* snapshot-end, in a child process: a failure there (the server is
 * gone) ends the child, never the caller's exit status.
 */
static void
end_snapshot (void)
{
  struct conn c = { .fd = -1 };
  struct options q = *b.o;
  struct reply r;
  pid_t pid;
  int st = -1;

  fflush (stdout);
  fflush (stderr);
  if ((pid = fork ()) == 0) {
    die_cleanup = NULL;         /* a die () here must not clean up again */
    if (freopen ("/dev/null", "w", stderr) == NULL)
      _exit (1);
    conn_interrupted = 0;
    q.json = false;
    conn_open (&c, b.o->socket, b.o->timeout);
    _exit (request_try (&q, &c, "snapshot-end", 9, 0, &r) == 1 ? 0 : 1);
  }
  if (pid > 0)
    waitpid (pid, &st, 0);
  if (st != 0)
    fprintf (stderr, "fleecectl: warning: could not end snapshot generation "
             "%" PRId64 " (the server gone?): if it is still active, end it "
             "with fleecectl end\n", b.p.generation);
}

/* The single cleanup path (die_cleanup). */
static void
cleanup (void)
{
  progress_clear (&b.pr);
  target_kill (&b.t);
  if (b.partial_made)
    bdir_remove_tree (b.partial);
  b.partial_made = false;
  if (b.snapshot_owed)
    end_snapshot ();
  b.snapshot_owed = false;
}

static void __attribute__ ((noreturn, format (printf, 1, 2)))
failed (const char *fmt, ...)
{
  char msg[2048];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  /* A terminal's SIGINT also reaches qemu-img: its failure is ours. */
  die (EXIT_FAILED, "backup failed: %s", stop ? "interrupted" : msg);
}

/* Now, as utc_now writes it (malloc'd). */
static char *
now_text (void)
{
  char buf[UTC_NOW_LEN];

  utc_now (buf, sizeof buf);
  return strdup (buf);
}

/* The URI must name no export: each disk's snapshot export is chosen
 * here.
 */
static void
check_uri (const char *uri)
{
  const char *p = strstr (uri, "://");
  size_t n;

  if (p == NULL || strncmp (uri, "nbd", 3) != 0)
    die (EXIT_USAGE, "--uri %s: expected an NBD URI such as "
         "'nbd+unix:///?socket=/run/vm1.sock'", uri);
  p = strchr (p + 3, '/');
  n = p ? strcspn (p + 1, "?#") : 0;
  if (n > 0)
    die (EXIT_USAGE, "--uri %s: names the export \"%.*s\": give the server "
         "only (e.g. 'nbd+unix:///?socket=...'); backup opens each disk's "
         "snapshot export itself", uri, (int) n, p + 1);
}

/* The chain under the parent m: every backup named as a parent is in
 * DIR, its manifest readable, every disk file present; else why not,
 * in b.broken.  Cheap (no sha256: verify does that).
 */
static void
check_chain (const struct manifest *m)
{
  struct manifest cur = { 0 };
  const struct manifest *e = m;
  char path[4096], err[200], name[200];
  size_t i, steps;

  snprintf (name, sizeof name, "%s", b.d.names[b.d.n - 1]);

  for (steps = 0; steps <= b.d.n; steps++) {
    for (i = 0; i < e->ndisks; i++) {
      snprintf (path, sizeof path, "%s/%s/%s", b.d.path, name,
                e->disks[i].file);
      if (access (path, R_OK) == -1) {
        snprintf (b.broken, sizeof b.broken, "%s/%.100s: %s", name,
                  e->disks[i].file, strerror (errno));
        goto out;
      }
    }
    if (e->parent == NULL)
      goto out;
    snprintf (name, sizeof name, "%s", e->parent);
    for (i = 0; i < b.d.n && strcmp (b.d.names[i], name) != 0; i++)
      ;
    if (i == b.d.n) {
      snprintf (b.broken, sizeof b.broken, "%s is not in the directory",
                name);
      goto out;
    }
    snprintf (path, sizeof path, "%s/%s", b.d.path, name);
    manifest_free (&cur);
    e = &cur;
    if (manifest_read (path, &cur, err, sizeof err) == -1) {
      snprintf (b.broken, sizeof b.broken, "%s: %s", name, err);
      goto out;
    }
  }
  snprintf (b.broken, sizeof b.broken, "its chain of parents loops");
 out:
  manifest_free (&cur);
}

/* DIR: locked, cleared of partial directories, parent read. */
static void
open_dir (void)
{
  char err[1024], path[4096];
  int r = bdir_open (&b.d, b.o->output, true, true, err, sizeof err);

  if (r < 0)
    die (r == -2 ? EXIT_USAGE : EXIT_FAILED, "%s", err);
  if (bdir_remove_partials (&b.d, err, sizeof err) == -1)
    die (EXIT_FAILED, "%s", err);
  if (b.d.n == 0)
    return;
  snprintf (path, sizeof path, "%s/%s", b.d.path, b.d.names[b.d.n - 1]);
  if (manifest_read (path, &b.parent, err, sizeof err) == -1)
    die (EXIT_FAILED, "%s: %s: the last backup is damaged; run fleecectl "
         "verify --input %s, and move the damaged backup out of it (or "
         "start a new chain in a new directory)", path, err, b.o->output);
  b.have_parent = true;
  check_chain (&b.parent);
}

/* "GENERATION TAKEN-AT": names the planned snapshot in the partial
 * directory (bdir_note_snapshot).
 */
static void
snapshot_id (char *id, size_t len)
{
  snprintf (id, len, "%" PRId64 " %s", b.p.generation,
            b.p.taken_at ? b.p.taken_at : "-");
}

/* snapshot-begin (with q's options) and status, into the plan. */
static void
begin_once (struct options *q)
{
  struct reply rb, rs;
  char err[512];

  if (!request (q, &b.c, "snapshot-begin", 1, &rb))
    die (EXIT_FAILED, "interrupted");
  b.snapshot_owed = json_object_get_boolean
    (json_object_object_get (rb.obj, "created"));
  die_cleanup = cleanup;
  begun = 1;
  if (stop)
    failed ("interrupted");
  if (!request (q, &b.c, "status", 2, &rs))
    failed ("interrupted");
  if (plan_snapshot (&b.p, rb.obj, rs.obj, err, sizeof err) == -1)
    failed ("%s", err);
  reply_free (&rb);
  reply_free (&rs);
}

/* Begin; a snapshot adopted that a killed run of ours created (its
 * partial directory said so) is ended and a new one begun: backing up
 * that old instant again and again is never what the schedule meant.
 */
static void
begin_snapshot (void)
{
  struct options q = *b.o;
  char id[128];

  q.json = false;
  conn_open (&b.c, b.o->socket, b.o->timeout);
  begin_once (&q);
  snapshot_id (id, sizeof id);
  if (b.snapshot_owed || b.d.stale_snapshot == NULL ||
      strcmp (id, b.d.stale_snapshot) != 0)
    return;
  fprintf (stderr, "fleecectl: snapshot generation %" PRId64 " was created "
           "by the interrupted run %s and left pinned: ending it, taking a "
           "new one\n", b.p.generation, b.d.stale_partial);
  plan_free (&b.p);
  q.fresh = true;
  begin_once (&q);
}

static char *
dup_or_null (const char *s)
{
  return s ? strdup (s) : NULL;
}

/* The manifest's top, from the plan. */
static void
fill_manifest (char *started_at)
{
  b.m.name = strdup (b.name);
  b.m.kind = strdup (b.p.incremental ? "incremental" : "full");
  b.m.parent = b.p.incremental ? strdup (b.parent.name) : NULL;
  b.m.full_reason = b.p.incremental ? NULL : strdup (b.p.full_reason);
  b.m.checkpoint = dup_or_null (b.p.checkpoint);
  b.m.generation = b.p.generation;
  b.m.taken_at = dup_or_null (b.p.taken_at);
  b.m.started_at = started_at;
  b.m.consistency = dup_or_null (b.p.consistency);
  b.m.consistency_reason = dup_or_null (b.p.consistency_reason);
  b.m.description = dup_or_null (b.p.description);
  b.m.ndisks = b.p.ndisks;
  b.m.disks = calloc (b.p.ndisks, sizeof *b.m.disks);
}

/* Back up disk i into the partial directory. */
static void
copy_disk (size_t i)
{
  struct disk_job j = {
    .o = b.o, .p = &b.p, .i = i, .parent = &b.parent, .partial = b.partial,
    .t = &b.t, .pr = &b.pr, .stop = &stop,
  };
  char err[2048];

  if (backup_disk (&j, &b.m.disks[i], err, sizeof err) == -1)
    failed ("%s", err);
}

static void
catch_signals (void)
{
  struct sigaction sa = { .sa_handler = on_signal };

  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
}

/* Write the manifest, rename into place, end the snapshot. */
static void
complete (void)
{
  char err[1024];

  if (stop)
    failed ("interrupted");
  b.m.finished_at = now_text ();
  if (manifest_write (b.partial, &b.m) == -1)
    failed ("%s/manifest.json: %s", b.partial, strerror (errno));
  bdir_forget_snapshot (b.partial);
  if (bdir_complete (&b.d, b.partial, b.name, err, sizeof err) == -1)
    failed ("%s", err);
  b.partial_made = false;
  if (b.snapshot_owed)
    end_snapshot ();
  b.snapshot_owed = false;
  die_cleanup = NULL;
}

int
backup (const struct options *o)
{
  char *started_at = now_text (), err[1024];
  struct backup_result r = { .ok = true, .m = &b.m };
  uint64_t total = 0;
  double t0;
  size_t i;
  int st;

  b.o = o;
  check_uri (o->uri);
  run_t0 = progress_now ();
  run_pid = getpid ();
  if (o->metrics_file)
    atexit (metrics_at_exit);
  open_dir ();
  catch_signals ();
  begin_snapshot ();
  if (plan_choose (&b.p, o, &b.c, b.have_parent ? &b.parent : NULL,
                   b.broken[0] ? b.broken : NULL) == -1)
    failed ("interrupted");
  if (!b.p.incremental)
    fprintf (stderr, "fleecectl: full backup: %s\n", b.p.full_reason);
  if (bdir_begin (&b.d, b.p.incremental ? "incr" : "full", b.name,
                  sizeof b.name, b.partial, sizeof b.partial, err,
                  sizeof err) == -1)
    failed ("%s", err);
  b.partial_made = true;
  if (b.snapshot_owed) {
    snapshot_id (err, sizeof err);
    bdir_note_snapshot (b.partial, err);
  }
  fill_manifest (started_at);
  for (i = 0; i < b.p.ndisks; i++)
    total += b.p.disks[i].total;
  progress_start (&b.pr, b.name, total, !o->json && isatty (STDERR_FILENO));
  t0 = progress_now ();
  for (i = 0; i < b.p.ndisks; i++)
    copy_disk (i);
  progress_clear (&b.pr);
  complete ();
  st = report (o, &b.m, &b.p, progress_now () - t0);
  r.seconds = progress_now () - run_t0;
  metrics_written = true;
  backup_metrics_write (o, &r);
  return st;
}
