/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: verifying the backups of a DIR (see chain.h). */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "chain.h"
#include "run.h"
#include "sha256.h"

#define BROKEN "chain broken at "  /* a parent's failure, inherited */

int
chain_open (struct chain *c, const char *dir, bool lock, char *err,
            size_t len)
{
  size_t i;
  int r;

  memset (c, 0, sizeof *c);
  if ((r = bdir_open (&c->d, dir, false, lock, err, len)) < 0)
    return r;
  c->n = c->d.n;
  c->e = calloc (c->n ? c->n : 1, sizeof *c->e);
  for (i = 0; i < c->n; i++)
    c->e[i].name = c->d.names[i];
  return 0;
}

long
chain_find (const struct chain *c, const char *name)
{
  size_t i;

  for (i = 0; i < c->n; i++)
    if (strcmp (c->e[i].name, name) == 0)
      return i;
  return -1;
}

static bool __attribute__ ((format (printf, 2, 3)))
bad (struct chain_entry *e, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (e->error, sizeof e->error, fmt, ap);
  va_end (ap);
  return false;
}

/* qemu-img info's view of a file: its virtual size and backing file. */
static bool
check_info (struct chain_entry *e, const char *path, const struct mdisk *d)
{
  char *argv[] = { "qemu-img", "info", "-U", "--output=json", (char *) path,
                   NULL };
  char *out = NULL;
  json_object *o = NULL, *vs = NULL, *bf = NULL;
  bool ok = false;

  if (run_command (argv, &out, "/dev/null") == 0 &&
      (o = json_tokener_parse (out)) != NULL &&
      json_object_object_get_ex (o, "virtual-size", &vs)) {
    json_object_object_get_ex (o, "backing-filename", &bf);
    if ((uint64_t) json_object_get_int64 (vs) != d->size)
      bad (e, "%s: qemu-img info says %" PRId64 " bytes, the manifest "
           "%" PRIu64, d->file, json_object_get_int64 (vs), d->size);
    else if ((bf == NULL) != (d->backing == NULL) ||
             (bf && strcmp (json_object_get_string (bf), d->backing) != 0))
      bad (e, "%s: its backing file is %s, the manifest says %s", d->file,
           bf ? json_object_get_string (bf) : "none",
           d->backing ? d->backing : "none");
    else
      ok = true;
  }
  else
    bad (e, "%s: qemu-img info cannot read it as an image", d->file);
  json_object_put (o);
  free (out);
  return ok;
}

/* One disk's file. */
static bool
check_disk (struct chain *c, struct chain_entry *e, const struct mdisk *d)
{
  char path[8192], hex[65];
  struct stat st;

  snprintf (path, sizeof path, "%s/%s/%s", c->d.path, e->name, d->file);
  if (stat (path, &st) == -1)
    return bad (e, "%s: %s", d->file, strerror (errno));
  if ((uint64_t) st.st_size != d->file_size)
    return bad (e, "%s: %" PRIu64 " bytes, the manifest says %" PRIu64,
                d->file, (uint64_t) st.st_size, d->file_size);
  if (sha256_file (path, hex) == -1)
    return bad (e, "%s: %s", d->file, strerror (errno));
  if (strcmp (hex, d->sha256) != 0)
    return bad (e, "%s: sha256 differs from the manifest", d->file);
  return check_info (e, path, d);
}

/* An incremental's parent: present, verified, with the same disks. */
static bool
check_parent (struct chain *c, struct chain_entry *e, size_t i)
{
  long p = e->m.parent ? chain_find (c, e->m.parent) : -1;
  const struct manifest *pm;
  char want[512];
  size_t j, k;

  if (e->m.parent == NULL)
    return bad (e, "an incremental without a parent in its manifest");
  if (p == -1 || (size_t) p >= i)
    return bad (e, "its parent %s is not in the directory", e->m.parent);
  if (!chain_verify (c, p) &&
      strncmp (c->e[p].error, BROKEN, strlen (BROKEN)) == 0)
    return bad (e, "%s", c->e[p].error);
  if (!c->e[p].ok)
    return bad (e, BROKEN "%s: %s", e->m.parent, c->e[p].error);
  pm = &c->e[p].m;
  for (j = 0; j < e->m.ndisks; j++) {
    for (k = 0; k < pm->ndisks; k++)
      if (strcmp (pm->disks[k].name, e->m.disks[j].name) == 0)
        break;
    if (k == pm->ndisks || pm->disks[k].size != e->m.disks[j].size)
      return bad (e, "disk \"%s\" is not in its parent %s with the same "
                  "size", e->m.disks[j].name, e->m.parent);
    snprintf (want, sizeof want, "../%s/%s", e->m.parent, pm->disks[k].file);
    if (e->m.disks[j].backing == NULL ||
        strcmp (e->m.disks[j].backing, want) != 0)
      return bad (e, "%s: backing file %s, expected %s", e->m.disks[j].file,
                  e->m.disks[j].backing ? e->m.disks[j].backing : "none",
                  want);
  }
  return true;
}

static bool
verify_one (struct chain *c, size_t i)
{
  struct chain_entry *e = &c->e[i];
  char path[8192], err[1024];
  bool incr = strstr (e->name, "-incr") != NULL;
  size_t j;

  snprintf (path, sizeof path, "%s/%s", c->d.path, e->name);
  if (manifest_read (path, &e->m, err, sizeof err) == -1)
    return bad (e, "%s", err);
  e->loaded = true;
  if (strcmp (e->m.name, e->name) != 0)
    return bad (e, "manifest.json names it %s", e->m.name);
  if (incr != (strcmp (e->m.kind, "incremental") == 0))
    return bad (e, "manifest.json says %s", e->m.kind);
  if (incr && !check_parent (c, e, i))
    return false;
  for (j = 0; j < e->m.ndisks; j++) {
    if (!incr && e->m.disks[j].backing)
      return bad (e, "%s: a full backup with a backing file",
                  e->m.disks[j].file);
    if (!check_disk (c, e, &e->m.disks[j]))
      return false;
  }
  return true;
}

bool
chain_verify (struct chain *c, size_t i)
{
  struct chain_entry *e = &c->e[i];

  if (!e->done) {
    e->done = true;             /* a cycle of parents fails, not loops */
    e->ok = false;
    snprintf (e->error, sizeof e->error, "its chain of parents loops");
    e->ok = verify_one (c, i);
  }
  return e->ok;
}

void
chain_close (struct chain *c)
{
  size_t i;

  for (i = 0; i < c->n; i++)
    if (c->e[i].loaded)
      manifest_free (&c->e[i].m);
  free (c->e);
  bdir_close (&c->d);
  memset (c, 0, sizeof *c);
}
