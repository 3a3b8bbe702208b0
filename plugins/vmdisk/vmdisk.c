/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the vmdisk plugin.
 *
 * Serves one raw disk image or block device (disk.c, direct.c,
 * zero.c, extents.c) and offers guest quiesce to the fleece filter
 * (quiesce.c, behind the hooks in quiesce.h).  This file holds the
 * parameters and the callback table; the callbacks are thin.
 *
 * Lifetime: parameters in .config (each checked as it arrives, the
 * key named in every error), cross-checks in .config_complete, the one
 * file descriptor opened in .get_ready and shared by all connections
 * (hence multi-conn and the parallel thread model), closed in
 * .cleanup or at the latest in .unload.  The per-connection handle
 * carries nothing.
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "disk.h"
#include "extents.h"
#include "help.h"
#include "quiesce.h"
#include "zero.h"

static struct disk disk;

static void
vmdisk_load (void)
{
  disk_init (&disk);
  help_init ();
}

static void
vmdisk_unload (void)
{
  disk_close (&disk);
}

static int
parse_readonly (const char *value)
{
  static const char *const yes[] = { "true", "yes", "on", "1" };
  static const char *const no[] = { "false", "no", "off", "0" };
  size_t i;

  for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    if (strcasecmp (value, yes[i]) == 0) {
      disk.readonly = true;
      return 0;
    }
    if (strcasecmp (value, no[i]) == 0) {
      disk.readonly = false;
      return 0;
    }
  }
  nbdkit_error ("readonly=%s: expected true or false", value);
  return -1;
}

static int
parse_file (const char *value)
{
  if (disk.path) {
    nbdkit_error ("file= given twice: one nbdkit serves one disk; give "
                  "file= once");
    return -1;
  }
  if (*value == '\0') {
    nbdkit_error ("file= is empty: give the path of a raw disk image or "
                  "block device");
    return -1;
  }
  disk.path = nbdkit_absolute_path (value);
  return disk.path ? 0 : -1;
}

static int
vmdisk_config (const char *key, const char *value)
{
  char names[512];
  int r = vmdisk_quiesce_config (key, value);

  if (r != 0)
    return r == 1 ? 0 : -1;
  if (strcmp (key, "file") == 0)
    return parse_file (value);
  if (strcmp (key, "readonly") == 0)
    return parse_readonly (value);
  if (strcmp (key, "cache") == 0) {
    if (strcmp (value, "writeback") == 0 || strcmp (value, "none") == 0) {
      disk.direct = strcmp (value, "none") == 0;
      return 0;
    }
    nbdkit_error ("cache=%s: expected writeback (the default) or none "
                  "(O_DIRECT)", value);
    return -1;
  }
  help_param_names (names, sizeof names);
  nbdkit_error ("unknown parameter '%s': vmdisk takes %s (see: nbdkit "
                "vmdisk --help); the fleece filter's parameters are listed "
                "by nbdkit --filter=fleece vmdisk --help and in "
                "nbdkit-fleece-filter(1)", key, names);
  return -1;
}

static int
vmdisk_config_complete (void)
{
  if (disk.path == NULL) {
    nbdkit_error ("file= is required: name the raw disk image or block "
                  "device, e.g. nbdkit vmdisk file=disk.img");
    return -1;
  }
  if (disk_check_path (&disk) == -1)
    return -1;
  return vmdisk_quiesce_config_complete ();
}

static void
vmdisk_dump_plugin (void)
{
  help_dump_params ();
}

static int
vmdisk_get_ready (void)
{
  return disk_open (&disk);
}

static int
vmdisk_after_fork (void)
{
  return vmdisk_quiesce_after_fork ();
}

static void
vmdisk_cleanup (void)
{
  vmdisk_quiesce_cleanup ();
  disk_close (&disk);
}

static void *
vmdisk_open (int readonly)
{
  return NBDKIT_HANDLE_NOT_NEEDED;
}

static int64_t
vmdisk_get_size (void *h)
{
  return disk.size;
}

static int
vmdisk_block_size (void *h, uint32_t *minimum, uint32_t *preferred,
                   uint32_t *maximum)
{
  disk_block_size (&disk, minimum, preferred, maximum);
  return 0;
}

static int
vmdisk_can_write (void *h)
{
  return !disk.readonly;
}

static int
vmdisk_can_extents (void *h)
{
  return !disk.is_bdev;
}

static int
vmdisk_can_cache (void *h)
{
  /* Prefetching into a page cache that O_DIRECT bypasses is useless. */
  return disk.direct ? NBDKIT_CACHE_NONE : NBDKIT_CACHE_NATIVE;
}

static int
vmdisk_can_fua (void *h)
{
  return NBDKIT_FUA_NATIVE;
}

static int
vmdisk_true (void *h)
{
  return 1;
}

static int
vmdisk_pread (void *h, void *buf, uint32_t count, uint64_t offset,
              uint32_t flags)
{
  return disk_pread (&disk, buf, count, offset);
}

static int
vmdisk_pwrite (void *h, const void *buf, uint32_t count, uint64_t offset,
               uint32_t flags)
{
  return disk_pwrite (&disk, buf, count, offset, flags & NBDKIT_FLAG_FUA);
}

static int
vmdisk_flush (void *h, uint32_t flags)
{
  return disk_flush (&disk);
}

static int
vmdisk_trim (void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
  return disk_trim (&disk, count, offset, flags & NBDKIT_FLAG_FUA);
}

static int
vmdisk_zero (void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
  return disk_zero (&disk, count, offset, flags & NBDKIT_FLAG_MAY_TRIM,
                    flags & NBDKIT_FLAG_FAST_ZERO, flags & NBDKIT_FLAG_FUA);
}

static int
vmdisk_extents (void *h, uint32_t count, uint64_t offset, uint32_t flags,
                struct nbdkit_extents *extents)
{
  return disk_extents (&disk, count, offset, flags & NBDKIT_FLAG_REQ_ONE,
                       extents);
}

static int
vmdisk_cache (void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
  return disk_cache (&disk, count, offset);
}

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

static struct nbdkit_plugin plugin = {
  .name = "vmdisk",
  .longname = "nbdkit-fleece vmdisk plugin",
  .version = PACKAGE_VERSION,
  .description = "Serve a VM's raw disk image or block device, with "
                 "guest quiesce for the fleece filter",
  .load = vmdisk_load,
  .unload = vmdisk_unload,
  .config = vmdisk_config,
  .config_complete = vmdisk_config_complete,
  .config_help = vmdisk_help_text,
  .magic_config_key = "file",
  .errno_is_preserved = 1,      /* data path errors are in errno */
  .dump_plugin = vmdisk_dump_plugin,
  .get_ready = vmdisk_get_ready,
  .after_fork = vmdisk_after_fork,
  .cleanup = vmdisk_cleanup,
  .open = vmdisk_open,
  .get_size = vmdisk_get_size,
  .block_size = vmdisk_block_size,
  .can_write = vmdisk_can_write,
  .can_flush = vmdisk_true,
  .can_fua = vmdisk_can_fua,
  .can_trim = vmdisk_true,
  .can_zero = vmdisk_true,
  .can_fast_zero = vmdisk_true,
  .can_extents = vmdisk_can_extents,
  .can_cache = vmdisk_can_cache,
  .can_multi_conn = vmdisk_true,
  .pread = vmdisk_pread,
  .pwrite = vmdisk_pwrite,
  .flush = vmdisk_flush,
  .trim = vmdisk_trim,
  .zero = vmdisk_zero,
  .extents = vmdisk_extents,
  .cache = vmdisk_cache,
};

NBDKIT_REGISTER_PLUGIN (plugin)
