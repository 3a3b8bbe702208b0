/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, the state directory rule (see state-dir.h).
 *
 * The same function, and so the same words, for the start and for
 * every marker write: a directory refused only when the marker is
 * written would make every snapshot crash-consistent.  No state.
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "agent-reply.h"
#include "state-dir.h"

int
state_dir_check (const char *dir, const char *param, bool as_user,
                 char *reason, size_t len)
{
  struct stat st;
  bool root = geteuid () == 0;
  char *parent, *slash;
  int r;

  if (lstat (dir, &st) == -1 && errno == ENOENT) {
    parent = strdup (dir);
    if (parent == NULL) {
      qga_reasonf (reason, len, "%s=%s: strdup: %m", param, dir);
      return -1;
    }
    slash = strrchr (parent, '/');
    if (slash)
      slash[slash == parent] = '\0';   /* "/x" -> "/" */
    r = stat (parent, &st) == 0 && S_ISDIR (st.st_mode) ? 0 : -1;
    if (r == -1)
      qga_reasonf (reason, len, "%s=%s: missing, and its parent %s "
                   "is not an existing directory: create it (mkdir -m 0700 "
                   "%s) or give another %s=", param, dir, parent, dir, param);
    free (parent);
    if (r == -1)
      return -1;
    /* As root, nbdkit -u may still switch user: create it as that user. */
    if (root && !as_user)
      return 0;
    if (mkdir (dir, 0700) == -1 && errno != EEXIST) {
      qga_reasonf (reason, len, "%s=%s: cannot create it as uid %u: "
                   "%m: create it (mkdir -m 0700 %s) or give another "
                   "%s=", param, dir, (unsigned) geteuid (), dir, param);
      return -1;
    }
  }
  if (lstat (dir, &st) == -1) {
    qga_reasonf (reason, len, "%s=%s: %m: give a directory that "
                 "nbdkit's user can reach", param, dir);
    return -1;
  }
  if (!S_ISDIR (st.st_mode)) {
    qga_reasonf (reason, len, "%s=%s: not a directory (symlinks are "
                 "refused): give a directory for the crash-recovery marker",
                 param, dir);
    return -1;
  }
  if ((st.st_mode & 022) != 0) {
    qga_reasonf (reason, len, "%s=%s: writable by its group or others "
                 "(mode %04o), so others could forge or remove the "
                 "crash-recovery marker: chmod go-w it or give another "
                 "%s=", param, dir, (unsigned) (st.st_mode & 07777), param);
    return -1;
  }
  if ((as_user || !root) && st.st_uid != geteuid ()) {
    qga_reasonf (reason, len, "%s=%s: owned by uid %u, not by the "
                 "user nbdkit runs as (uid %u): chown it or give another "
                 "%s=", param, dir, (unsigned) st.st_uid,
                 (unsigned) geteuid (), param);
    return -1;
  }
  return 0;
}
