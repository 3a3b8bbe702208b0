/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: who may use the control socket (see server.h).
 *
 * Per connection, by SO_PEERCRED: root, nbdkit's effective uid, and,
 * when the socket's mode gives its group write access, processes whose
 * primary group (SO_PEERCRED) or a supplementary group (SO_PEERGROUPS,
 * at most 256 read) is the socket's group.  Anyone else is refused,
 * even when the file mode let them connect.  No state, no locks.
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server.h"

/* Is gid among the peer's supplementary groups (SO_PEERGROUPS)? */
static bool
peer_in_group (int fd, gid_t gid)
{
  gid_t groups[256];
  socklen_t len = sizeof groups;
  size_t i;

  if (getsockopt (fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
    return false;               /* ERANGE (too many) or unsupported */
  for (i = 0; i < len / sizeof groups[0]; i++)
    if (groups[i] == gid)
      return true;
  return false;
}

int
control_peer_allowed (int fd, const struct control_server *s,
                      char *why, size_t why_len)
{
  struct ucred cred;
  socklen_t len = sizeof cred;
  bool group_ok = (s->mode & 0020) != 0;

  if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
    snprintf (why, why_len, "reading the peer's credentials: %s",
              strerror (errno));
    return -1;
  }
  if (cred.uid == 0 || cred.uid == geteuid () ||
      (group_ok && (cred.gid == s->gid || peer_in_group (fd, s->gid))))
    return 1;
  snprintf (why, why_len, "uid %u (pid %d) may not use this control "
            "socket: only root, uid %u%s", (unsigned) cred.uid,
            (int) cred.pid, (unsigned) geteuid (),
            group_ok ? " and members of its group" : "");
  return 0;
}
