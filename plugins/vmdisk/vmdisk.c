/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the vmdisk plugin.
 *
 * Serves a VM's raw disk images or block devices, one export per disk
 * (the table in disks.h, its export names in exports.h; the data path
 * in disk.c, direct.c, zero.c, extents.c) and offers guest quiesce to
 * the fleece filter (quiesce.c, behind the hooks in quiesce.h).  This file holds the callback table;
 * the callbacks are thin.
 *
 * Lifetime: parameters in .config (each checked as it arrives, the
 * key named in every error), cross-checks in .config_complete, one
 * file descriptor per disk opened in .get_ready and shared by all
 * connections to its export (hence multi-conn and the parallel thread
 * model), closed in .cleanup or at the latest in .unload.  The
 * per-connection handle is the connection's struct disk, chosen in
 * .open from the export name.
 */
#include <config.h>

#include <stdint.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "disk.h"
#include "disks.h"
#include "exports.h"
#include "extents.h"
#include "help.h"
#include "quiesce.h"
#include "zero.h"

static void
vmdisk_load (void)
{
  disks_init ();
  help_init ();
}

static void
vmdisk_unload (void)
{
  disks_close ();
}

static int
vmdisk_config (const char *key, const char *value)
{
  char names[512];
  int r = vmdisk_quiesce_config (key, value);

  if (r == 0)
    r = disks_config (key, value);
  if (r != 0)
    return r == 1 ? 0 : -1;
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
  if (disks_config_complete () == -1)
    return -1;
  vmdisk_quiesce_disks (exports_names, exports_select);
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
  return disks_open ();
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
  disks_close ();
}

/* file=: "" (the only export).  disk=: "" as well, so that a client
 * asking for the default export reaches .open, which refuses it with
 * the list of export names.
 */
static const char *
vmdisk_default_export (int readonly, int is_tls)
{
  return "";
}

static int
vmdisk_list_exports (int readonly, int is_tls,
                     struct nbdkit_exports *exports)
{
  return exports_list (exports);
}

/* The handle is the connection's disk. */
static void *
vmdisk_open (int readonly)
{
  return exports_open ();
}

static int64_t
vmdisk_get_size (void *h)
{
  const struct disk *d = h;

  return d->size;
}

static int
vmdisk_block_size (void *h, uint32_t *minimum, uint32_t *preferred,
                   uint32_t *maximum)
{
  disk_block_size (h, minimum, preferred, maximum);
  return 0;
}

static int
vmdisk_can_write (void *h)
{
  const struct disk *d = h;

  return !d->readonly;
}

static int
vmdisk_can_extents (void *h)
{
  const struct disk *d = h;

  return !d->is_bdev;
}

static int
vmdisk_can_cache (void *h)
{
  const struct disk *d = h;

  /* Prefetching into a page cache that O_DIRECT bypasses is useless. */
  return d->direct ? NBDKIT_CACHE_NONE : NBDKIT_CACHE_NATIVE;
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
  return disk_pread (h, buf, count, offset);
}

static int
vmdisk_pwrite (void *h, const void *buf, uint32_t count, uint64_t offset,
               uint32_t flags)
{
  return disk_pwrite (h, buf, count, offset, flags & NBDKIT_FLAG_FUA);
}

static int
vmdisk_flush (void *h, uint32_t flags)
{
  return disk_flush (h);
}

static int
vmdisk_trim (void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
  return disk_trim (h, count, offset, flags & NBDKIT_FLAG_FUA);
}

static int
vmdisk_zero (void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
  return disk_zero (h, count, offset, flags & NBDKIT_FLAG_MAY_TRIM,
                    flags & NBDKIT_FLAG_FAST_ZERO, flags & NBDKIT_FLAG_FUA);
}

static int
vmdisk_extents (void *h, uint32_t count, uint64_t offset, uint32_t flags,
                struct nbdkit_extents *extents)
{
  return disk_extents (h, count, offset, flags & NBDKIT_FLAG_REQ_ONE,
                       extents);
}

static int
vmdisk_cache (void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
  return disk_cache (h, count, offset);
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
  .list_exports = vmdisk_list_exports,
  .default_export = vmdisk_default_export,
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
