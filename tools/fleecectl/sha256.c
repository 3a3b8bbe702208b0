/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: the SHA-256 of a file (see sha256.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "sha256.h"

#define BUF_SIZE (1024 * 1024)

int
sha256_file (const char *path, char hex[65])
{
  struct sha256_ctx ctx;
  uint8_t digest[SHA256_DIGEST_SIZE];
  unsigned char *buf = malloc (BUF_SIZE);
  int fd = open (path, O_RDONLY | O_CLOEXEC), saved;
  ssize_t r = 0;
  size_t i;

  sha256_init (&ctx);
  while (fd != -1 && buf &&
         ((r = read (fd, buf, BUF_SIZE)) > 0 || (r == -1 && errno == EINTR)))
    if (r > 0)
      sha256_update (&ctx, r, buf);
  bool ok = fd != -1 && buf != NULL && r == 0;

  saved = buf == NULL ? ENOMEM : errno;
  free (buf);
  if (fd != -1)
    close (fd);
  if (!ok) {
    errno = saved;
    return -1;
  }
  sha256_digest (&ctx, sizeof digest, digest);
  for (i = 0; i < sizeof digest; i++)
    snprintf (hex + 2 * i, 3, "%02x", digest[i]);
  return 0;
}
