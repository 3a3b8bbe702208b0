/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's disk, one open file or block device.
 *
 * The disk table (disks.h) owns one struct disk per export.
 * disk_check_path validates its path in .config_complete, disk_open
 * opens it once in .get_ready, and every connection to its export
 * then shares that one descriptor (which is why the plugin
 * can advertise multi-conn: all connections see one page cache, and
 * fdatasync on the descriptor covers the writes of all of them).
 *
 * Errors: parameter problems get one nbdkit_error naming the
 * parameter (param: file=PATH or disk=NAME:PATH) and the fix.  Data path functions return -1 with errno set after one
 * nbdkit_error naming the operation, 0 on success.
 *
 * Locking: after disk_open the struct is read-only, except
 * no_zero_range and no_punch_hole (atomic flags) and rmw_lock.  With
 * cache=none (direct), rmw_lock is held exclusively by an unaligned
 * write (a read-modify-write, see direct.h) and shared by everything
 * else that changes data: aligned writes, zero and trim.  Reads never
 * take it.  With cache=writeback nothing takes it.
 */
#ifndef VMDISK_DISK_H
#define VMDISK_DISK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct disk {
  char name[64];                /* export name: "" for file=, else NAME */
  char *param;                  /* "file=PATH" or "disk=NAME:PATH", for errors */
  char *path;                   /* PATH, made absolute */
  bool readonly;                /* readonly=true */
  bool direct;                  /* cache=none: O_DIRECT */

  /* Set by disk_open. */
  int fd;                       /* -1 when not open */
  bool is_bdev;                 /* a block device, else a regular file */
  uint64_t size;                /* export size, fixed at disk_open */
  uint32_t align;               /* O_DIRECT offset/length alignment, 1 if !direct */
  uint32_t mem_align;           /* O_DIRECT buffer alignment, 1 if !direct */
  uint32_t lbs, pbs;            /* block device logical/physical sector, 0 for files */

  bool no_zero_range;           /* FALLOC_FL_ZERO_RANGE said EOPNOTSUPP (atomic) */
  bool no_punch_hole;           /* FALLOC_FL_PUNCH_HOLE said EOPNOTSUPP (atomic) */
  pthread_rwlock_t rmw_lock;    /* see the locking rule above */
};

/* -D vmdisk.verbose=1: log decisions and fallbacks. */
extern int vmdisk_debug_verbose;

/* Initialise a disk with no file (fd -1, writeback, read-write). */
extern void disk_init (struct disk *d);

/* .config_complete: d->path must exist and be a regular file or a
 * block device.  0, or -1 after one nbdkit_error.
 */
extern int disk_check_path (const struct disk *d);

/* .get_ready: open d->path as configured, find its size, sector sizes
 * and direct I/O alignment, and refuse sizes that cannot be a disk.
 * 0, or -1 after one nbdkit_error naming param and the fix.
 */
extern int disk_open (struct disk *d);

/* Close the descriptor, free path and param.  Safe to call twice. */
extern void disk_close (struct disk *d);

/* Minimum, preferred and maximum block sizes for .block_size. */
extern void disk_block_size (const struct disk *d, uint32_t *minimum,
                             uint32_t *preferred, uint32_t *maximum);

/* Read or write exactly count bytes at offset, going through direct.c
 * when d->direct.  A write with fua returns after fdatasync.
 */
extern int disk_pread (struct disk *d, void *buf, uint32_t count,
                       uint64_t offset);
extern int disk_pwrite (struct disk *d, const void *buf, uint32_t count,
                        uint64_t offset, bool fua);

/* fdatasync. */
extern int disk_flush (struct disk *d);

/* Prefetch into the page cache (posix_fadvise WILLNEED). */
extern int disk_cache (struct disk *d, uint32_t count, uint64_t offset);

/* Plain full-length pread/pwrite on d->fd, retrying short transfers.
 * No alignment handling and no error message: errno is set (EIO for an
 * unexpected end of file).  For disk.c and direct.c.
 */
extern int disk_full_pread (const struct disk *d, void *buf, size_t count,
                            uint64_t offset);
extern int disk_full_pwrite (const struct disk *d, const void *buf,
                             size_t count, uint64_t offset);

/* nbdkit_error that leaves errno as it was, for data path failures. */
#define disk_error(fmt, ...)                                            \
  do {                                                                  \
    int disk_error_errno_ = errno;                                      \
    nbdkit_error (fmt, ##__VA_ARGS__);                                  \
    errno = disk_error_errno_;                                          \
  } while (0)

#endif /* VMDISK_DISK_H */
