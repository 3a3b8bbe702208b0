/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: who may open the snapshot export (see access.h).
 *
 * The rule: with neither snapshot-allow-user= nor snapshot-allow-group=
 * there is no restriction (the NBD socket's permissions are the only
 * gate).  With either, a connection to the snapshot export is allowed
 * only if its peer's effective uid is in the user list or its effective
 * (primary) gid is in the group list, as SO_PEERCRED recorded them when
 * the client connected (nbdkit_peer_uid, nbdkit_peer_gid).  Nobody is
 * allowed implicitly, not even root or nbdkit's own user.
 *
 * Not handled, deliberately:
 * - Supplementary groups.  Only SO_PEERGROUPS on the connection's
 *   socket gives them reliably, and nbdkit does not give filters that
 *   socket.  Reading /proc/PID/status would race with PID reuse.
 * - Clients that have no peer credentials: TCP, vsock, -s.  They are
 *   refused whenever a restriction is set.  The address family is
 *   checked first, because SO_PEERCRED on a socket that is not a Unix
 *   socket does not fail on Linux: it reports uid and gid -1.
 * - The live export: QEMU must always be able to connect, so it is
 *   never checked here.
 *
 * Ordering: fleece_open calls this before it opens the plugin, and
 * the snapshot is created only later, in .prepare: a refused client
 * never creates a generation, so it never freezes the guest.
 *
 * State: access_cfg only, read-only after .config: no locks.
 */
#include <config.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <nbdkit-filter.h>

#include "access.h"

bool
access_restricted (void)
{
  return access_cfg.nusers > 0 || access_cfg.ngroups > 0;
}

static bool
listed (const uint32_t *ids, size_t n, int64_t id)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (ids[i] == id)
      return true;
  return false;
}

/* Is the client on a Unix socket, the only kind with credentials? */
static bool
peer_is_unix (void)
{
  struct sockaddr_storage ss = { .ss_family = AF_UNSPEC };
  socklen_t len = sizeof ss;

  return nbdkit_peer_name ((struct sockaddr *) &ss, &len) == 0 &&
    ss.ss_family == AF_UNIX;
}

int
access_check_snapshot (const char *exportname)
{
  int64_t uid, gid, pid;

  if (!access_restricted ())
    return 0;
  if (!peer_is_unix ()) {
    nbdkit_error ("fleece: refused export '%s' to a client with no peer "
                  "credentials (not on a Unix socket): "
                  "snapshot-allow-user/snapshot-allow-group need them; "
                  "connect through nbdkit's Unix socket (-U), or "
                  "authenticate TCP clients with TLS (--tls=require, PSK "
                  "or certificates) instead of the allow lists",
                  exportname);
    return -1;
  }
  uid = nbdkit_peer_uid ();
  gid = nbdkit_peer_gid ();
  pid = nbdkit_peer_pid ();
  if (uid == -1 || gid == -1)
    return -1;                  /* nbdkit has said why */
  if (listed (access_cfg.users, access_cfg.nusers, uid) ||
      listed (access_cfg.groups, access_cfg.ngroups, gid)) {
    nbdkit_debug ("fleece: export '%s' allowed to uid %" PRId64
                  " gid %" PRId64 " pid %" PRId64,
                  exportname, uid, gid, pid);
    return 0;
  }
  nbdkit_error ("fleece: refused export '%s' to uid %" PRId64 " gid %"
                PRId64 " pid %" PRId64 ": the uid is not in "
                "snapshot-allow-user and the primary gid is not in "
                "snapshot-allow-group (supplementary groups do not "
                "count): list the backup user there",
                exportname, uid, gid, pid);
  return -1;
}
