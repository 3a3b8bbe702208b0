/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: test-fleece-stress, what its four files share.
 *
 * test-fleece-stress.c: the design, the shared state, the generations
 * and main.  fleece-stress-snap.c: the controller's snapshot open (one
 * trigger, every disk joins) and the resolution of the requests in
 * flight across it.  fleece-stress-check.c: failure reports, content
 * checks, the data pattern, random ranges, libnbd helpers.
 * fleece-stress-clients.c: the range table, live writers, snapshot
 * readers.
 *
 * Locking: `lock` protects every disk's model, the range table, the
 * counters and the flags (ops_done is also read without it,
 * atomically, for the hot zone).  A disk's `expect` is written by the
 * controller only while no reader runs.  Each libnbd handle is used by
 * one thread only.
 */
#ifndef FLEECE_STRESS_H
#define FLEECE_STRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libnbd.h>

#include "nbd-util.h"         /* die () is defined by the program */

#define MAXREQ 4096             /* in flight, plus held across an open */
#define QDEPTH 4
#define MAXDISKS 8

enum op { OP_WRITE, OP_ZERO, OP_TRIM };

/* A live request, in the range table from issue until acknowledged
 * (or, if in flight across a snapshot open, until the open completed).
 */
struct req {
  struct disk *disk;
  uint64_t off;
  uint32_t len;
  enum op op;
  uint64_t seq;                 /* identifies the data of a write */
  uint64_t issue_tick, ack_tick; /* order of issues and acks */
  bool ambiguous;               /* in flight across a snapshot open */
  bool acked;
  unsigned *inflight;           /* the issuing thread's counter */
  uint8_t *buf;
};

/* One disk: the single export "" with its snapshot export
 * "snapshot", or with FLEECE_STRESS_DISKS=N, disk dI (I < N) with its
 * snapshot export "snapshot/dI".  model is under lock; expect is the
 * controller's (see above); the rest is written only before the
 * threads start.
 */
struct disk {
  char name[16];                /* "" or "dI" */
  char live_uri[512], snap_uri[512];
  uint64_t size;
  uint64_t hot;                 /* bytes in the hot zone */
  uint8_t *model, *expect;
  bool may_break;               /* see FLEECE_STRESS_EXPECT */
};

/* Written only before the threads start. */
extern const char *op_name[];
extern struct disk disks[MAXDISKS];
extern unsigned ndisks;
extern uint32_t bs;

/* Under lock (see above). */
extern pthread_mutex_t lock;
extern pthread_cond_t cond;
extern struct req *table[MAXREQ];
extern size_t ntable;
extern bool window_open, paused, stopping;
extern uint64_t ops_done, inflight_total;
extern uint64_t generation;     /* current snapshot generation */
extern uint64_t stat_reads;     /* atomic */

/* FLEECE_STRESS_EXPECT: which failures the filter is expected to
 * report (its store is capped): none, live writes refused with ENOSPC
 * (on-cbw-error=fail-write; the snapshot must stay exact), or
 * snapshot reads failing with EIO (break-snapshot; a read that
 * succeeds must still be exact): "broken" lets every disk's snapshot
 * break, "broken:NAME" only disk NAME's (each disk has its own store
 * budget: the others must stay readable and exact).  Written only
 * before the threads start.
 */
enum expect_failures { EXPECT_NONE, EXPECT_REFUSED, EXPECT_BROKEN };
extern enum expect_failures expect_failures;
extern uint64_t stat_refused, stat_broken_reads; /* atomic */

/* ---- fleece-stress-check.c ---- */


/* Compare got with expected for [off, off+len); die on a mismatch,
 * after printing where and the first differing bytes.
 */
extern void compare (const char *what, uint64_t off,
                     const uint8_t *expected, const uint8_t *got,
                     size_t len);

/* Fill buf with what op (a write with sequence number seq, or a zero
 * or trim) leaves at [off, off+len).
 */
extern void fill (uint8_t *buf, enum op op, uint64_t seq, uint64_t off,
                  uint32_t len);

/* The next number of the xorshift64* generator with state *s. */
extern uint64_t rnd (uint64_t *s);

/* A random range of disk d, half of them in its moving hot zone: 1
 * byte to a block mostly, up to 4 blocks, and sometimes up to big
 * bytes.
 */
extern void pick_range (uint64_t *s, const struct disk *d, uint32_t big,
                        uint64_t *off, uint32_t *len);


/* The generation number in a connection's description of disk d's
 * snapshot export (with several disks, it must name d).
 */
extern uint64_t snapshot_generation (struct nbd_handle *h,
                                     const struct disk *d);

/* A snapshot connection takes its snapshot at its first data request
 * (nbdkit-fleece-filter(1)): snapshot_take reads 1 byte if H has not
 * joined one yet.  snapshot_generation_of is H's generation (H is
 * connected to disk d's snapshot export), read from a second
 * connection if H took the snapshot itself (it then shows no
 * generation).  snapshot_joined: whether H shows a snapshot.
 */
extern void snapshot_take (struct nbd_handle *h);
extern bool snapshot_joined (struct nbd_handle *h);
extern uint64_t snapshot_generation_of (struct nbd_handle *h,
                                        const struct disk *d);

/* Read all of h (size bytes) synchronously and compare it with image.
 * With may_break, a read failing with EIO (a broken snapshot) ends
 * it: returns false; otherwise true.
 */
extern bool read_all (struct nbd_handle *h, uint64_t size,
                      const uint8_t *image, const char *what,
                      bool may_break);

/* What a thread started by start_thread gets: a seed state and its
 * disk.  It is malloc'd; the thread frees it.
 */
struct targ {
  uint64_t s;
  struct disk *disk;
};

/* Start fn on a new thread for disk, given seed. */
extern void start_thread (pthread_t *t, void *(*fn) (void *),
                          uint64_t seed, struct disk *disk);

/* ---- fleece-stress-snap.c ---- */

struct amb;                     /* fleece-stress-snap.c's */

/* A generation's snapshot: a connection to every disk's snapshot
 * export, and the live requests that were in flight across its open.
 */
struct snapshot {
  struct nbd_handle *h[MAXDISKS];
  struct amb *amb;
  size_t namb;
  unsigned trigger;             /* the disk whose read took it */
  bool broken[MAXDISKS];        /* a read failed with EIO */
};

/* Statistics of the opens and resolutions (controller only). */
extern double stat_open_max_ms, stat_open_total_ms;
extern uint64_t stat_amb_in, stat_amb_out;

/* Take the next generation by a first read of a random disk's
 * snapshot export (rnd state *s), then connect to every other disk's,
 * which must join the same generation.  Every disk's expect gets its
 * model from just before the open.  Sets generation.
 */
extern void open_snapshot (struct snapshot *snap, uint64_t *s);

/* Put each request in flight across the open into its disk's expect,
 * as the snapshot shows it (entirely or not at all, or die), and check
 * that the snapshot is one instant across every disk.  Frees amb.
 */
extern void resolve (struct snapshot *snap);

/* ---- fleece-stress-clients.c ---- */

/* Remove r from the range table and free it.  Call with lock held. */
extern void remove_req (struct req *r);

/* A live writer thread (for start_thread): random requests, QDEPTH in
 * flight, until stopping; none while paused.
 */
extern void *writer (void *arg);

/* A snapshot reader thread (for start_thread): random reads of this
 * generation's snapshot, each compared with expect.
 */
extern void *reader (void *arg);

#endif /* FLEECE_STRESS_H */
