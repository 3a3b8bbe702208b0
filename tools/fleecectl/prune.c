/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl prune (see backup.h; the rule is prune-rule.h's).
 *
 * Lock DIR (a backup, restore or prune holding it: exit 7), remove
 * what an interrupted prune left, read every manifest, decide, and
 * remove the chains decided, oldest first.  A chain is removed by
 * renaming its backups to .NNNN-KIND.pruning newest first, fsyncing
 * DIR, then removing the trees: a crash at any point leaves either
 * .pruning directories (removed by the next prune or backup, ignored
 * by verify) and the chain's older part, which is still a valid chain
 * (its full and the incrementals it needs), never an incremental
 * without its parent.
 *
 * Output: "removed NAME (FINISHED-AT)" per backup removed (--dry-run:
 * the same lines, nothing removed) and a summary line; with --json, one
 * object per backup (kept or not, and why) and a summary object.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "backup.h"
#include "backup-dir.h"
#include "fsync-path.h"
#include "manifest.h"
#include "prune-rule.h"
#include "utc-parse.h"

struct prune {
  const struct options *o;
  struct bdir d;
  size_t n;
  struct manifest *m;           /* loaded[i]: m[i] to free */
  bool *loaded;
  struct prune_item *it;
};

static const char *const whys[] = {
  [PRUNE_REMOVE] = NULL, [PRUNE_NEWEST] = "newest",
  [PRUNE_YOUNG] = "young", [PRUNE_UNDATED] = "undated",
  [PRUNE_NEEDED] = "needed",
};

/* Read backup i's manifest into its item; a damaged one is undated
 * and has no known parent (its chain is the one its name places it
 * in).
 */
static void
load (struct prune *p, size_t i)
{
  struct prune_item *it = &p->it[i];
  char path[4096], err[1024];
  double t;

  it->name = p->d.names[i];
  it->full = strstr (it->name, "-full") != NULL;
  snprintf (path, sizeof path, "%s/%s", p->d.path, it->name);
  if (manifest_read (path, &p->m[i], err, sizeof err) == -1) {
    fprintf (stderr, "fleecectl: warning: %s: %s: its age is unknown, "
             "it counts as young for --keep-days (fleecectl verify --input "
             "%s tells more)\n", it->name, err, p->o->input);
    return;
  }
  p->loaded[i] = true;
  it->parent = it->full ? NULL : p->m[i].parent;
  if (utc_parse (p->m[i].finished_at, &t)) {
    it->dated = true;
    it->finished = (time_t) t;
  }
}

/* Open, lock, clean and read DIR. */
static void
open_dir (struct prune *p)
{
  char err[1024];
  int r = bdir_open (&p->d, p->o->input, false, true, err, sizeof err);
  size_t i;

  if (r < 0)
    die (r == -2 ? EXIT_USAGE : EXIT_FAILED, "%s", err);
  if (bdir_remove_pruning (&p->d, err, sizeof err) == -1)
    die (EXIT_FAILED, "%s", err);
  p->n = p->d.n;
  p->m = calloc (p->n + 1, sizeof *p->m);
  p->loaded = calloc (p->n + 1, sizeof *p->loaded);
  p->it = calloc (p->n + 1, sizeof *p->it);
  if (p->m == NULL || p->loaded == NULL || p->it == NULL)
    die (EXIT_FAILED, "out of memory");
  for (i = 0; i < p->n; i++)
    load (p, i);
}

static const char *
finished (const struct prune *p, size_t i)
{
  return p->loaded[i] && p->m[i].finished_at ? p->m[i].finished_at
    : "unknown time";
}

/* Backup i's line: text for a removed one, JSON for every one. */
static void
line (const struct prune *p, size_t i)
{
  const struct prune_item *it = &p->it[i];
  json_object *j;

  if (!p->o->json) {
    if (it->why == PRUNE_REMOVE)
      printf ("removed %s (%s)\n", it->name, finished (p, i));
    return;
  }
  j = json_object_new_object ();
  json_object_object_add (j, "name", json_object_new_string (it->name));
  json_object_object_add (j, "chain", json_object_new_int64 (it->chain));
  json_object_object_add (j, "finished-at", p->loaded[i] &&
                          p->m[i].finished_at ?
                          json_object_new_string (p->m[i].finished_at) : NULL);
  json_object_object_add (j, "kept",
                          json_object_new_boolean (it->why != PRUNE_REMOVE));
  json_object_object_add (j, "why", whys[it->why] ?
                          json_object_new_string (whys[it->why]) : NULL);
  json_object_object_add (j, "because", it->because ?
                          json_object_new_string (it->because) : NULL);
  printf ("%s\n", json_object_to_json_string_ext (j, JSON_C_TO_STRING_PLAIN));
  json_object_put (j);
}

/* Remove chain c: rename newest first, fsync DIR, remove the trees. */
static void
remove_chain (struct prune *p, size_t c)
{
  char from[4096], to[4096];
  size_t i;

  for (i = p->n; i-- > 0;) {
    if (p->it[i].chain != c)
      continue;
    snprintf (from, sizeof from, "%s/%s", p->d.path, p->it[i].name);
    snprintf (to, sizeof to, "%s/.%s.pruning", p->d.path, p->it[i].name);
    if (rename (from, to) == -1)
      die (EXIT_FAILED, "prune: renaming %s: %s", from, strerror (errno));
  }
  if (fsync_path (p->d.path, O_DIRECTORY) == -1)
    die (EXIT_FAILED, "prune: fsync %s: %s", p->d.path, strerror (errno));
  for (i = 0; i < p->n; i++) {
    if (p->it[i].chain != c)
      continue;
    snprintf (to, sizeof to, "%s/.%s.pruning", p->d.path, p->it[i].name);
    if (bdir_remove_tree (to) == -1)
      die (EXIT_FAILED, "prune: cannot remove %s: remove it by hand (the "
           "next prune or backup tries again)", to);
  }
}

static void
summary (const struct prune *p, size_t removed, size_t chains,
         size_t gone)
{
  json_object *j;

  if (!p->o->json) {
    printf ("prune %s: %s %zu backup%s (%zu chain%s), kept %zu (%zu "
            "chain%s)%s\n", p->o->input,
            p->o->dry_run ? "would remove" : "removed", removed,
            removed == 1 ? "" : "s", gone, gone == 1 ? "" : "s",
            p->n - removed, chains - gone, chains - gone == 1 ? "" : "s",
            p->o->dry_run ? "; --dry-run: nothing removed" : "");
    return;
  }
  j = json_object_new_object ();
  json_object_object_add (j, "removed", json_object_new_int64 (removed));
  json_object_object_add (j, "kept", json_object_new_int64 (p->n - removed));
  json_object_object_add (j, "chains-removed", json_object_new_int64 (gone));
  json_object_object_add (j, "chains-kept",
                          json_object_new_int64 (chains - gone));
  json_object_object_add (j, "dry-run",
                          json_object_new_boolean (p->o->dry_run));
  printf ("%s\n", json_object_to_json_string_ext (j, JSON_C_TO_STRING_PLAIN));
  json_object_put (j);
}

int
prune (const struct options *o)
{
  struct prune p = { .o = o };
  size_t chains, c, i, removed = 0, gone = 0;
  bool any;

  open_dir (&p);
  chains = prune_select (p.it, p.n, o->keep_chains, o->keep_days,
                         time (NULL));
  for (c = 0; c < chains; c++) {
    any = false;
    for (i = 0; i < p.n; i++)
      any |= p.it[i].chain == c && p.it[i].why == PRUNE_REMOVE;
    if (!any)
      continue;
    if (!o->dry_run)
      remove_chain (&p, c);
    gone++;
    for (i = 0; i < p.n && !o->json; i++)   /* as each chain goes */
      if (p.it[i].chain == c)
        line (&p, i);
    fflush (stdout);
  }
  for (i = 0; i < p.n; i++) {
    removed += p.it[i].why == PRUNE_REMOVE;
    if (o->json)
      line (&p, i);
  }
  summary (&p, removed, chains, gone);
  for (i = 0; i < p.n; i++)
    if (p.loaded[i])
      manifest_free (&p.m[i]);
  free (p.m);
  free (p.loaded);
  free (p.it);
  bdir_close (&p.d);
  return EXIT_SUCCESS;
}
