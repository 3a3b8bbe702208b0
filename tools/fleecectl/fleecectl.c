/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: begin, end and watch nbdkit-fleece snapshots, and list
 * what changed since a checkpoint (changes.c), through the
 * filter's control socket (nbdkit-fleece-filter(1), PROTOCOL); back
 * up a VM, verify and restore its backups (backup.h).
 *
 * One connection (conn.c), one request line per command, one reply
 * line each (request.c); status --watch sends a status request every
 * interval on the same connection (watch.c).  Every wait is bounded by
 * --timeout.  Human-readable output by default (show.c); --json prints
 * each reply line as is; status --format openmetrics|prometheus prints
 * metrics (openmetrics.c).
 *
 * Exit statuses (options.h, fleecectl(1) EXIT STATUS): 0 success;
 * 1 the server answered with an error; 2 usage error or no usable
 * connection (no socket, not a socket, refused, not a control socket,
 * timeout); 3 begin succeeded but the snapshot is crash-consistent;
 * 4 status: the snapshot is broken (not with metrics, where it is a
 * metric); 5 permission denied, by the socket's file mode or by the
 * server's credential check; 6 changes: full-backup-required; 7
 * backup, restore, verify or prune failed.  3 and 4 come with one line on
 * standard error saying why.
 *
 * backup, restore, verify and prune (backup.h) manage a directory of
 * backups of one VM.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "backup.h"
#include "changes.h"
#include "conn.h"
#include "openmetrics.h"
#include "options.h"
#include "request.h"
#include "show.h"
#include "watch.h"

/* begin: EXIT_CRASH, with a warning, when the snapshot is
 * crash-consistent.
 */
static int
begin (const struct options *o, const struct reply *r)
{
  char reason[512];
  json_object *gen = NULL;

  if (o->json)
    printf ("%s\n", r->line);
  else
    show_begin (stdout, r->obj);
  if (show_crash_consistent (r->obj, reason, sizeof reason) != 1)
    return EXIT_SUCCESS;
  json_object_object_get_ex (r->obj, "generation", &gen);
  fflush (stdout);
  fprintf (stderr, "fleecectl: warning: snapshot generation %s is "
           "crash-consistent: %s\n",
           gen ? json_object_get_string (gen) : "?", reason);
  return EXIT_CRASH;
}

/* A single status: EXIT_BROKEN, with a warning, when broken. */
static int
status (const struct options *o, const struct reply *r)
{
  struct metrics m = {
    stdout, o->metrics && strcmp (o->metrics, "openmetrics") == 0, o->label
  };
  char why[512];

  if (o->metrics) {             /* broken is a metric: exit 0 */
    metrics_status (&m, r->obj);
    return EXIT_SUCCESS;
  }
  if (o->json)
    printf ("%s\n", r->line);
  else
    show_status (stdout, r->obj);
  if (!show_broken (r->obj, why, sizeof why))
    return EXIT_SUCCESS;
  fflush (stdout);
  fprintf (stderr, "fleecectl: %s\n", why);
  return EXIT_BROKEN;
}

/* begin, end, or a single status. */
static int
once (const struct options *o, struct conn *c)
{
  const char *cmd = strcmp (o->command, "begin") == 0 ? "snapshot-begin"
    : strcmp (o->command, "end") == 0 ? "snapshot-end" : "status";
  struct reply r;
  int st = EXIT_SUCCESS;

  if (!request (o, c, cmd, 1, &r))
    die (EXIT_USAGE, "interrupted");
  if (strcmp (o->command, "begin") == 0)
    st = begin (o, &r);
  else if (strcmp (o->command, "status") == 0)
    st = status (o, &r);
  else if (o->json)
    printf ("%s\n", r.line);
  else
    show_end (stdout, r.obj);
  reply_free (&r);
  return st;
}

int
main (int argc, char **argv)
{
  struct options o = { .interval = 1, .timeout = DEFAULT_TIMEOUT };
  struct conn c = { .fd = -1 };
  int st;

  parse_args (argc, argv, &o);
  if (strcmp (o.command, "backup") == 0)
    return backup (&o);
  if (strcmp (o.command, "verify") == 0)
    return verify (&o);
  if (strcmp (o.command, "restore") == 0)
    return restore (&o);
  if (strcmp (o.command, "prune") == 0)
    return prune (&o);
  conn_open (&c, o.socket, o.timeout);
  if (strcmp (o.command, "changes") == 0)
    st = changes (&o, &c);
  else
    st = o.watch ? watch (&o, &c) : once (&o, &c);
  conn_close (&c);
  return st;
}
