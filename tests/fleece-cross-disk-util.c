/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: test-fleece-cross-disk, failure reports (die, for
 * nbd-util.c too), snapshot descriptions and a minimal control socket client
 * (nbdkit-fleece-filter(1), PROTOCOL: one JSON object per line each
 * way, replies parsed with json-c).
 *
 * Not handled: cleanup after a failure; the process exits with its
 * connections open and the captive nbdkit sees them drop.
 *
 * Locking: die() lets the first failing thread report, the others wait
 * for its exit; the control connection belongs to the main thread.
 */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json.h>
#include <libnbd.h>

#include "fleece-cross-disk.h"

#define NO_SNAPSHOT_YET "fleece snapshot export: no snapshot is active yet"
#define TRIES 10000             /* of 1 ms: connecting, waiting idle */

void
die (const char *fs, ...)
{
  static int failed;
  va_list args;

  if (__atomic_exchange_n (&failed, 1, __ATOMIC_SEQ_CST))
    for (;;)
      pause ();
  fprintf (stderr, "test-fleece-cross-disk: FAIL: ");
  va_start (args, fs);
  vfprintf (stderr, fs, args);
  va_end (args);
  fprintf (stderr, "\n");
  fflush (stderr);
  _exit (1);
}

bool
describe (struct nbd_handle *h, struct desc *d)
{
  char *text = nbd_get_export_description (h);
  char *name = nbd_get_canonical_export_name (h);
  int n = -1;

  if (text == NULL || name == NULL)
    die ("snapshot export without a description or name: %s",
         nbd_get_error ());
  snprintf (d->text, sizeof d->text, "%s", text);
  snprintf (d->export, sizeof d->export, "%s", name);
  free (text);
  free (name);
  if (strncmp (d->text, NO_SNAPSHOT_YET, strlen (NO_SNAPSHOT_YET)) == 0)
    return false;
  if (sscanf (d->text, "fleece snapshot generation %" SCNu64
              ", disk %63[^ ] (%u of %u), %n", &d->generation, d->disk,
              &d->index, &d->total, &n) != 4 || n < 0)
    die ("export %s: not a multi-disk snapshot description: %s",
         d->export, d->text);
  d->rest = d->text + n;
  return true;
}

/* ---- the control socket ---- */

static FILE *ctl_in;
static int ctl_fd = -1;

void
ctl_open (const char *path)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  unsigned i;

  if (strlen (path) >= sizeof sun.sun_path)
    die ("control socket path too long: %s", path);
  strcpy (sun.sun_path, path);
  for (i = 0;; i++) {
    ctl_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ctl_fd == -1)
      die ("socket: %m");
    if (connect (ctl_fd, (struct sockaddr *) &sun, sizeof sun) == 0)
      break;
    if ((errno != ENOENT && errno != ECONNREFUSED) || i >= TRIES)
      die ("connect %s: %m", path);
    close (ctl_fd);
    usleep (1000);
  }
  ctl_in = fdopen (ctl_fd, "r");
  if (ctl_in == NULL)
    die ("fdopen: %m");
}

/* Send {"command":COMMAND}, return the reply (the caller puts it). */
static json_object *
ctl_call (const char *command)
{
  char req[128], *line = NULL;
  size_t cap = 0;
  json_object *reply, *ok;
  int n = snprintf (req, sizeof req, "{\"command\":\"%s\"}\n", command);

  if (write (ctl_fd, req, n) != n)
    die ("control %s: write: %m", command);
  if (getline (&line, &cap, ctl_in) <= 0)
    die ("control %s: no reply", command);
  reply = json_tokener_parse (line);
  if (reply == NULL || !json_object_object_get_ex (reply, "ok", &ok)
      || !json_object_get_boolean (ok))
    die ("control %s failed: %s", command, line);
  free (line);
  return reply;
}

static const char *
member_string (json_object *o, const char *key)
{
  json_object *m;

  return json_object_object_get_ex (o, key, &m)
    ? json_object_get_string (m) : "";
}

static uint64_t
member_uint (json_object *o, const char *key)
{
  json_object *m;

  if (!json_object_object_get_ex (o, key, &m)
      || !json_object_is_type (m, json_type_int))
    die ("control reply without integer %s: %s", key,
         json_object_to_json_string (o));
  return json_object_get_uint64 (m);
}

void
ctl_wait_idle (void)
{
  unsigned i;

  for (i = 0;; i++) {
    json_object *r = ctl_call ("status");
    bool idle = strcmp (member_string (r, "state"), "none") == 0;

    if (!idle && i >= TRIES)
      die ("the snapshot never ended: %s", json_object_to_json_string (r));
    json_object_put (r);
    if (idle)
      return;
    usleep (1000);
  }
}

uint64_t
ctl_begin (char *desc, size_t len)
{
  json_object *r = ctl_call ("snapshot-begin"), *created;
  uint64_t g = member_uint (r, "generation");

  snprintf (desc, len, "%s", member_string (r, "description"));
  if (!json_object_object_get_ex (r, "created", &created)
      || !json_object_get_boolean (created))
    die ("snapshot-begin did not create a snapshot: %s",
         json_object_to_json_string (r));
  json_object_put (r);
  return g;
}

uint64_t
ctl_end (void)
{
  json_object *r = ctl_call ("snapshot-end");
  uint64_t g = member_uint (r, "generation");

  json_object_put (r);
  return g;
}
