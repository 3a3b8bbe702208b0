/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the fleece filter's callback table.
 *
 * Two exports per plugin disk (disks.h: one disk "" with the exports
 * "" and "snapshot", or disk NAME with NAME and "snapshot/NAME"): the
 * live export (the plugin's own) passes everything through, with
 * copy-before-write in front of writes, zeroes and trims while a
 * snapshot is active; the snapshot export serves the disk as it was
 * when the snapshot (of every disk at once) was taken.  The
 * mechanisms: snapshot.c (lifecycle and barrier), generation.c (one
 * generation's state), disks.c (the disks and their export names),
 * blocks.c (per-block state), cbw.c (the live side), snapread.c (the
 * snapshot side), store.c (preserved data), quiesce.c (guest
 * freeze/thaw, through the plugin's provider or the quiesce library's
 * guard for quiesce-command=), access.c (who may open the snapshot),
 * progress.c (what a backup must read), params.c (parameters).
 *
 * Both kinds of connection open the plugin at their disk's live
 * export; snapshot connections open it read-only.  A snapshot connection is
 * checked against snapshot-allow-user/-group in .open, before the
 * plugin is opened, so a refused client never creates a snapshot.
 * In .prepare it joins the active snapshot, if there is one; it
 * creates one only at its first data request (read, extents, cache,
 * trim).  nbdkit 1.32 runs .open/.prepare for NBD_OPT_INFO exactly as
 * for NBD_OPT_GO, so listing exports (nbdinfo --list) must not be
 * what takes a snapshot.  Until it has joined, the connection shows
 * the plugin's size and a description saying that no snapshot exists.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-filter.h>

#include "access.h"
#include "cbw.h"
#include "cleanup.h"
#include "control/control.h"
#include "disks.h"
#include "fleece.h"
#include "params.h"
#include "progress.h"
#include "quiesce.h"
#include "snapread.h"
#include "snapshot.h"

int fleece_debug_verbose;
int fleece_debug_cbw_delay_ms;

struct handle {
  size_t disk;                  /* which disk (disks.h) */
  bool snapshot;                /* a connection to its snapshot export */
  bool joined;                  /* it joined generation gen: written
                                 * once, under lock (release), read
                                 * atomically (acquire) */
  uint64_t gen;                 /* set before joined */
  bool join_failed;             /* under lock: its snapshot was not
                                 * taken; it does not try again */
  pthread_mutex_t lock;         /* serialises joining */
};

/* The description of a snapshot connection that has not joined. */
#define NO_SNAPSHOT_YET "fleece snapshot export: no snapshot is active " \
  "yet; the first read, extents, cache or trim request takes one"

static int
fleece_config (nbdkit_next_config *next, nbdkit_backend *nxdata,
               const char *key, const char *value)
{
  int r = params_config (key, value);

  if (r != 0)
    return r == 1 ? 0 : -1;
  /* nbdkit exits in next() if the plugin refuses key: the armed hint
   * then says whether a fleece parameter was meant.
   */
  params_hint_arm (key);
  r = next (nxdata, key, value);
  params_hint_arm (NULL);
  return r;
}

static int
fleece_config_complete (nbdkit_next_config_complete *next,
                        nbdkit_backend *nxdata)
{
  if (params_complete () == -1)
    return -1;
  return next (nxdata);
}

static int
fleece_get_ready (int thread_model)
{
  if (disks_get_ready () == -1)
    return -1;
  return quiesce_get_ready ();
}

static int
fleece_after_fork (nbdkit_backend *backend)
{
  /* Before anything can freeze: thaw what a dead nbdkit left frozen. */
  if (quiesce_after_fork () == -1)
    return -1;
  if (snapshot_start (backend) == -1)
    return -1;
  return control_start ();
}

static void
fleece_cleanup (nbdkit_backend *backend)
{
  control_stop ();
  snapshot_stop ();
}

static void
fleece_unload (void)
{
  disks_unload ();
  quiesce_unload ();
  params_unload ();
}

static int
fleece_list_exports (nbdkit_next_list_exports *next, nbdkit_backend *nxdata,
                     int readonly, int is_tls, struct nbdkit_exports *exports)
{
  if (next (nxdata, readonly, exports) == -1)
    return -1;
  return disks_list_snapshots (exports);
}

static void *
fleece_open (nbdkit_next_open *next, nbdkit_context *context,
             int readonly, const char *exportname, int is_tls)
{
  bool snap;
  int disk = disks_lookup (exportname, &snap);
  struct handle *h;

  if (disk == -1)
    return NULL;
  if (snap && access_check_snapshot (exportname) == -1)
    return NULL;
  if (next (context, readonly || snap, fleece_disks[disk].live) == -1)
    return NULL;
  h = calloc (1, sizeof *h);
  if (h == NULL) {
    nbdkit_error ("calloc: %m");
    return NULL;
  }
  h->disk = disk;
  h->snapshot = snap;
  pthread_mutex_init (&h->lock, NULL);
  return h;
}

static int
fleece_prepare (nbdkit_next *next, void *handle, int readonly)
{
  struct handle *h = handle;
  int r;

  if (!h->snapshot)
    return 0;
  /* nbdkit checks every request against the plugin context's size,
   * which it learns from get_size: ask it even when joining.
   */
  if (next->get_size (next) == -1)
    return -1;
  /* Join an active snapshot now; never create one here. */
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&h->lock);
  if ((r = snapshot_join (next, h->disk, false, &h->gen)) == -1)
    return -1;
  __atomic_store_n (&h->joined, r == 1, __ATOMIC_RELEASE);
  if (r == 1)
    progress_measure (next, h->disk, h->gen);
  return 0;
}

/* Before a snapshot connection's data request: join the active
 * snapshot, or create one.  One attempt per connection: after a
 * failure (quiesce=require and no freeze, say) its requests fail at
 * once, rather than each retrying the freeze.  0, or -1 with *err set.
 */
static int
join (nbdkit_next *next, struct handle *h, int *err)
{
  if (__atomic_load_n (&h->joined, __ATOMIC_ACQUIRE))
    return 0;
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&h->lock);
  if (h->joined)
    return 0;
  if (h->join_failed)
    nbdkit_error ("fleece: this connection's snapshot could not be taken "
                  "(see the earlier error): reconnect to try again");
  else if (snapshot_join (next, h->disk, true, &h->gen) == -1)
    h->join_failed = true;
  else {
    __atomic_store_n (&h->joined, true, __ATOMIC_RELEASE);
    progress_measure (next, h->disk, h->gen);
    return 0;
  }
  *err = EIO;
  return -1;
}

static void
fleece_close (void *handle)
{
  struct handle *h = handle;

  if (h->joined)
    snapshot_leave (h->gen);
  pthread_mutex_destroy (&h->lock);
  free (h);
}

static int64_t
fleece_get_size (nbdkit_next *next, void *handle)
{
  struct handle *h = handle;

  if (h->snapshot) {
    SNAPSHOT_SCOPE (s);
    if (s && s->generation == h->gen)
      return s->disk[h->disk].size;
  }
  return next->get_size (next);
}

static const char *
fleece_export_description (nbdkit_next *next, void *handle)
{
  struct handle *h = handle;

  if (h->snapshot) {
    SNAPSHOT_SCOPE (s);
    if (!__atomic_load_n (&h->joined, __ATOMIC_ACQUIRE))
      return NO_SNAPSHOT_YET;
    return s && s->generation == h->gen ?
      nbdkit_strdup_intern (s->disk[h->disk].description) : NULL;
  }
  return next->export_description (next);
}

/* The snapshot export: writes and zeroes are refused, trim releases. */
#define SNAPSHOT_OR(h, snapval, liveexpr) \
  (((struct handle *) (h))->snapshot ? (snapval) : (liveexpr))

static int
fleece_can_write (nbdkit_next *next, void *h)
{
  return SNAPSHOT_OR (h, 1, next->can_write (next));
}

static int
fleece_can_flush (nbdkit_next *next, void *h)
{
  return SNAPSHOT_OR (h, 1, next->can_flush (next));
}

static int
fleece_can_trim (nbdkit_next *next, void *h)
{
  return SNAPSHOT_OR (h, 1, next->can_trim (next));
}

static int
fleece_can_zero (nbdkit_next *next, void *h)
{
  return SNAPSHOT_OR (h, NBDKIT_ZERO_NATIVE, next->can_zero (next));
}

static int
fleece_can_fast_zero (nbdkit_next *next, void *h)
{
  return SNAPSHOT_OR (h, 1, next->can_fast_zero (next));
}

static int
fleece_can_fua (nbdkit_next *next, void *h)
{
  return SNAPSHOT_OR (h, NBDKIT_FUA_NONE, next->can_fua (next));
}

static int
fleece_can_multi_conn (nbdkit_next *next, void *h)
{
  return SNAPSHOT_OR (h, 1, next->can_multi_conn (next));
}

static int
fleece_can_extents (nbdkit_next *next, void *h)
{
  return SNAPSHOT_OR (h, 1, next->can_extents (next));
}

static int
fleece_can_cache (nbdkit_next *next, void *h)
{
  return SNAPSHOT_OR (h, NBDKIT_CACHE_NATIVE, next->can_cache (next));
}

static int
refuse_write (int *err)
{
  nbdkit_error ("fleece: the snapshot export is read-only (writes and "
                "zeroes are refused; trim releases blocks)");
  *err = EROFS;
  return -1;
}

static int
fleece_pread (nbdkit_next *next, void *handle, void *buf, uint32_t count,
              uint64_t offset, uint32_t flags, int *err)
{
  struct handle *h = handle;

  if (h->snapshot)
    return join (next, h, err) == -1 ? -1
      : snap_pread (next, h->disk, h->gen, buf, count, offset, err);
  return next->pread (next, buf, count, offset, flags, err);
}

static int
fleece_pwrite (nbdkit_next *next, void *handle, const void *buf,
               uint32_t count, uint64_t offset, uint32_t flags, int *err)
{
  struct handle *h = handle;

  if (h->snapshot)
    return refuse_write (err);
  SNAPSHOT_SCOPE (s);
  if (s && cbw_preserve (next, &s->disk[h->disk], offset, count, false,
                         err) == -1)
    return -1;
  return next->pwrite (next, buf, count, offset, flags, err);
}

static int
fleece_zero (nbdkit_next *next, void *handle, uint32_t count,
             uint64_t offset, uint32_t flags, int *err)
{
  struct handle *h = handle;

  if (h->snapshot)
    return refuse_write (err);
  SNAPSHOT_SCOPE (s);
  if (s && cbw_preserve (next, &s->disk[h->disk], offset, count,
                         flags & NBDKIT_FLAG_FAST_ZERO, err) == -1)
    return -1;
  return next->zero (next, count, offset, flags, err);
}

static int
fleece_trim (nbdkit_next *next, void *handle, uint32_t count,
             uint64_t offset, uint32_t flags, int *err)
{
  struct handle *h = handle;

  if (h->snapshot)
    return join (next, h, err) == -1 ? -1
      : snap_release (h->disk, h->gen, count, offset, err);
  SNAPSHOT_SCOPE (s);
  if (s && cbw_preserve (next, &s->disk[h->disk], offset, count, false,
                         err) == -1)
    return -1;
  return next->trim (next, count, offset, flags, err);
}

static int
fleece_flush (nbdkit_next *next, void *handle, uint32_t flags, int *err)
{
  struct handle *h = handle;

  return h->snapshot ? 0 : next->flush (next, flags, err);
}

static int
fleece_extents (nbdkit_next *next, void *handle, uint32_t count,
                uint64_t offset, uint32_t flags,
                struct nbdkit_extents *extents, int *err)
{
  struct handle *h = handle;

  if (h->snapshot)
    return join (next, h, err) == -1 ? -1
      : snap_extents (next, h->disk, h->gen, count, offset, flags,
                      extents, err);
  return next->extents (next, count, offset, flags, extents, err);
}

static int
fleece_cache (nbdkit_next *next, void *handle, uint32_t count,
              uint64_t offset, uint32_t flags, int *err)
{
  struct handle *h = handle;

  if (h->snapshot)
    return join (next, h, err) == -1 ? -1
      : snap_cache (next, h->disk, h->gen, count, offset, err);
  return next->cache (next, count, offset, flags, err);
}

static struct nbdkit_filter filter = {
  .name               = "fleece",
  .longname           = "nbdkit fleece filter (point-in-time snapshot export)",
  .config             = fleece_config,
  .config_complete    = fleece_config_complete,
  .config_help        = params_help,
  .get_ready          = fleece_get_ready,
  .after_fork         = fleece_after_fork,
  .cleanup            = fleece_cleanup,
  .unload             = fleece_unload,
  .list_exports       = fleece_list_exports,
  .open               = fleece_open,
  .prepare            = fleece_prepare,
  .close              = fleece_close,
  .get_size           = fleece_get_size,
  .export_description = fleece_export_description,
  .can_write          = fleece_can_write,
  .can_flush          = fleece_can_flush,
  .can_trim           = fleece_can_trim,
  .can_zero           = fleece_can_zero,
  .can_fast_zero      = fleece_can_fast_zero,
  .can_fua            = fleece_can_fua,
  .can_multi_conn     = fleece_can_multi_conn,
  .can_extents        = fleece_can_extents,
  .can_cache          = fleece_can_cache,
  .pread              = fleece_pread,
  .pwrite             = fleece_pwrite,
  .zero               = fleece_zero,
  .trim               = fleece_trim,
  .flush              = fleece_flush,
  .extents            = fleece_extents,
  .cache              = fleece_cache,
};

NBDKIT_REGISTER_FILTER (filter)
