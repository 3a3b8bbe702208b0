/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's extents: walking holes and data.
 *
 * From pos, SEEK_DATA finds the next data (ENXIO: there is none up to
 * the end of the file, so the rest is one hole), and SEEK_HOLE the end
 * of that data (the end of the file counts as a hole, so the last data
 * extent ends at the file size).  Extents are clipped to the request.
 * lseek moves the shared file position, which nothing else uses
 * (reads and writes are positional).
 */
#include <config.h>

#define _GNU_SOURCE 1          /* SEEK_DATA, SEEK_HOLE */

#include <errno.h>
#include <inttypes.h>
#include <sys/types.h>
#include <unistd.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "minmax.h"
#include "extents.h"

/* Next data at or after pos, or end if none before end.  -1 on error. */
static int64_t
next_data (struct disk *d, uint64_t pos, uint64_t end)
{
  off_t r = lseek (d->fd, pos, SEEK_DATA);

  if (r == -1)
    return errno == ENXIO ? (int64_t) end : -1;
  return MIN ((uint64_t) r, end);
}

/* End of the data at pos (the next hole), at most end.  -1 on error. */
static int64_t
next_hole (struct disk *d, uint64_t pos, uint64_t end)
{
  off_t r = lseek (d->fd, pos, SEEK_HOLE);

  if (r == -1)
    return errno == ENXIO ? (int64_t) end : -1;
  return MIN ((uint64_t) r, end);
}

int
disk_extents (struct disk *d, uint32_t count, uint64_t offset,
              bool req_one, struct nbdkit_extents *extents)
{
  uint64_t end = offset + count, pos = offset;

  while (pos < end) {
    int64_t next = next_data (d, pos, end);
    uint32_t type = NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO;

    if (next == (int64_t) pos) {        /* data at pos: find its end */
      next = next_hole (d, pos, end);
      type = 0;
      if (next == (int64_t) pos)        /* punched meanwhile: call it data */
        next = end;
    }
    if (next == -1) {
      disk_error ("extents: %s: lseek at %" PRIu64 ": %m", d->path, pos);
      return -1;
    }
    if (nbdkit_add_extent (extents, pos, next - pos, type) == -1)
      return -1;
    pos = next;
    if (req_one)
      break;
  }
  return 0;
}
