/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's disk: checking, opening and plain I/O.
 *
 * The file is opened once (disk_open, from .get_ready) and never
 * reopened; its size is fixed then.  Reads and writes use pread and
 * pwrite on the shared descriptor, so the file position is never used
 * and needs no lock.  With cache=none the descriptor has O_DIRECT and
 * every read and write goes through direct.c, which owns alignment.
 *
 * Sizes and alignment: a regular file's size is st_size; a block
 * device's is BLKGETSIZE64, its sector sizes BLKSSZGET and BLKPBSZGET.
 * The direct I/O alignment is what statx (STATX_DIOALIGN) reports,
 * else the logical sector size of a block device, else 4096, which
 * every Linux file system accepts.
 *
 * Not handled: a file that another process grows or shrinks while we
 * serve it (the export keeps its size; reads past a shrunk end fail
 * with EIO).
 */
#include <config.h>

#define _GNU_SOURCE 1          /* O_DIRECT, fallocate, statx */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "ispowerof2.h"
#include "minmax.h"
#include "disk.h"
#include "full-rw.h"
#include "direct.h"

int vmdisk_debug_verbose = 0;

void
disk_init (struct disk *d)
{
  pthread_rwlockattr_t attr;

  memset (d, 0, sizeof *d);
  d->fd = -1;
  d->align = d->mem_align = 1;
  /* Writers first, so a read-modify-write is not starved by a steady
   * stream of aligned writes holding the lock shared.
   */
  if (pthread_rwlockattr_init (&attr) != 0 ||
      pthread_rwlockattr_setkind_np (&attr,
                                     PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) != 0 ||
      pthread_rwlock_init (&d->rmw_lock, &attr) != 0)
    abort ();
  pthread_rwlockattr_destroy (&attr);
}

int
disk_check_path (const struct disk *d)
{
  struct stat st;

  if (stat (d->path, &st) == -1) {
    if (errno == ENOENT || errno == ENOTDIR)
      nbdkit_error ("%s: no such file: give the path of an existing "
                    "raw disk image or block device", d->param);
    else if (errno == EACCES)
      nbdkit_error ("%s: permission denied: run nbdkit as a user "
                    "that may open it", d->param);
    else
      nbdkit_error ("%s: %m", d->param);
    return -1;
  }
  if (S_ISDIR (st.st_mode)) {
    nbdkit_error ("%s is a directory: give a raw disk image file "
                  "or a block device", d->param);
    return -1;
  }
  if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode)) {
    nbdkit_error ("%s is neither a regular file nor a block device: "
                  "give a raw disk image file or a block device", d->param);
    return -1;
  }
  return 0;
}

/* One line for a failed open(2), naming the likely fix. */
static void
open_error (const struct disk *d)
{
  const char *how = d->readonly ? "reading" : "reading and writing";

  if (errno == EACCES || errno == EPERM)
    nbdkit_error ("%s: permission denied opening it for %s: run "
                  "nbdkit as a user that may %s it%s", d->param, how,
                  d->readonly ? "read" : "write",
                  d->readonly ? "" : ", or add readonly=true");
  else if (errno == EROFS)
    nbdkit_error ("%s is on a read-only file system: add "
                  "readonly=true", d->param);
  else if (errno == EINVAL && d->direct)
    nbdkit_error ("%s: its file system does not support direct I/O "
                  "(cache=none): use cache=writeback", d->param);
  else if (errno == ENOENT)
    nbdkit_error ("%s: no such file: give the path of an existing "
                  "raw disk image or block device", d->param);
  else
    nbdkit_error ("%s: open: %m", d->param);
}

/* Size, sector sizes and direct I/O alignment of the open descriptor. */
static int
probe (struct disk *d)
{
  struct stat st;
  int lbs = 0;
  unsigned int pbs = 0;

  if (fstat (d->fd, &st) == -1) {
    nbdkit_error ("%s: fstat: %m", d->param);
    return -1;
  }
  d->is_bdev = S_ISBLK (st.st_mode);
  d->size = st.st_size;
  if (d->is_bdev) {
    if (ioctl (d->fd, BLKGETSIZE64, &d->size) == -1 ||
        ioctl (d->fd, BLKSSZGET, &lbs) == -1 ||
        ioctl (d->fd, BLKPBSZGET, &pbs) == -1) {
      nbdkit_error ("%s: block device size ioctl: %m", d->param);
      return -1;
    }
    d->lbs = lbs > 0 && is_power_of_2 (lbs) ? lbs : 512;
    d->pbs = pbs > 0 && is_power_of_2 (pbs) ? pbs : d->lbs;
  }
  if (d->direct)
    direct_probe_alignment (d);
  return 0;
}

int
disk_open (struct disk *d)
{
  int flags = (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;

  if (d->direct)
    flags |= O_DIRECT;
  d->fd = open (d->path, flags);
  if (d->fd == -1) {
    open_error (d);
    return -1;
  }
  if (probe (d) == -1)
    return -1;
  if (d->size == 0) {
    nbdkit_error ("%s has size 0, which cannot be a disk: give a "
                  "non-empty image, or size it first, e.g. "
                  "truncate -s 10G %s", d->param, d->path);
    return -1;
  }
  if (d->direct && d->size % d->align != 0) {
    nbdkit_error ("%s: size %" PRIu64 " is not a multiple of %" PRIu32
                  ", the direct I/O alignment that cache=none needs: use "
                  "cache=writeback, or resize the image", d->param, d->size,
                  d->align);
    return -1;
  }
  if (vmdisk_debug_verbose)
    nbdkit_debug ("vmdisk: opened %s: %s, %" PRIu64 " bytes, cache=%s, "
                  "%s, alignment %" PRIu32 ", sectors %" PRIu32 "/%" PRIu32,
                  d->path, d->is_bdev ? "block device" : "regular file",
                  d->size, d->direct ? "none" : "writeback",
                  d->readonly ? "read-only" : "read-write", d->align,
                  d->lbs, d->pbs);
  return 0;
}

void
disk_close (struct disk *d)
{
  if (d->fd >= 0)
    close (d->fd);
  d->fd = -1;
  free (d->path);
  free (d->param);
  d->path = d->param = NULL;
}

void
disk_block_size (const struct disk *d, uint32_t *minimum,
                 uint32_t *preferred, uint32_t *maximum)
{
  *minimum = MAX (d->align, d->lbs);
  if (*minimum == 0)
    *minimum = 1;
  *preferred = MAX (MAX (*minimum, d->pbs), UINT32_C (4096));
  *maximum = UINT32_C (0xffffffff);
}

int
disk_full_pread (const struct disk *d, void *buf, size_t count,
                 uint64_t offset)
{
  return full_pread (d->fd, buf, count, offset);
}

int
disk_full_pwrite (const struct disk *d, const void *buf, size_t count,
                  uint64_t offset)
{
  return full_pwrite (d->fd, buf, count, offset);
}

int
disk_pread (struct disk *d, void *buf, uint32_t count, uint64_t offset)
{
  int r = d->direct ? direct_pread (d, buf, count, offset)
                    : disk_full_pread (d, buf, count, offset);

  if (r == -1)
    disk_error ("pread: %s: %" PRIu32 " bytes at %" PRIu64 ": %m",
                d->path, count, offset);
  return r;
}

int
disk_pwrite (struct disk *d, const void *buf, uint32_t count,
             uint64_t offset, bool fua)
{
  int r = d->direct ? direct_pwrite (d, buf, count, offset)
                    : disk_full_pwrite (d, buf, count, offset);

  if (r == -1) {
    disk_error ("pwrite: %s: %" PRIu32 " bytes at %" PRIu64 ": %m",
                d->path, count, offset);
    return -1;
  }
  return fua ? disk_flush (d) : 0;
}

int
disk_flush (struct disk *d)
{
  if (fdatasync (d->fd) == -1) {
    disk_error ("flush: fdatasync: %s: %m", d->path);
    return -1;
  }
  return 0;
}

int
disk_cache (struct disk *d, uint32_t count, uint64_t offset)
{
  int r = posix_fadvise (d->fd, offset, count, POSIX_FADV_WILLNEED);

  if (r != 0) {
    errno = r;
    disk_error ("cache: posix_fadvise: %s: %m", d->path);
    return -1;
  }
  return 0;
}
