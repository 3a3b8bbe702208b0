/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the store, where preserved blocks are kept.
 *
 * One store per disk: sparse, unlinked scratch files in fleece-dir
 * (striped, see store.c), addressed at the same offsets as the disk,
 * so no index is needed.  Their allocated bytes are accounted against
 * fleece-max-size (0: no cap), a budget per disk.  Thread-safe: the
 * only shared state is the byte counter (atomic); pread/pwrite on the
 * fds need no lock.
 */
#ifndef FLEECE_STORE_H
#define FLEECE_STORE_H

#include <stdint.h>
#include <stddef.h>

/* One disk's store. */
struct store;

/* Create the scratch files of disk name ("" for the one disk of a
 * single-disk server) in dir (mode 0600, unlinked at once), capped at
 * max_size bytes (0: no cap).  NULL after nbdkit_error naming the
 * directory and the fix.
 */
extern struct store *store_open (const char *dir, uint64_t max_size,
                                 const char *name);

/* Close it (at unload).  NULL is ignored. */
extern void store_close (struct store *);

/* Write len bytes of old data at offset, accounting `account` bytes
 * (whole blocks, so the disk's partial last block counts as a block).
 * Reserves the space against the store's cap first.  Returns 0, or -1
 * with errno set (ENOSPC when the cap or the file system is full) and
 * the cause in why[why_len].
 */
extern int store_write (struct store *, const void *buf, size_t len,
                        uint64_t offset, uint64_t account, char *why,
                        size_t why_len);

/* Read len bytes at offset.  0 or -1 with errno set. */
extern int store_read (struct store *, void *buf, size_t len,
                       uint64_t offset);

/* Give back [offset, offset+len) (released blocks): punch a hole and
 * lower the count by `account` bytes.  Errors are logged, not
 * returned: the data is no longer needed either way.
 */
extern void store_discard (struct store *, uint64_t offset, uint64_t len,
                           uint64_t account);

/* Drop everything (the snapshot ended): the files are truncated to 0;
 * a file that cannot be (its file system failed) is replaced by a new
 * one in fleece-dir if one can be made there.  Call only with no
 * generation active (no store I/O in flight).
 */
extern void store_reset (struct store *);

/* Bytes currently accounted. */
extern uint64_t store_bytes (struct store *);

#endif /* FLEECE_STORE_H */
