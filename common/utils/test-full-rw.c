/* SPDX-License-Identifier: BSD-3-Clause */
#include <config.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "full-rw.h"

int
main (void)
{
  char tmpl[] = "/tmp/test-full-rw.XXXXXX";
  char buf[100000], back[100000];
  int fd = mkstemp (tmpl), pfd[2];
  size_t i;

  assert (fd >= 0);
  unlink (tmpl);
  for (i = 0; i < sizeof buf; i++)
    buf[i] = (char) (i * 7 + 3);
  /* Whole buffers at an offset, and back. */
  assert (full_pwrite (fd, buf, sizeof buf, 4096) == 0);
  assert (full_pread (fd, back, sizeof back, 4096) == 0);
  assert (memcmp (buf, back, sizeof buf) == 0);
  /* The hole before the offset reads as zeroes. */
  assert (full_pread (fd, back, 4096, 0) == 0);
  for (i = 0; i < 4096; i++)
    assert (back[i] == 0);
  /* Reading past the end is EIO, not a short success. */
  errno = 0;
  assert (full_pread (fd, back, 10, 4096 + sizeof buf - 5) == -1);
  assert (errno == EIO);
  /* Errors pass through with their errno. */
  assert (pipe (pfd) == 0);
  assert (full_pread (pfd[0], back, 1, 0) == -1 && errno == ESPIPE);
  close (pfd[0]);
  close (pfd[1]);
  close (fd);
  printf ("ok\n");
  return 0;
}
