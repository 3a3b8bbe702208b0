/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the control socket's server thread (see server.h).
 *
 * One thread, one poll over: the wake-up eventfd (stop), the listening
 * socket, and up to CONTROL_MAX_CLIENTS clients.  Every socket is
 * non-blocking, so no client can hold the thread: a client that sends
 * half a line simply waits in its buffer, a client that does not read
 * its replies is neither answered nor read from while more than
 * OUT_HIGH bytes of them wait (back-pressure): its requests stay in its
 * buffer, so it costs this thread nothing and holds only its slot, and
 * its pending output never passes OUT_HIGH plus one reply.
 *
 * Per client: an input buffer of CONTROL_LINE_MAX + 1 bytes.  When it
 * fills without a newline the line is too long: the client gets one
 * "line-too-long" error, the rest of that line is discarded up to its
 * newline, and the connection goes on.  At end of file, complete lines
 * are answered, an unterminated last line is dropped, and the
 * connection closes once its replies are written.
 *
 * Commands run in this thread, one at a time (cmd.h).
 * snapshot-begin may take up to quiesce-timeout while the guest is
 * frozen; meanwhile other control clients wait.  NBD traffic never
 * waits for this thread.  No locks: all state here is the thread's.
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nbdkit-filter.h>

#include "cmd.h"
#include "proto.h"
#include "server.h"

#define OUT_HIGH (64 * 1024)

struct client {
  int fd;                       /* -1: free slot */
  char *in;                     /* CONTROL_LINE_MAX + 1 bytes */
  size_t inlen;
  bool discarding;              /* inside an over-long line */
  bool eof;                     /* close once out is written */
  char *out;
  size_t outlen, outoff;
};

static struct client clients[CONTROL_MAX_CLIENTS];

static void
client_close (struct client *c)
{
  close (c->fd);
  free (c->in);
  free (c->out);
  memset (c, 0, sizeof *c);
  c->fd = -1;
}

/* Queue a reply line (consumed).  false: the client must be dropped. */
static bool
client_queue (struct client *c, char *line)
{
  size_t n;
  char *p;

  if (line == NULL)
    return false;
  if ((n = strlen (line)) == 0) {
    free (line);                /* a blank request line: no reply */
    return true;
  }
  if ((p = realloc (c->out, c->outlen + n)) == NULL) {
    free (line);
    return false;
  }
  memcpy (p + c->outlen, line, n);
  c->out = p;
  c->outlen += n;
  free (line);
  return true;
}

/* Write what the socket takes.  false: drop the client. */
static bool
client_flush (struct client *c)
{
  ssize_t r;

  while (c->outoff < c->outlen) {
    r = send (c->fd, c->out + c->outoff, c->outlen - c->outoff,
              MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r == -1)
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c->outoff += r;
  }
  free (c->out);
  c->out = NULL;
  c->outlen = c->outoff = 0;
  return true;
}

/* Answer the complete lines in the buffer, up to OUT_HIGH bytes of
 * pending output, and keep the rest.
 */
static bool
client_lines (struct client *c)
{
  size_t start = 0;
  char *nl;

  while ((nl = memchr (c->in + start, '\n', c->inlen - start)) != NULL) {
    size_t len = nl - (c->in + start);
    if (!c->discarding && c->outlen - c->outoff > OUT_HIGH)
      break;                    /* held until the client reads */
    if (c->discarding)
      c->discarding = false;    /* the tail of an over-long line */
    else if (!client_queue (c, control_command_line (c->in + start, len)))
      return false;
    start += len + 1;
  }
  memmove (c->in, c->in + start, c->inlen - start);
  c->inlen -= start;
  if (nl != NULL)
    return true;                /* held lines: not read past them */
  if (c->inlen == CONTROL_LINE_MAX + 1) {      /* full, no newline */
    c->inlen = 0;
    if (!c->discarding &&
        !client_queue (c, control_error_line (NULL, "line-too-long",
                                              "request line longer than "
                                              "65536 bytes")))
      return false;
    c->discarding = true;
  }
  else if (c->discarding)
    c->inlen = 0;
  return true;
}

/* Write what the socket takes; each time everything is written,
 * answer the lines held back.  false: drop the client.
 */
static bool
client_pump (struct client *c)
{
  do {
    if (!client_flush (c))
      return false;
    if (c->outoff < c->outlen)
      return true;              /* the socket is full: wait for POLLOUT */
    if (!client_lines (c))
      return false;
  } while (c->outoff < c->outlen);
  return true;
}

/* Read what is there.  false: drop the client. */
static bool
client_read (struct client *c)
{
  ssize_t r = recv (c->fd, c->in + c->inlen, CONTROL_LINE_MAX + 1 - c->inlen,
                    MSG_DONTWAIT);

  if (r == -1)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  if (r == 0) {
    c->eof = true;              /* an unterminated last line is dropped */
    c->inlen = 0;
    return true;
  }
  c->inlen += r;
  return client_lines (c);
}

/* Refuse a connection with one error line (best effort) and close. */
static void
refuse (int fd, const char *code, const char *why)
{
  char *line = control_error_line (NULL, code, why);

  /* A new socket's buffer is empty: the short line fits.  If the
   * send fails anyway there is nothing more to do.
   */
  if (line && send (fd, line, strlen (line), MSG_DONTWAIT | MSG_NOSIGNAL)
      == -1)
    nbdkit_debug ("fleece: control socket: refusing a client: %m");
  free (line);
  close (fd);
}

/* Accept one connection.  false when there was none to accept. */
static bool
accept_one (const struct control_server *srv)
{
  char why[256];
  int fd = accept4 (srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  size_t i;

  if (fd == -1)
    return false;               /* EAGAIN, or the client left */
  for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
    if (clients[i].fd == -1)
      break;
  if (control_peer_allowed (fd, srv, why, sizeof why) != 1) {
    nbdkit_error ("fleece: control socket: refused a connection: %s", why);
    refuse (fd, "permission-denied", why);
  }
  else if (i == CONTROL_MAX_CLIENTS)
    refuse (fd, "busy", "too many control clients at once, try again");
  else if ((clients[i].in = malloc (CONTROL_LINE_MAX + 1)) == NULL)
    refuse (fd, "busy", "out of memory");
  else
    clients[i].fd = fd;
  return true;
}

/* Fill pfd (wake, listen, then one per client slot).  Returns count. */
static nfds_t
poll_set (struct pollfd *pfd, const struct control_server *srv)
{
  size_t i;

  pfd[0] = (struct pollfd) { .fd = srv->wake_fd, .events = POLLIN };
  pfd[1] = (struct pollfd) { .fd = srv->listen_fd, .events = POLLIN };
  for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
    struct client *c = &clients[i];
    pfd[2 + i] = (struct pollfd) { .fd = c->fd };
    if (c->fd == -1)
      continue;
    if (c->outoff < c->outlen)
      pfd[2 + i].events = POLLOUT;      /* back-pressure: no reading */
    else if (!c->eof)
      pfd[2 + i].events = POLLIN;
  }
  return 2 + CONTROL_MAX_CLIENTS;
}

static void
service (struct client *c, short revents)
{
  bool ok = true;

  if (revents & POLLOUT)
    ok = client_pump (c);
  else if (revents & (POLLIN | POLLHUP | POLLERR))
    ok = client_read (c) && client_pump (c);
  if (!ok || (c->eof && c->outoff == c->outlen))
    client_close (c);
}

void *
control_serve (void *arg)
{
  const struct control_server *srv = arg;
  struct pollfd pfd[2 + CONTROL_MAX_CLIENTS];
  size_t i;

  for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
    clients[i].fd = -1;
  for (;;) {
    nfds_t n = poll_set (pfd, srv);
    if (poll (pfd, n, -1) == -1) {
      if (errno == EINTR)
        continue;
      nbdkit_error ("fleece: control socket: poll: %m");
      break;
    }
    if (pfd[0].revents)
      break;
    /* Clients first, so slots freed by clients that left are free
     * for the connections accepted in the same round.
     */
    for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
      if (clients[i].fd != -1 && pfd[2 + i].revents)
        service (&clients[i], pfd[2 + i].revents);
    if (pfd[1].revents & POLLIN)
      for (i = 0; i < 16 && accept_one (srv); i++)
        ;
  }
  for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
    if (clients[i].fd != -1)
      client_close (&clients[i]);
  return NULL;
}
