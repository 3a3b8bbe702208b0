/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: fsync a path (see fsync-path.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fsync-path.h"

int
fsync_path (const char *path, int flags)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | flags), r, e;

  if (fd == -1)
    return -1;
  r = fsync (fd);
  e = errno;
  close (fd);
  errno = e;
  return r;
}
