/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the store (see store.h).
 *
 * Accounting: store_write adds len to `used` before writing, and backs
 * it out if the cap would be passed or the write fails, so concurrent
 * copies can never overshoot fleece-max-size together.  The count is
 * of whole blocks written (block-aligned, so this is what the file
 * allocates; the disk's partial last block counts as a whole block).
 *
 * Striping: the store is STORE_FILES sparse files; the 1 MiB stripe
 * at disk offset o lives at offset o of file (o / 1 MiB) % STORE_FILES.
 * Linux file systems serialise writers of one file on its inode lock,
 * which was the largest cost of concurrent copies in profiles
 * (docs/performance.md); stripes keep adjacent blocks together, so a
 * coalesced copy is still one write per stripe.
 *
 * Failure: a store I/O error fails the store_write or store_read
 * (the caller breaks the snapshot or fails the request).  The files
 * stay open on the failed file system until the snapshot ends; then
 * store_reset, finding it cannot truncate them, replaces them with
 * new files in fleece-dir, so a repaired or freshly mounted file
 * system there serves the next generation without a restart.  No
 * lock: store_reset runs only when no generation is active.
 *
 * One store per disk (each with its own fleece-max-size budget), so a
 * disk that fills its store breaks only its own snapshot.
 *
 * Not handled: a store on a file system without hole punching still
 * works, but released blocks only free space at the end of the
 * snapshot (truncate), which every Linux file system supports.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>

#include <nbdkit-filter.h>

#include "full-rw.h"
#include "store.h"

#define STORE_FILES 8
#define STRIPE_SHIFT 20

struct store {
  int fds[STORE_FILES];
  uint64_t max_size;
  uint64_t used;                /* atomic */
  char *dir;
  char *name;                   /* the disk, for messages ("" : one disk) */
};

/* One unlinked scratch file in dir, or -1 with errno set. */
static int
open_scratch (const char *dir)
{
  char *tmpl = NULL;
  int fd = open (dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

  if (fd == -1 && (errno == EOPNOTSUPP || errno == EISDIR)) {
    /* File systems without O_TMPFILE: a named file, unlinked at once. */
    if (asprintf (&tmpl, "%s/fleece-store.XXXXXX", dir) == -1)
      return -1;
    fd = mkostemp (tmpl, O_CLOEXEC);
    if (fd >= 0)
      unlink (tmpl);
    free (tmpl);
  }
  return fd;
}

struct store *
store_open (const char *dir, uint64_t max, const char *name)
{
  struct store *st = calloc (1, sizeof *st);
  size_t i;

  if (st == NULL || (st->dir = strdup (dir)) == NULL ||
      (st->name = strdup (name)) == NULL) {
    nbdkit_error ("fleece: allocating a store: %m");
    store_close (st);
    return NULL;
  }
  st->max_size = max;
  for (i = 0; i < STORE_FILES; i++)
    st->fds[i] = -1;
  for (i = 0; i < STORE_FILES; i++) {
    if ((st->fds[i] = open_scratch (dir)) == -1) {
      nbdkit_error ("fleece-dir=%s: cannot create the store there: %m "
                    "(give a writable directory with space for the "
                    "copied blocks)", dir);
      store_close (st);
      return NULL;
    }
  }
  return st;
}

void
store_close (struct store *st)
{
  size_t i;

  if (st == NULL)
    return;
  for (i = 0; i < STORE_FILES; i++) {
    if (st->fds[i] >= 0)
      close (st->fds[i]);
  }
  free (st->dir);
  free (st->name);
  free (st);
}

/* The length of [off, off+len) that lies in off's stripe. */
static size_t
piece (uint64_t off, size_t len)
{
  uint64_t left = (UINT64_C (1) << STRIPE_SHIFT) -
    (off & ((UINT64_C (1) << STRIPE_SHIFT) - 1));

  return len < left ? len : left;
}

static int
fd_of (struct store *st, uint64_t off)
{
  return st->fds[(off >> STRIPE_SHIFT) % STORE_FILES];
}

/* pread or pwrite [off, off+len) stripe by stripe.  0 or -1 (errno). */
static int
stripe_io (struct store *st, bool write, char *buf, size_t len, uint64_t off)
{
  size_t n;
  int r = 0;

  for (; len > 0 && r == 0; buf += n, off += n, len -= n) {
    n = piece (off, len);
    r = write ? full_pwrite (fd_of (st, off), buf, n, off)
      : full_pread (fd_of (st, off), buf, n, off);
  }
  return r;
}

static void
unreserve (struct store *st, uint64_t len)
{
  __atomic_sub_fetch (&st->used, len, __ATOMIC_SEQ_CST);
}

static int
reserve (struct store *st, uint64_t len, char *why, size_t why_len)
{
  uint64_t now = __atomic_add_fetch (&st->used, len, __ATOMIC_SEQ_CST);

  if (st->max_size > 0 && now > st->max_size) {
    unreserve (st, len);
    snprintf (why, why_len,
              "store full: fleece-max-size=%" PRIu64 " bytes reached%s%s "
              "(store in %s); raise fleece-max-size, or back up faster",
              st->max_size, *st->name ? " by disk " : "", st->name, st->dir);
    errno = ENOSPC;
    return -1;
  }
  return 0;
}

int
store_write (struct store *st, const void *buf, size_t len, uint64_t offset,
             uint64_t account, char *why, size_t why_len)
{
  int e;

  if (reserve (st, account, why, why_len) == -1)
    return -1;
  if (stripe_io (st, true, (char *) buf, len, offset) == 0)
    return 0;
  e = errno;
  unreserve (st, account);
  snprintf (why, why_len, "%s writing the store in fleece-dir=%s: %s%s",
            e == ENOSPC ? "store full" : "I/O error", st->dir,
            strerror (e),
            e == ENOSPC ? " (free space there or choose another fleece-dir)"
            : "");
  errno = e;
  return -1;
}

int
store_read (struct store *st, void *buf, size_t len, uint64_t offset)
{
  /* A PRESERVED block was written whole: a short file is an error
   * (EIO), never zeroes made up.
   */
  return stripe_io (st, false, buf, len, offset);
}

void
store_discard (struct store *st, uint64_t offset, uint64_t len,
               uint64_t account)
{
  uint64_t n;

  for (; len > 0; offset += n, len -= n) {
    n = piece (offset, len);
    if (fallocate (fd_of (st, offset),
                   FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset,
                   n) == -1) {
      nbdkit_debug ("fleece: store: punching a hole: %m "
                    "(space is freed when the snapshot ends)");
      break;
    }
  }
  unreserve (st, account);
}

/* A scratch file that cannot be truncated sits on a failed file
 * system (I/O error, shut down, remounted read-only): replace it with
 * a new one in fleece-dir, which works again once the file system
 * there is repaired or a fresh one is mounted.  0, or -1 (errno) and
 * the old file is kept.
 */
static int
replace_scratch (struct store *st, size_t i)
{
  int fd = open_scratch (st->dir);

  if (fd == -1)
    return -1;
  close (st->fds[i]);
  st->fds[i] = fd;
  return 0;
}

void
store_reset (struct store *st)
{
  size_t i;
  int e = 0, open_e = 0;

  for (i = 0; i < STORE_FILES; i++) {
    if (ftruncate (st->fds[i], 0) == 0)
      continue;
    if (e == 0)
      e = errno;
    if (replace_scratch (st, i) == -1)
      open_e = errno;
  }
  /* One line, not one per file. */
  if (e != 0 && open_e == 0)
    nbdkit_error ("fleece: store: truncating the store in %s: %s; "
                  "replaced it with new files there", st->dir,
                  strerror (e));
  else if (e != 0)
    nbdkit_error ("fleece: store: truncating the store in %s: %s, and "
                  "no new files can be made there: %s (snapshots break "
                  "until fleece-dir works again and one more has ended)",
                  st->dir, strerror (e), strerror (open_e));
  __atomic_store_n (&st->used, 0, __ATOMIC_SEQ_CST);
}

uint64_t
store_bytes (struct store *st)
{
  return __atomic_load_n (&st->used, __ATOMIC_SEQ_CST);
}
