/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl verify (see backup.h): every complete backup of DIR, in
 * order, one line each:
 *
 *   0002-incr: ok, incremental since 0001-full, 2 disks, taken
 *     2026-...Z, application-consistent
 *   0003-incr: FAILED: vda.qcow2: sha256 differs from the manifest
 *
 * and a line per partial directory (incomplete: not a failure).  With
 * --json, one JSON object per line instead.  Locks nothing: it only
 * reads.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "backup.h"
#include "chain.h"

static void
line (const struct chain_entry *e)
{
  const struct manifest *m = &e->m;
  char kind[128];

  if (!e->ok) {
    printf ("%s: FAILED: %s\n", e->name, e->error);
    return;
  }
  if (m->parent)
    snprintf (kind, sizeof kind, "incremental since %s", m->parent);
  else
    snprintf (kind, sizeof kind, "full");
  printf ("%s: ok, %s, %zu disk%s, taken %s, %s\n", e->name, kind,
          m->ndisks, m->ndisks == 1 ? "" : "s",
          m->taken_at ? m->taken_at : "at an unknown time",
          m->consistency ? m->consistency : "consistency unknown");
}

static void
json_line (const struct chain_entry *e)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "name", json_object_new_string (e->name));
  json_object_object_add (o, "ok", json_object_new_boolean (e->ok));
  json_object_object_add (o, "error", e->ok ? NULL
                          : json_object_new_string (e->error));
  if (e->ok)
    json_object_object_add (o, "manifest", manifest_json (&e->m));
  printf ("%s\n", json_object_to_json_string_ext
          (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put (o);
}

static void
partial (const struct options *o, const char *name)
{
  json_object *j;

  if (!o->json) {
    printf ("%s: incomplete backup left by an interrupted run (not "
            "verified; the next backup removes it)\n", name);
    return;
  }
  j = json_object_new_object ();
  json_object_object_add (j, "name", json_object_new_string (name));
  json_object_object_add (j, "incomplete", json_object_new_boolean (1));
  printf ("%s\n", json_object_to_json_string_ext (j, JSON_C_TO_STRING_PLAIN));
  json_object_put (j);
}

int
verify (const struct options *o)
{
  struct chain c;
  char err[1024];
  size_t i, failed = 0;
  int r = chain_open (&c, o->input, false, err, sizeof err);

  if (r < 0)
    die (r == -2 ? EXIT_USAGE : EXIT_FAILED, "%s", err);
  for (i = 0; i < c.n; i++) {
    failed += !chain_verify (&c, i);
    (o->json ? json_line : line) (&c.e[i]);
  }
  for (i = 0; i < c.d.npartial; i++)
    partial (o, c.d.partials[i]);
  if (c.n == 0 && !o->json)
    printf ("%s holds no complete backup\n", o->input);
  fflush (stdout);
  if (failed)
    fprintf (stderr, "fleecectl: verify: %zu of %zu backups FAILED: restore "
             "only from a chain whose backups are all ok\n", failed, c.n);
  chain_close (&c);
  return failed ? EXIT_FAILED : EXIT_SUCCESS;
}
