/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl restore (see backup.h): flatten one backup of DIR (the
 * newest, or --at NAME) into raw or qcow2 files.
 *
 * First the chain from its full backup to NAME is verified (chain.h),
 * those backups only.  Then per disk: qemu-img convert of the chain's
 * top into PATH.tmp, qemu-img compare of the top and PATH.tmp (must be
 * identical), fsync, rename to PATH, fsync of its directory.  An
 * existing file is never overwritten; a failure or a signal kills a
 * running qemu-img and removes the .tmp file.  DIR is locked for the duration, so that no backup
 * removes a partial directory or adds a backup meanwhile.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "backup.h"
#include "chain.h"
#include "fsync-path.h"
#include "run.h"
#include "show.h"

static char tmp_path[8192 + 8]; /* the file being written, or "" */

static void
remove_tmp (void)
{
  run_kill ();                  /* else qemu-img may (re)create it */
  if (tmp_path[0])
    unlink (tmp_path);
  tmp_path[0] = '\0';
}

static void
on_signal (int sig)
{
  remove_tmp ();
  signal (sig, SIG_DFL);
  raise (sig);
}

/* "0001-full..0003-incr" */
static void
chain_text (const struct chain *c, size_t i, char *buf, size_t len)
{
  size_t first = i;

  while (c->e[first].m.parent)
    first = chain_find (c, c->e[first].m.parent);
  if (first == i)
    snprintf (buf, len, "%s", c->e[i].name);
  else
    snprintf (buf, len, "%s..%s", c->e[first].name, c->e[i].name);
}

/* Where disk d goes. */
static void
output_path (const struct options *o, const struct manifest *m,
             const struct mdisk *d, bool to_dir, char *buf, size_t len)
{
  const char *fmt = o->format ? o->format : "raw";

  if (!to_dir)
    snprintf (buf, len, "%s", o->output);
  else
    snprintf (buf, len, "%s/%s.%s", o->output, d->name[0] ? d->name : "disk",
              fmt);
}


/* Convert, compare, fsync, rename one disk of size bytes.  A qcow2's
 * size is whole 512-byte sectors: a raw output is cut back to the
 * disk's own size (the rounding's tail was never written: zero, as
 * the compare just checked); a qcow2 output keeps it.
 */
static void
restore_disk (const struct options *o, const char *top, const char *out,
              uint64_t size)
{
  const char *fmt = o->format ? o->format : "raw";
  char *convert[] = { "qemu-img", "convert", "-f", "qcow2", "-O",
                      (char *) fmt, (char *) top, tmp_path, NULL };
  char *compare[] = { "qemu-img", "compare", "-q", "-f", "qcow2", "-F",
                      (char *) fmt, (char *) top, tmp_path, NULL };
  char dir[8192], *slash;
  int st;

  snprintf (tmp_path, sizeof tmp_path, "%s.tmp", out);
  unlink (tmp_path);
  if ((st = run_command (convert, NULL, NULL)) != 0)
    die (EXIT_FAILED, "restore failed: qemu-img convert %s to %s: %s", top,
         tmp_path, st == -1 ? strerror (errno) : "failed (its message above)");
  st = run_command (compare, NULL, NULL);
  if (st != 0)
    die (EXIT_FAILED, "restore failed: %s and %s %s", top, tmp_path,
         st == 1 ? "differ (qemu-img compare)" : "could not be compared");
  if (strcmp (fmt, "raw") == 0 && truncate (tmp_path, size) == -1)
    die (EXIT_FAILED, "restore failed: %s: truncate: %s", tmp_path,
         strerror (errno));
  snprintf (dir, sizeof dir, "%s", out);
  if ((slash = strrchr (dir, '/')) == NULL)
    strcpy (dir, ".");
  else
    slash[slash == dir] = '\0';  /* keep "/" for a file at the root */
  if (fsync_path (tmp_path, 0) == -1 || rename (tmp_path, out) == -1 ||
      fsync_path (dir, O_DIRECTORY) == -1)
    die (EXIT_FAILED, "restore failed: %s: %s", out, strerror (errno));
  tmp_path[0] = '\0';
}

/* The backup to restore: --at, or the newest; verified with its chain. */
static size_t
choose (const struct options *o, struct chain *c)
{
  long i = o->at ? chain_find (c, o->at) : (long) c->n - 1;

  if (c->n == 0)
    die (EXIT_FAILED, "restore failed: %s holds no complete backup",
         o->input);
  if (i == -1)
    die (EXIT_USAGE, "--at %s: no such backup in %s (the newest is %s; "
         "fleecectl verify --input %s lists them)", o->at, o->input,
         c->e[c->n - 1].name, o->input);
  if (!chain_verify (c, i))
    die (EXIT_FAILED, "restore failed: %s: %s (fleecectl verify --input %s "
         "checks every backup)", c->e[i].name, c->e[i].error, o->input);
  return i;
}

/* Whether the outputs go into a directory; make it; refuse to
 * overwrite.
 */
static bool
prepare (const struct options *o, const struct manifest *m)
{
  struct stat st;
  bool to_dir = m->ndisks > 1 ||
    (stat (o->output, &st) == 0 && S_ISDIR (st.st_mode));
  char out[8192];
  size_t j;

  if (to_dir && mkdir (o->output, 0755) == -1 && errno != EEXIST)
    die (EXIT_FAILED, "restore failed: cannot create %s: %s", o->output,
         strerror (errno));
  for (j = 0; j < m->ndisks; j++) {
    output_path (o, m, &m->disks[j], to_dir, out, sizeof out);
    if (lstat (out, &st) == 0)
      die (EXIT_USAGE, "%s exists: restore never overwrites a file; remove "
           "it or choose another --output", out);
  }
  return to_dir;
}

static void
report_disk (const struct options *o, const struct chain *c, size_t i,
             const struct mdisk *d, const char *out, json_object *disks)
{
  char chain[256], size[32];
  json_object *j;

  chain_text (c, i, chain, sizeof chain);
  if (!o->json) {
    printf ("restored %s from %s (chain %s): %s, verified identical -> %s\n",
            d->name[0] ? d->name : "disk", c->e[i].name, chain,
            show_iec (d->size, size, sizeof size), out);
    fflush (stdout);
    return;
  }
  j = json_object_new_object ();
  json_object_object_add (j, "name", json_object_new_string (d->name));
  json_object_object_add (j, "size", json_object_new_int64 (d->size));
  json_object_object_add (j, "output", json_object_new_string (out));
  json_object_object_add (j, "verified", json_object_new_boolean (1));
  json_object_array_add (disks, j);
}

int
restore (const struct options *o)
{
  struct chain c;
  json_object *disks = json_object_new_array (), *j;
  char err[1024], out[8192], top[8192];
  int r = chain_open (&c, o->input, true, err, sizeof err);
  size_t i, k;
  bool to_dir;

  if (r < 0)
    die (r == -2 ? EXIT_USAGE : EXIT_FAILED, "%s", err);
  i = choose (o, &c);
  to_dir = prepare (o, &c.e[i].m);
  die_cleanup = remove_tmp;
  signal (SIGINT, on_signal);
  signal (SIGTERM, on_signal);
  signal (SIGHUP, on_signal);
  for (k = 0; k < c.e[i].m.ndisks; k++) {
    output_path (o, &c.e[i].m, &c.e[i].m.disks[k], to_dir, out, sizeof out);
    snprintf (top, sizeof top, "%s/%s/%s", c.d.path, c.e[i].name,
              c.e[i].m.disks[k].file);
    restore_disk (o, top, out, c.e[i].m.disks[k].size);
    report_disk (o, &c, i, &c.e[i].m.disks[k], out, disks);
  }
  die_cleanup = NULL;
  if (o->json) {
    j = json_object_new_object ();
    json_object_object_add (j, "restored", json_object_new_string (c.e[i].name));
    json_object_object_add (j, "format", json_object_new_string
                            (o->format ? o->format : "raw"));
    json_object_object_add (j, "disks", disks);
    printf ("%s\n", json_object_to_json_string_ext
            (j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put (j);
  }
  else
    json_object_put (disks);
  chain_close (&c);
  return EXIT_SUCCESS;
}
