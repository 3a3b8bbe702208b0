/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: can this process create a file at a path?  (See
 * parent-dir.h.)  stat, then faccessat with AT_EACCESS: the answer
 * can change before the file is made; the later creation still checks
 * its own errors.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parent-dir.h"

int
parent_dir_check (const char *path, char *parent, size_t parent_len)
{
  const char *slash = strrchr (path, '/');
  size_t n = slash == NULL ? 0 : slash == path ? 1 : (size_t) (slash - path);
  struct stat st;

  if (n == 0 || n >= parent_len) {
    if (parent_len > 0)
      parent[0] = '\0';
    errno = n == 0 ? EINVAL : ENAMETOOLONG;
    return -1;
  }
  memcpy (parent, path, n);
  parent[n] = '\0';
  if (stat (parent, &st) == -1)
    return -1;
  if (!S_ISDIR (st.st_mode)) {
    errno = ENOTDIR;
    return -1;
  }
  return faccessat (AT_FDCWD, parent, W_OK | X_OK, AT_EACCESS);
}
