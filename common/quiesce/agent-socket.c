/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, the qemu-guest-agent protocol on a socket.
 *
 * Design: one connection per operation.  QEMU's agent chardev is a
 * server that talks to one client at a time and may come and go with
 * the VM, so nothing is kept open between operations.  Each operation
 * is: connect; send 0xFF (resets the agent's parser) and
 * guest-sync-delimited with a fresh id; skip every byte up to a 0xFF
 * and accept the JSON after it only if it returns our id (anything
 * else is a stale reply from an earlier, abandoned command and is
 * skipped); then send one command and read one reply.  Every read and
 * write waits with poll against the operation's deadline, so a silent,
 * slow or garbling agent costs at most the deadline.  Replies are
 * parsed incrementally with json-c and limited to 64 KiB.
 *
 * Not handled: the agent's own serialisation.  A command we gave up on
 * keeps running in the guest; the next operation's sync waits behind
 * it (and skips its late reply).
 *
 * Locking: none here; the guard serialises calls (backend.h).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <nbdkit-plugin.h>

#include "monotime.h"
#include "agent-reply.h"
#include "agent-socket.h"

#define MAX_REPLY (64 * 1024)

static const char *sock_path;
static bool no_listener;        /* the last connect found no QEMU */

struct conn {
  int fd;
  uint64_t deadline;
  char buf[4096];
  size_t pos, end;
};

/* Debug-log n bytes of the exchange, bytes that are not printable as
 * \xNN (the 0xFF delimiter, newlines).
 */
static void
debug_bytes (const char *dir, const char *data, size_t n)
{
  char out[1024];
  size_t i, o = 0;
  unsigned char ch;

  for (i = 0; i < n && o + 5 < sizeof out; i++) {
    ch = data[i];
    if (ch >= 0x20 && ch < 0x7f)
      out[o++] = ch;
    else
      o += snprintf (out + o, sizeof out - o, "\\x%02x", ch);
  }
  out[o] = '\0';
  nbdkit_debug ("agent %s %s %s%s", sock_path, dir, out, i < n ? "..." : "");
}

static void
describe (char *buf, size_t len)
{
  snprintf (buf, len, "guest agent socket %s", sock_path);
}

/* Wait for events on c->fd until the deadline.  0 or -1 (timeout/error). */
static int
wait_fd (struct conn *c, short events, const char *cmd, char *reason, size_t len)
{
  struct pollfd pfd = { .fd = c->fd, .events = events };
  uint64_t now;
  int r;

  for (;;) {
    now = monotime_ns ();
    if (now >= c->deadline) {
      qga_reasonf (reason, len, "guest agent socket %s: agent not answering "
                   "%s in time (is qemu-guest-agent running in the guest?)",
                   sock_path, cmd);
      return -1;
    }
    r = poll (&pfd, 1, (int) ((c->deadline - now + NS_PER_MS - 1) / NS_PER_MS));
    if (r > 0)
      return 0;
    if (r == -1 && errno != EINTR) {
      qga_reasonf (reason, len, "guest agent socket %s: poll: %m", sock_path);
      return -1;
    }
  }
}

static int
open_conn (struct conn *c, char *reason, size_t len)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  const char *hint = "";

  if (strlen (sock_path) >= sizeof addr.sun_path) {
    qga_reasonf (reason, len, "agent-socket path is too long: %s", sock_path);
    return -1;
  }
  strcpy (addr.sun_path, sock_path);
  c->fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (c->fd == -1) {
    qga_reasonf (reason, len, "guest agent socket %s: socket: %m", sock_path);
    return -1;
  }
  no_listener = false;
  if (connect (c->fd, (struct sockaddr *) &addr, sizeof addr) == 0)
    return 0;
  no_listener = errno == ENOENT || errno == ECONNREFUSED;
  if (no_listener)
    hint = " (is the VM running, with QEMU's agent chardev on this path?)";
  else if (errno == EACCES)
    hint = " (permission denied: run nbdkit as a user that may open it)";
  else if (errno == EAGAIN)
    hint = " (busy: another client holds the agent channel)";
  qga_reasonf (reason, len, "guest agent socket %s: connect: %m%s",
               sock_path, hint);
  close (c->fd);
  c->fd = -1;
  return -1;
}

static int
send_all (struct conn *c, const char *data, size_t n, const char *cmd,
          char *reason, size_t len)
{
  ssize_t r;

  if (vmdisk_debug_agent)
    debug_bytes (">", data, n);
  while (n > 0) {
    if (wait_fd (c, POLLOUT, cmd, reason, len) == -1)
      return -1;
    r = send (c->fd, data, n, MSG_NOSIGNAL);
    if (r == -1 && errno != EINTR && errno != EAGAIN) {
      qga_reasonf (reason, len, "guest agent socket %s: sending %s: %m",
                   sock_path, cmd);
      return -1;
    }
    if (r > 0) {
      data += r;
      n -= r;
    }
  }
  return 0;
}

/* Make sure at least one unread byte is in c->buf.  0 or -1. */
static int
fill (struct conn *c, const char *cmd, char *reason, size_t len)
{
  ssize_t r;

  while (c->pos == c->end) {
    if (wait_fd (c, POLLIN, cmd, reason, len) == -1)
      return -1;
    r = recv (c->fd, c->buf, sizeof c->buf, 0);
    /* A reset is the same hang-up: the agent closed with our bytes
     * still unread on its side.
     */
    if (r == 0 || (r == -1 && errno == ECONNRESET)) {
      qga_reasonf (reason, len, "guest agent socket %s: the agent closed "
                   "the connection while we waited for %s", sock_path, cmd);
      return -1;
    }
    if (r == -1 && errno != EINTR && errno != EAGAIN) {
      qga_reasonf (reason, len, "guest agent socket %s: reading %s: %m",
                   sock_path, cmd);
      return -1;
    }
    if (r > 0) {
      if (vmdisk_debug_agent)
        debug_bytes ("<", c->buf, r);
      c->pos = 0;
      c->end = r;
    }
  }
  return 0;
}

/* Read one JSON value.  Returns a new object or NULL with a reason. */
static json_object *
read_json (struct conn *c, const char *cmd, char *reason, size_t len)
{
  json_tokener *tok = json_tokener_new ();
  json_object *obj = NULL;
  enum json_tokener_error jerr = json_tokener_continue;
  size_t total = 0, n;

  if (tok == NULL) {
    qga_reasonf (reason, len, "%s: out of memory", cmd);
    return NULL;
  }
  while (obj == NULL && jerr == json_tokener_continue) {
    if (fill (c, cmd, reason, len) == -1)
      break;
    n = c->end - c->pos;
    obj = json_tokener_parse_ex (tok, c->buf + c->pos, (int) n);
    jerr = json_tokener_get_error (tok);
    if (jerr != json_tokener_continue) /* stop where the value or error ends */
      n = json_tokener_get_parse_end (tok) > 0
        ? json_tokener_get_parse_end (tok) : 1;
    c->pos += n;
    total += n;
    if (jerr == json_tokener_continue && total > MAX_REPLY) {
      qga_reasonf (reason, len, "guest agent socket %s: reply to %s is "
                   "longer than %d bytes", sock_path, cmd, MAX_REPLY);
      break;
    }
    if (jerr != json_tokener_continue && jerr != json_tokener_success)
      qga_reasonf (reason, len, "guest agent socket %s: garbled reply to "
                   "%s (%s)", sock_path, cmd, json_tokener_error_desc (jerr));
  }
  if (jerr != json_tokener_success) {
    json_object_put (obj);
    obj = NULL;
  }
  json_tokener_free (tok);
  return obj;
}

/* Skip bytes up to and including the next 0xFF delimiter. */
static int
skip_to_delimiter (struct conn *c, char *reason, size_t len)
{
  for (;;) {
    if (fill (c, "guest-sync-delimited", reason, len) == -1)
      return -1;
    if ((unsigned char) c->buf[c->pos++] == 0xFF)
      return 0;
  }
}

/* Resynchronise: stale bytes and replies before our id are dropped. */
static int
sync_agent (struct conn *c, char *reason, size_t len)
{
  int64_t id = 0;
  char cmd[128];
  json_object *obj, *ret;

  if (getrandom (&id, sizeof id, 0) != sizeof id)
    id = (int64_t) monotime_ns ();
  id = (id & INT64_C (0x7fffffff)) + 1;
  snprintf (cmd, sizeof cmd, "\xff{\"execute\":\"guest-sync-delimited\","
            "\"arguments\":{\"id\":%" PRId64 "}}\n", id);
  if (send_all (c, cmd, strlen (cmd), "guest-sync-delimited",
                reason, len) == -1)
    return -1;
  for (;;) {
    if (skip_to_delimiter (c, reason, len) == -1)
      return -1;
    obj = read_json (c, "guest-sync-delimited", reason, len);
    if (obj == NULL)
      continue;                 /* garbage after a delimiter: keep looking */
    if (json_object_object_get_ex (obj, "return", &ret) &&
        json_object_is_type (ret, json_type_int) &&
        json_object_get_int64 (ret) == id) {
      json_object_put (obj);
      return 0;
    }
    nbdkit_debug ("agent %s: skipping a stale reply while resyncing",
                  sock_path);
    json_object_put (obj);
  }
}

/* Connect, sync, send cmd (with optional arguments), read the reply.
 * Returns the reply object (caller puts it) or NULL with a reason.
 */
static json_object *
exchange (uint64_t deadline, const char *cmd, json_object *args,
          char *reason, size_t len)
{
  struct conn c = { .fd = -1, .deadline = deadline };
  json_object *req = json_object_new_object ();
  json_object *reply = NULL;
  const char *text = NULL;

  if (req != NULL &&
      json_object_object_add (req, "execute",
                              json_object_new_string (cmd)) == 0 &&
      (args == NULL ||
       json_object_object_add (req, "arguments",
                               json_object_get (args)) == 0))
    text = json_object_to_json_string_ext (req, JSON_C_TO_STRING_PLAIN);
  if (text == NULL) {
    qga_reasonf (reason, len, "%s: out of memory", cmd);
    goto out;
  }
  if (open_conn (&c, reason, len) == -1 ||
      sync_agent (&c, reason, len) == -1 ||
      send_all (&c, text, strlen (text), cmd, reason, len) == -1 ||
      send_all (&c, "\n", 1, cmd, reason, len) == -1)
    goto out;
  reply = read_json (&c, cmd, reason, len);
 out:
  if (c.fd >= 0)
    close (c.fd);
  json_object_put (req);
  return reply;
}

/* Run cmd and check the reply's shape; returns its count or status. */
static int
run (uint64_t deadline, const char *cmd, json_object *args,
     bool want_status, char *reason, size_t len)
{
  json_object *reply, *ret;
  char why[512] = "";
  int r = -1;

  reply = exchange (deadline, cmd, args, reason, len);
  if (reply == NULL)
    return -1;
  if (qga_reply_return (reply, cmd, &ret, why, sizeof why) == 0)
    r = want_status ? qga_reply_status (ret, why, sizeof why)
      : qga_reply_count (ret, cmd, why, sizeof why);
  json_object_put (reply);
  if (r == -1)
    qga_reasonf (reason, len, "guest agent socket %s: %s", sock_path, why);
  else
    reason[0] = '\0';          /* drop notes from the resync */
  return r;
}

/* Check the agent answers a sync before we owe anything. */
static int
resolve (uint64_t deadline, char *id, size_t id_len, char *reason, size_t len)
{
  struct conn c = { .fd = -1, .deadline = deadline };
  int r;

  snprintf (id, id_len, "%s", sock_path);
  r = open_conn (&c, reason, len);
  if (r == 0)
    r = sync_agent (&c, reason, len);
  if (c.fd >= 0)
    close (c.fd);
  if (r == 0)
    reason[0] = '\0';
  return r;
}

static int
freeze (uint64_t deadline, char *const *mountpoints, size_t nr,
        char *reason, size_t len)
{
  json_object *args = NULL, *list;
  size_t i;
  int r;

  if (nr == 0)
    return run (deadline, "guest-fsfreeze-freeze", NULL, false, reason, len);
  args = json_object_new_object ();
  list = json_object_new_array ();
  for (i = 0; i < nr; i++)
    json_object_array_add (list, json_object_new_string (mountpoints[i]));
  json_object_object_add (args, "mountpoints", list);
  r = run (deadline, "guest-fsfreeze-freeze-list", args, false, reason, len);
  json_object_put (args);
  if (r >= 0 && (size_t) r < nr) {
    qga_reasonf (reason, len, "guest agent socket %s: mountpoint not found: "
                 "the guest froze %d of the %zu mountpoints given (check "
                 "every mountpoint= is a mounted filesystem in the guest)",
                 sock_path, r, nr);
    r = -1;
  }
  return r;
}

static int
thaw (uint64_t deadline, char *reason, size_t len)
{
  return run (deadline, "guest-fsfreeze-thaw", NULL, false, reason, len);
}

/* No QEMU listening means no running guest: nothing is frozen. */
static int
status (uint64_t deadline, char *reason, size_t len)
{
  int r = run (deadline, "guest-fsfreeze-status", NULL, true, reason, len);

  return r == -1 && no_listener ? 0 : r;
}

static unsigned
close_backend (void)
{
  return 0;                     /* every call ran on its caller's thread */
}

static const struct qga_backend backend = {
  .name = "agent-socket",
  .describe = describe,
  .resolve = resolve,
  .freeze = freeze,
  .thaw = thaw,
  .status = status,
  .close = close_backend,
};

const struct qga_backend *
qga_socket_backend (const char *path)
{
  sock_path = path;
  return &backend;
}
