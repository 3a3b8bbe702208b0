/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: pread/pwrite of a whole buffer (see full-rw.h). */
#include <config.h>

#include <errno.h>
#include <unistd.h>

#include "full-rw.h"

int
full_pread (int fd, void *buf, size_t count, uint64_t offset)
{
  char *p = buf;
  ssize_t r;

  while (count > 0) {
    r = pread (fd, p, count, offset);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1)
      return -1;
    if (r == 0) {
      errno = EIO;
      return -1;
    }
    p += r;
    count -= r;
    offset += r;
  }
  return 0;
}

int
full_pwrite (int fd, const void *buf, size_t count, uint64_t offset)
{
  const char *p = buf;
  ssize_t r;

  while (count > 0) {
    r = pwrite (fd, p, count, offset);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1)
      return -1;
    if (r == 0) {
      errno = EIO;
      return -1;
    }
    p += r;
    count -= r;
    offset += r;
  }
  return 0;
}
