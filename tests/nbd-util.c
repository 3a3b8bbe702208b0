/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece tests: libnbd helpers (see nbd-util.h). */
#include <config.h>

#include <stdbool.h>
#include <stddef.h>

#include <libnbd.h>

#include "nbd-util.h"

void
check_nbd (int r, const char *what)
{
  if (r == -1)
    die ("%s: %s", what, nbd_get_error ());
}

struct nbd_handle *
connect_to (const char *uri)
{
  struct nbd_handle *h = nbd_create ();

  if (h == NULL)
    die ("nbd_create: %s", nbd_get_error ());
  check_nbd (nbd_set_full_info (h, true), "nbd_set_full_info");
  check_nbd (nbd_connect_uri (h, uri), uri);
  return h;
}

void
disconnect (struct nbd_handle *h)
{
  check_nbd (nbd_shutdown (h, 0), "nbd_shutdown");
  nbd_close (h);
}
