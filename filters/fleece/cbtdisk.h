/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: one disk's changed-block map in memory, shared by the
 * tracking's own files only (cbt.h is the interface).
 *
 * map[g] is the code (cbtmap.h) of the generation that last wrote
 * granule g, as the file holds it durably: it changes only after the
 * fdatasync that made the new value durable.  Writers whose granules
 * need a new code queue the ranges in pend[] and one of them (the
 * syncer) writes and syncs everything queued, for all of them.
 * prev[g]/saved[g]: the value map[g] had at the last checkpoint, if it
 * has changed since (the view of the active snapshot).
 *
 * Locking: lock protects everything here; map bytes are also read
 * without it, atomically (the fast path of a write), and written with
 * it held, atomically.  map, prev and saved are replaced only with the
 * barrier's write side held (no writer is running).  attached is set
 * once, with release, under lock.
 */
#ifndef FLEECE_CBTDISK_H
#define FLEECE_CBTDISK_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "cbtmap.h"

#define CBT_PENDING_MAX 64

struct cbt_range {
  uint64_t first, end;          /* granules [first, end) */
};

struct cdisk {
  pthread_mutex_t lock;
  pthread_cond_t synced;        /* done advanced or syncing ended */
  bool attached;                /* the map is open and checked */
  int fd;
  struct cbtmap_header h;
  uint64_t ngran;
  uint8_t *map;
  uint8_t *prev, *saved;        /* since the last checkpoint */
  uint8_t *next_prev, *next_saved; /* zeroed, for the next one */
  struct cbt_range pend[CBT_PENDING_MAX];
  size_t npend;
  uint64_t batch;               /* the batch pend[] belongs to */
  uint64_t done;                /* the last batch made durable */
  bool syncing;
  bool failed;                  /* a map write failed: writes get EIO */
  char distrust[CBTMAP_REASON]; /* this run's reason to refuse queries */
  char path[PATH_MAX];
};

extern struct cdisk cbt_disks[];
extern uint64_t cbt_gen;        /* current generation (barrier) */
extern uint8_t cbt_vm_uuid[16];

/* The path of disk i's map. */
extern void cbt_map_path (size_t i, char *buf, size_t len);

/* Open and check disk i's map (size: the disk's size now), lock held.
 * 0 or -1 after nbdkit_error.
 */
extern int cbt_attach (size_t i, uint64_t size);

/* Mark granules [first, end) of d with the current code, durably.  0
 * or -1 (errno set) after nbdkit_error.
 */
extern int cbt_mark_range (struct cdisk *d, uint64_t first, uint64_t end);

#endif /* FLEECE_CBTDISK_H */
