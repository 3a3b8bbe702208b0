/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: a backup's manifest.json (see manifest.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "manifest.h"

static json_object *
str_or_null (const char *s)
{
  return s ? json_object_new_string (s) : NULL;
}

static json_object *
disk_json (const struct mdisk *d)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "name", json_object_new_string (d->name));
  json_object_object_add (o, "export", json_object_new_string (d->export));
  json_object_object_add (o, "size", json_object_new_int64 (d->size));
  json_object_object_add (o, "file", json_object_new_string (d->file));
  json_object_object_add (o, "backing", str_or_null (d->backing));
  json_object_object_add (o, "bytes-examined",
                          json_object_new_int64 (d->examined));
  json_object_object_add (o, "bytes-copied", json_object_new_int64 (d->copied));
  json_object_object_add (o, "bytes-zeroed", json_object_new_int64 (d->zeroed));
  json_object_object_add (o, "file-size", json_object_new_int64 (d->file_size));
  json_object_object_add (o, "sha256", json_object_new_string (d->sha256));
  return o;
}

json_object *
manifest_json (const struct manifest *m)
{
  json_object *o = json_object_new_object (), *disks = json_object_new_array ();
  size_t i;

  json_object_object_add (o, "format", json_object_new_string (MANIFEST_FORMAT));
  json_object_object_add (o, "name", json_object_new_string (m->name));
  json_object_object_add (o, "kind", json_object_new_string (m->kind));
  json_object_object_add (o, "parent", str_or_null (m->parent));
  json_object_object_add (o, "full-reason", str_or_null (m->full_reason));
  json_object_object_add (o, "checkpoint", str_or_null (m->checkpoint));
  json_object_object_add (o, "generation",
                          json_object_new_int64 (m->generation));
  json_object_object_add (o, "taken-at", str_or_null (m->taken_at));
  json_object_object_add (o, "started-at", str_or_null (m->started_at));
  json_object_object_add (o, "finished-at", str_or_null (m->finished_at));
  json_object_object_add (o, "consistency", str_or_null (m->consistency));
  json_object_object_add (o, "consistency-reason",
                          str_or_null (m->consistency_reason));
  json_object_object_add (o, "description", str_or_null (m->description));
  for (i = 0; i < m->ndisks; i++)
    json_object_array_add (disks, disk_json (&m->disks[i]));
  json_object_object_add (o, "disks", disks);
  return o;
}

int
manifest_write (const char *dir, const struct manifest *m)
{
  char tmp[4096], final[4096];
  json_object *o = manifest_json (m);
  const char *text = json_object_to_json_string_ext
    (o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
  size_t len = strlen (text), off = 0;
  ssize_t r = 0;
  int fd, saved = 0;

  snprintf (tmp, sizeof tmp, "%s/.manifest.json.tmp", dir);
  snprintf (final, sizeof final, "%s/manifest.json", dir);
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  while (fd != -1 && off < len && (r = write (fd, text + off, len - off)) > 0)
    off += r;
  if (fd == -1 || r == -1 || write (fd, "\n", 1) != 1 || fsync (fd) == -1)
    saved = errno ? errno : EIO;
  if (fd != -1 && close (fd) == -1 && saved == 0)
    saved = errno;
  if (saved == 0 && rename (tmp, final) == -1)
    saved = errno;
  json_object_put (o);
  if (saved == 0)
    return 0;
  errno = saved;
  return -1;
}

/* Reading: each getter records the first problem in *bad. */
struct reader {
  const char *bad;              /* the first member found wrong */
};

static char *
get_str (struct reader *r, json_object *o, const char *key, bool nullable)
{
  json_object *v = NULL;

  if (!json_object_object_get_ex (o, key, &v) ||
      (v == NULL && !nullable) ||
      (v && !json_object_is_type (v, json_type_string))) {
    if (r->bad == NULL)
      r->bad = key;
    return NULL;
  }
  return v ? strdup (json_object_get_string (v)) : NULL;
}

static uint64_t
get_u64 (struct reader *r, json_object *o, const char *key)
{
  json_object *v = NULL;

  if (!json_object_object_get_ex (o, key, &v) ||
      !json_object_is_type (v, json_type_int) ||
      json_object_get_int64 (v) < 0) {
    if (r->bad == NULL)
      r->bad = key;
    return 0;
  }
  return json_object_get_int64 (v);
}

static void
read_disk (struct reader *r, json_object *o, struct mdisk *d)
{
  char *sha;

  d->name = get_str (r, o, "name", false);
  d->export = get_str (r, o, "export", false);
  d->file = get_str (r, o, "file", false);
  d->backing = get_str (r, o, "backing", true);
  d->size = get_u64 (r, o, "size");
  d->examined = get_u64 (r, o, "bytes-examined");
  d->copied = get_u64 (r, o, "bytes-copied");
  d->zeroed = get_u64 (r, o, "bytes-zeroed");
  d->file_size = get_u64 (r, o, "file-size");
  sha = get_str (r, o, "sha256", false);
  if (sha && strlen (sha) == 64 && strspn (sha, "0123456789abcdef") == 64)
    memcpy (d->sha256, sha, 65);
  else if (r->bad == NULL)
    r->bad = "sha256";
  free (sha);
  if (r->bad == NULL && (strchr (d->file, '/') || d->file[0] == '.'))
    r->bad = "file";
}

static void
read_top (struct reader *r, json_object *o, struct manifest *m)
{
  json_object *disks = NULL;
  size_t i;

  m->name = get_str (r, o, "name", false);
  m->kind = get_str (r, o, "kind", false);
  m->parent = get_str (r, o, "parent", true);
  m->full_reason = get_str (r, o, "full-reason", true);
  m->checkpoint = get_str (r, o, "checkpoint", true);
  m->generation = get_u64 (r, o, "generation");
  m->taken_at = get_str (r, o, "taken-at", true);
  m->started_at = get_str (r, o, "started-at", true);
  m->finished_at = get_str (r, o, "finished-at", true);
  m->consistency = get_str (r, o, "consistency", true);
  m->consistency_reason = get_str (r, o, "consistency-reason", true);
  m->description = get_str (r, o, "description", true);
  if (m->kind && strcmp (m->kind, "full") != 0 &&
      strcmp (m->kind, "incremental") != 0 && r->bad == NULL)
    r->bad = "kind";
  if (!json_object_object_get_ex (o, "disks", &disks) ||
      !json_object_is_type (disks, json_type_array) ||
      json_object_array_length (disks) == 0) {
    if (r->bad == NULL)
      r->bad = "disks";
    return;
  }
  m->ndisks = json_object_array_length (disks);
  m->disks = calloc (m->ndisks, sizeof *m->disks);
  for (i = 0; m->disks && i < m->ndisks; i++)
    read_disk (r, json_object_array_get_idx (disks, i), &m->disks[i]);
}

int
manifest_read (const char *dir, struct manifest *m, char *err, size_t len)
{
  char path[4096];
  json_object *o, *format = NULL;
  struct reader r = { NULL };

  memset (m, 0, sizeof *m);
  snprintf (path, sizeof path, "%s/manifest.json", dir);
  if (access (path, R_OK) == -1) {
    snprintf (err, len, "manifest.json: %s", strerror (errno));
    return -1;
  }
  o = json_object_from_file (path);
  if (o == NULL || !json_object_is_type (o, json_type_object)) {
    snprintf (err, len, "manifest.json: not a JSON object");
    json_object_put (o);
    return -1;
  }
  if (!json_object_object_get_ex (o, "format", &format) ||
      !json_object_is_type (format, json_type_string) ||
      strcmp (json_object_get_string (format), MANIFEST_FORMAT) != 0) {
    snprintf (err, len, "manifest.json: \"format\" is not \"%s\"",
              MANIFEST_FORMAT);
    json_object_put (o);
    return -1;
  }
  read_top (&r, o, m);
  json_object_put (o);
  if (r.bad == NULL && m->disks)
    return 0;
  snprintf (err, len, "manifest.json: \"%s\" is missing or wrong",
            r.bad ? r.bad : "disks");
  manifest_free (m);
  return -1;
}

void
manifest_free (struct manifest *m)
{
  size_t i;

  for (i = 0; m->disks && i < m->ndisks; i++) {
    free (m->disks[i].name);
    free (m->disks[i].export);
    free (m->disks[i].file);
    free (m->disks[i].backing);
  }
  free (m->disks);
  free (m->name);
  free (m->kind);
  free (m->parent);
  free (m->full_reason);
  free (m->checkpoint);
  free (m->taken_at);
  free (m->started_at);
  free (m->finished_at);
  free (m->consistency);
  free (m->consistency_reason);
  free (m->description);
  memset (m, 0, sizeof *m);
}
