/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: the connection to the control socket (see conn.h).
 *
 * Every wait is bounded by --timeout: the connect and each send by
 * SO_SNDTIMEO (Linux applies it to a Unix stream connect that waits
 * for room in a full backlog: it then fails with EAGAIN), and each
 * reply by poll with the time left until a deadline set when its
 * request is sent, so a server that trickles bytes cannot stretch it.
 *
 * When PATH is not a control socket, the message says what it is: a
 * regular file or a directory (connect says only ECONNREFUSED for
 * those, as for a stale socket), or an NBD socket (whose server speaks
 * first: "NBDMAGIC"), or something that does not answer in JSON.
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "options.h"

#define MAX_REPLY (1024 * 1024) /* bytes in one reply line */
#define NBD_MAGIC "NBDMAGIC"    /* how every NBD server greets */

volatile sig_atomic_t conn_interrupted;

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *
file_kind (mode_t mode)
{
  switch (mode & S_IFMT) {
  case S_IFREG: return "a regular file";
  case S_IFDIR: return "a directory";
  case S_IFIFO: return "a FIFO";
  case S_IFCHR: return "a character device";
  case S_IFBLK: return "a block device";
  default: return "a file of another kind";
  }
}

/* connect said ECONNREFUSED: a socket nobody listens on, or no socket. */
static void __attribute__ ((noreturn))
refused (const char *path)
{
  struct stat st;

  if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
    die (EXIT_USAGE, "%s is a directory, not a socket: pass the control "
         "socket itself, the path given to the filter as control=PATH",
         path);
  if (stat (path, &st) == 0 && !S_ISSOCK (st.st_mode))
    die (EXIT_USAGE, "%s is %s, not a socket: pass the control socket, "
         "the path given to the filter as control=PATH", path,
         file_kind (st.st_mode));
  die (EXIT_USAGE, "%s: connection refused: no nbdkit is serving this "
       "control socket (a stale socket left by a stopped nbdkit?)", path);
}

static void __attribute__ ((noreturn))
timed_out (const struct conn *c, const char *what)
{
  die (EXIT_USAGE, "%s: %s within %gs (--timeout): is nbdkit stuck, or is "
       "this not the filter's control socket?", c->path, what, c->timeout);
}

static void __attribute__ ((noreturn))
nbd_socket (const struct conn *c)
{
  die (EXIT_USAGE, "%s is an NBD socket, not the control socket "
       "(control=): pass the path given to the filter as control=PATH",
       c->path);
}

void
conn_not_control (const struct conn *c, const char *line)
{
  char text[64];
  size_t i;

  for (i = 0; line[i] && i < sizeof text - 1; i++)
    text[i] = line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '.';
  text[i] = '\0';
  die (EXIT_USAGE, "%s is not a fleece control socket: its reply is not "
       "a control reply (\"%s\"%s): pass the path given to the filter as "
       "control=PATH", c->path, text, line[i] ? "..." : "");
}

void
conn_open (struct conn *c, const char *path, double timeout)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  struct timeval tv = { .tv_sec = timeout };

  c->path = path;
  c->timeout = timeout;
  if (strlen (path) >= sizeof sun.sun_path)
    die (EXIT_USAGE, "%s: socket path too long", path);
  strcpy (sun.sun_path, path);
  c->fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd == -1)
    die (EXIT_USAGE, "socket: %s", strerror (errno));
  tv.tv_usec = (timeout - tv.tv_sec) * 1e6;
  if (timeout > 0 &&
      setsockopt (c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1)
    die (EXIT_USAGE, "setsockopt SO_SNDTIMEO: %s", strerror (errno));
  if (connect (c->fd, (struct sockaddr *) &sun, sizeof sun) == 0)
    return;
  switch (errno) {
  case ENOENT:
    die (EXIT_USAGE, "no control socket at %s: is nbdkit running with "
         "control=%s?", path, path);
  case EACCES: case EPERM:
    die (EXIT_PERMISSION, "%s: permission denied: run as root, as the "
         "nbdkit user, or as a member of the socket's group "
         "(control-mode=, control-group=)", path);
  case ECONNREFUSED:
    refused (path);
  case EAGAIN: case ETIMEDOUT:
    timed_out (c, "no connection");
  default:
    die (EXIT_USAGE, "%s: connect: %s", path, strerror (errno));
  }
}

/* Send all of s.  false if the server has closed the connection (it
 * may have sent a refusal first: the caller reads it) or if
 * interrupted.
 */
static bool
send_all (struct conn *c, const char *s)
{
  size_t len = strlen (s), off = 0;
  ssize_t r;

  while (off < len) {
    r = send (c->fd, s + off, len - off, MSG_NOSIGNAL);
    if (r == -1 && errno == EINTR && !conn_interrupted)
      continue;
    if (r == -1 && (errno == EPIPE || errno == ECONNRESET || errno == EINTR))
      return false;
    if (r == -1 && errno == EAGAIN)
      timed_out (c, "the request could not be sent");
    if (r == -1)
      die (EXIT_USAGE, "%s: sending the request: %s", c->path,
           strerror (errno));
    off += r;
  }
  return true;
}

/* Wait until the socket is readable.  false if interrupted. */
static bool
wait_readable (const struct conn *c, double deadline)
{
  struct pollfd p = { .fd = c->fd, .events = POLLIN };
  double left;
  int r;

  for (;;) {
    if (conn_interrupted)
      return false;
    left = deadline - now ();
    if (c->timeout > 0 && left <= 0)
      timed_out (c, "no reply");
    r = poll (&p, 1, c->timeout > 0 ? (int) (left * 1000) + 1 : -1);
    if (r == -1 && errno != EINTR)
      die (EXIT_USAGE, "%s: poll: %s", c->path, strerror (errno));
    if (r > 0)
      return true;
  }
}

/* The server closed the connection before a complete line (reset,
 * if it left part of the request unread).
 */
static void __attribute__ ((noreturn))
closed (struct conn *c)
{
  if (c->len == 0)
    die (EXIT_USAGE, "%s: the server closed the connection without a reply",
         c->path);
  if (!c->answered && c->len < strlen (NBD_MAGIC) &&
      memcmp (c->buf, NBD_MAGIC, c->len) == 0)
    nbd_socket (c);
  c->buf[c->len] = '\0';
  if (!c->answered)
    conn_not_control (c, c->buf);
  die (EXIT_USAGE, "%s: the server closed the connection in the middle "
       "of a reply", c->path);
}

/* Take the first line out of the buffer, or NULL if none is complete.
 * Before the first reply, an NBD greeting is recognised as soon as
 * its magic has arrived (it has no newline).
 */
static char *
take_line (struct conn *c)
{
  size_t magic = strlen (NBD_MAGIC), n;
  char *nl, *line;

  if (!c->answered && c->len >= magic && memcmp (c->buf, NBD_MAGIC, magic) == 0)
    nbd_socket (c);
  nl = c->len ? memchr (c->buf, '\n', c->len) : NULL;
  if (nl == NULL)
    return NULL;
  n = nl - c->buf;
  if ((line = malloc (n + 1)) == NULL)
    die (EXIT_USAGE, "out of memory");
  memcpy (line, c->buf, n);
  line[n] = '\0';
  if (memchr (line, '\0', n))
    conn_not_control (c, line);
  c->len -= n + 1;
  memmove (c->buf, nl + 1, c->len);
  c->answered = true;
  return line;
}

char *
conn_exchange (struct conn *c, const char *request)
{
  double deadline = now () + c->timeout;
  char *line;
  ssize_t r;

  if (send_all (c, request))
    send_all (c, "\n");
  while ((line = take_line (c)) == NULL) {
    if (c->len >= MAX_REPLY)
      die (EXIT_USAGE, "%s: a reply line longer than %d bytes: not a "
           "fleece control socket?", c->path, MAX_REPLY);
    if (c->cap - c->len < 4096) {
      c->cap = c->cap ? c->cap * 2 : 8192;
      if ((c->buf = realloc (c->buf, c->cap + 1)) == NULL)
        die (EXIT_USAGE, "out of memory");
    }
    if (!wait_readable (c, deadline))
      return NULL;
    r = recv (c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == 0 || (r == -1 && errno == ECONNRESET))
      closed (c);
    if (r == -1)
      die (EXIT_USAGE, "%s: reading the reply: %s", c->path,
           strerror (errno));
    c->len += r;
  }
  return line;
}

void
conn_close (struct conn *c)
{
  if (c->fd >= 0)
    close (c->fd);
  c->fd = -1;
  free (c->buf);
  c->buf = NULL;
  c->len = c->cap = 0;
}
