/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: begin, end and watch nbdkit-fleece snapshots through the
 * filter's control socket (nbdkit-fleece-filter(1), PROTOCOL).
 *
 * One connection, one request line per command, one reply line each
 * (status --watch sends a status request every interval on the same
 * connection).  Exit codes: 0 success, 1 the server answered with an
 * error, 2 usage error or no usable connection.  Human-readable
 * output by default (show.c); --json prints each reply line as is.
 */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "options.h"
#include "show.h"

struct conn {
  int fd;
  FILE *in;
  const char *path;
};

static volatile sig_atomic_t interrupted;

static void
connect_socket (struct conn *c)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };

  if (strlen (c->path) >= sizeof sun.sun_path)
    die (EXIT_USAGE, "%s: socket path too long", c->path);
  strcpy (sun.sun_path, c->path);
  c->fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd == -1)
    die (EXIT_USAGE, "socket: %s", strerror (errno));
  if (connect (c->fd, (struct sockaddr *) &sun, sizeof sun) == -1) {
    if (errno == ENOENT)
      die (EXIT_USAGE, "no control socket at %s: is nbdkit running with "
           "control=%s?", c->path, c->path);
    if (errno == EACCES || errno == EPERM)
      die (EXIT_USAGE, "%s: permission denied: run as root, as the nbdkit "
           "user, or as a member of the socket's group (control-mode=, "
           "control-group=)", c->path);
    if (errno == ECONNREFUSED)
      die (EXIT_USAGE, "%s: connection refused: no nbdkit is serving this "
           "control socket (a stale socket?)", c->path);
    die (EXIT_USAGE, "%s: connect: %s", c->path, strerror (errno));
  }
  if ((c->in = fdopen (c->fd, "r")) == NULL)
    die (EXIT_USAGE, "fdopen: %s", strerror (errno));
}

/* Send s.  false if the server has closed the connection (it may
 * have sent a refusal first: the caller reads it).
 */
static bool
send_line (struct conn *c, const char *s)
{
  size_t len = strlen (s), off = 0;
  ssize_t r;

  while (off < len) {
    r = send (c->fd, s + off, len - off, MSG_NOSIGNAL);
    if (r == -1 && errno == EINTR && !interrupted)
      continue;
    if (r == -1 && (errno == EPIPE || errno == ECONNRESET))
      return false;
    if (r == -1)
      die (EXIT_USAGE, "%s: sending the request: %s", c->path,
           strerror (errno));
    off += r;
  }
  return true;
}

/* Send one request, return its reply line (malloc'd, no newline), or
 * NULL if interrupted by a signal.
 */
static char *
exchange (struct conn *c, json_object *req)
{
  char *line = NULL;
  size_t n = 0;
  ssize_t len;

  if (send_line (c, json_object_to_json_string_ext (req,
                                                   JSON_C_TO_STRING_PLAIN)))
    send_line (c, "\n");
  errno = 0;
  len = getline (&line, &n, c->in);
  if (len == -1) {
    free (line);
    if (interrupted)
      return NULL;
    if (errno)
      die (EXIT_USAGE, "%s: reading the reply: %s", c->path,
           strerror (errno));
    die (EXIT_USAGE, "%s: the server closed the connection without a reply",
         c->path);
  }
  if (len > 0 && line[len - 1] == '\n')
    line[len - 1] = '\0';
  return line;
}

/* Parse a reply; an error reply ends the program with EXIT_SERVER. */
static json_object *
check_reply (const struct options *o, const char *line)
{
  json_object *r = json_tokener_parse (line), *ok = NULL, *err = NULL;
  json_object *code = NULL, *msg = NULL;

  if (r == NULL || !json_object_is_type (r, json_type_object) ||
      !json_object_object_get_ex (r, "ok", &ok))
    die (EXIT_USAGE, "not a fleece control reply: %.200s", line);
  if (json_object_get_boolean (ok))
    return r;
  if (o->json)
    printf ("%s\n", line);
  json_object_object_get_ex (r, "error", &err);
  json_object_object_get_ex (err, "code", &code);
  json_object_object_get_ex (err, "message", &msg);
  die (EXIT_SERVER, "%s: %s (%s)", o->socket,
       msg ? json_object_get_string (msg) : "error",
       code ? json_object_get_string (code) : "no code");
}

static json_object *
make_request (const char *command, const char *quiesce, int id)
{
  json_object *req = json_object_new_object ();

  if (req == NULL)
    die (EXIT_USAGE, "out of memory");
  json_object_object_add (req, "id", json_object_new_int (id));
  json_object_object_add (req, "command", json_object_new_string (command));
  if (quiesce)
    json_object_object_add (req, "quiesce", json_object_new_string (quiesce));
  return req;
}

static void
on_signal (int sig)
{
  interrupted = 1;
}

static void
pause_interval (double secs)
{
  struct timespec ts = { .tv_sec = secs, .tv_nsec = 0 };

  ts.tv_nsec = (secs - ts.tv_sec) * 1e9;
  while (!interrupted && nanosleep (&ts, &ts) == -1 && errno == EINTR)
    ;
}

/* One status sample for --watch.  false when the watch should stop
 * (interrupted, or no snapshot any more).
 */
static bool
sample (const struct options *o, struct conn *c, long n, bool tty)
{
  json_object *req = make_request ("status", NULL, n), *r, *gen = NULL;
  char *line = exchange (c, req);
  bool more;

  json_object_put (req);
  if (line == NULL)
    return false;               /* interrupted */
  r = check_reply (o, line);
  more = json_object_object_get_ex (r, "generation", &gen) && gen != NULL;
  if (o->json)
    printf ("%s\n", line);
  else {
    fputs (tty ? "\r\033[K" : "", stdout);
    show_progress (stdout, r);
    fputs (tty ? "" : "\n", stdout);
  }
  fflush (stdout);
  json_object_put (r);
  free (line);
  return more;
}

/* status --watch: one sample per interval, until the count, the end
 * of the snapshot, or SIGINT/SIGTERM.
 */
static int
watch (const struct options *o, struct conn *c)
{
  struct sigaction sa = { .sa_handler = on_signal };
  bool tty = isatty (STDOUT_FILENO) && !o->json;
  long n;

  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  for (n = 1; !interrupted && (o->count == 0 || n <= o->count); n++) {
    if (n > 1)
      pause_interval (o->interval);
    if (interrupted || !sample (o, c, n, tty))
      break;
  }
  if (tty)
    putchar ('\n');
  return EXIT_SUCCESS;
}

/* begin, end, or a single status. */
static int
once (const struct options *o, struct conn *c)
{
  const char *cmd = strcmp (o->command, "begin") == 0 ? "snapshot-begin"
    : strcmp (o->command, "end") == 0 ? "snapshot-end" : "status";
  json_object *req = make_request (cmd, o->quiesce, 1), *r;
  char *line = exchange (c, req);

  if (line == NULL)
    die (EXIT_USAGE, "interrupted");
  r = check_reply (o, line);
  if (o->json)
    printf ("%s\n", line);
  else if (strcmp (o->command, "begin") == 0)
    show_begin (stdout, r);
  else if (strcmp (o->command, "end") == 0)
    show_end (stdout, r);
  else
    show_status (stdout, r);
  json_object_put (r);
  json_object_put (req);
  free (line);
  return EXIT_SUCCESS;
}

int
main (int argc, char **argv)
{
  struct options o = { .interval = 1 };
  struct conn c = { .fd = -1 };

  parse_args (argc, argv, &o);
  c.path = o.socket;
  connect_socket (&c);
  return o.watch ? watch (&o, &c) : once (&o, &c);
}
