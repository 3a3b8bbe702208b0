/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup: the copy of one disk (see backup-copy.h). */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libnbd.h>

#include "backup-copy.h"

#define TICK_MS 500
#define MAX_EXTENTS 256         /* used of one block status reply */

struct worker {
  struct copy *c;
  struct nbd_handle *src, *dst;
  pthread_t thread;
  bool started;
  char *buf;                    /* COPY_PIECE bytes */
  uint32_t ext[2 * MAX_EXTENTS]; /* block status: (length, flags) pairs */
  size_t next;                  /* entries in ext */
};

/* Record the first failure, under lock. */
static void
fail (struct copy *c, uint64_t offset, const char *fmt, ...)
{
  char cause[768];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (cause, sizeof cause, fmt, ap);
  va_end (ap);
  pthread_mutex_lock (&c->lock);
  if (!c->failed)
    snprintf (c->error, sizeof c->error, "disk %s at offset %" PRIu64 ": %s",
              c->disk[0] ? c->disk : "\"\"", offset, cause);
  c->failed = true;
  pthread_mutex_unlock (&c->lock);
}

/* The next unit, or false when the queue is empty or the copy stops. */
static bool
take_unit (struct copy *c, uint64_t *off, uint64_t *len)
{
  const struct range *r;
  bool got = false;

  pthread_mutex_lock (&c->lock);
  while (!c->failed && !*c->stop && c->next_range < c->nranges && !got) {
    r = &c->ranges[c->next_range];
    if (c->next_offset < r->offset)
      c->next_offset = r->offset;
    if (c->next_offset >= r->offset + r->length) {
      c->next_range++;
      continue;
    }
    *off = c->next_offset;
    *len = r->offset + r->length - *off;
    if (*len > COPY_UNIT)
      *len = COPY_UNIT;
    c->next_offset += *len;
    got = true;
  }
  pthread_mutex_unlock (&c->lock);
  return got;
}

/* Another worker failed: stop too. */
static bool
stopped (struct copy *c)
{
  bool failed;

  pthread_mutex_lock (&c->lock);
  failed = c->failed;
  pthread_mutex_unlock (&c->lock);
  return failed;
}

static void
count (struct copy *c, uint64_t examined, uint64_t copied, uint64_t zeroed)
{
  pthread_mutex_lock (&c->lock);
  c->examined += examined;
  c->copied += copied;
  c->zeroed += zeroed;
  pthread_mutex_unlock (&c->lock);
}

static bool
is_zero (const char *buf, size_t n)
{
  return n == 0 || (buf[0] == 0 && memcmp (buf, buf + 1, n - 1) == 0);
}

/* n bytes at off are zero: an incremental writes zeroes. */
static int
zero (struct worker *w, uint64_t off, uint64_t n)
{
  if (!w->c->incremental) {
    count (w->c, n, 0, 0);
    return 0;
  }
  if (nbd_zero (w->dst, n, off, 0) == -1) {
    fail (w->c, off, "writing zeroes to the target: %s", nbd_get_error ());
    return -1;
  }
  count (w->c, n, 0, n);
  return 0;
}

/* n bytes at off are data: read and write them, piece by piece. */
static int
data (struct worker *w, uint64_t off, uint64_t n)
{
  uint64_t k;

  for (; n > 0; off += k, n -= k) {
    k = n < COPY_PIECE ? n : COPY_PIECE;
    if (*w->c->stop || stopped (w->c))
      return -1;
    if (nbd_pread (w->src, w->buf, k, off, 0) == -1) {
      fail (w->c, off, "reading the snapshot: %s", nbd_get_error ());
      return -1;
    }
    if (is_zero (w->buf, k)) {
      if (zero (w, off, k) == -1)
        return -1;
      continue;
    }
    if (nbd_pwrite (w->dst, w->buf, k, off, 0) == -1) {
      fail (w->c, off, "writing the target: %s", nbd_get_error ());
      return -1;
    }
    count (w->c, k, k, 0);
  }
  return 0;
}

/* block status: keep the base:allocation extents. */
static int
extent (void *opaque, const char *context, uint64_t offset,
        uint32_t *entries, size_t n, int *error)
{
  struct worker *w = opaque;

  if (strcmp (context, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0)
    return 0;
  n &= ~(size_t) 1;
  if (n > 2 * MAX_EXTENTS)
    n = 2 * MAX_EXTENTS;
  memcpy (w->ext, entries, n * sizeof *entries);
  w->next = n;
  return 0;
}

/* One unit: extent by extent, as the snapshot export reports them. */
static int
unit (struct worker *w, uint64_t off, uint64_t len)
{
  nbd_extent_callback cb = { .callback = extent, .user_data = w };
  uint64_t pos = off, end = off + len, n;
  size_t i;

  if (nbd_can_meta_context (w->src, LIBNBD_CONTEXT_BASE_ALLOCATION) != 1)
    return data (w, off, len);
  while (pos < end) {
    w->next = 0;
    if (nbd_block_status (w->src, end - pos, pos, cb, 0) == -1) {
      fail (w->c, pos, "block status of the snapshot: %s", nbd_get_error ());
      return -1;
    }
    if (w->next == 0)           /* no answer for this context: read it */
      return data (w, pos, end - pos);
    for (i = 0; i < w->next && pos < end; i += 2, pos += n) {
      n = w->ext[i] < end - pos ? w->ext[i] : end - pos;
      if (n == 0)
        n = end - pos;
      if (((w->ext[i + 1] & LIBNBD_STATE_ZERO) ? zero (w, pos, n)
           : data (w, pos, n)) == -1)
        return -1;
    }
  }
  return 0;
}

static void *
work (void *arg)
{
  struct worker *w = arg;
  uint64_t off, len;

  while (take_unit (w->c, &off, &len))
    if (unit (w, off, len) == -1)
      break;
  return NULL;
}

/* Open the snapshot export of the disk, asking for base:allocation. */
static struct nbd_handle *
open_source (struct copy *c)
{
  struct nbd_handle *h = nbd_create ();
  int64_t size;

  if (h == NULL || nbd_set_opt_mode (h, true) == -1 ||
      nbd_add_meta_context (h, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1 ||
      nbd_connect_uri (h, c->uri) == -1 ||
      nbd_set_export_name (h, c->export) == -1 || nbd_opt_go (h) == -1) {
    fail (c, 0, "opening the snapshot export \"%s\" of %s: %s", c->export,
          c->uri, nbd_get_error ());
    nbd_close (h);
    return NULL;
  }
  if ((size = nbd_get_size (h)) != (int64_t) c->size) {
    fail (c, 0, "the snapshot export \"%s\" has %" PRId64 " bytes, the "
          "status said %" PRIu64, c->export, size, c->size);
    nbd_close (h);
    return NULL;
  }
  return h;
}

static struct nbd_handle *
open_target (struct copy *c)
{
  struct nbd_handle *h = nbd_create ();

  if (h == NULL || nbd_connect_unix (h, c->target) == -1) {
    fail (c, 0, "connecting to qemu-nbd at %s: %s", c->target,
          nbd_get_error ());
    nbd_close (h);
    return NULL;
  }
  return h;
}

/* Flush the target (one flush per handle: each may have written),
 * disconnect, close.
 */
static void
close_worker (struct worker *w)
{
  if (w->dst && !w->c->failed && nbd_flush (w->dst, 0) == -1)
    fail (w->c, 0, "flushing the target: %s", nbd_get_error ());
  if (w->dst)
    nbd_shutdown (w->dst, 0);
  if (w->src)
    nbd_shutdown (w->src, 0);
  nbd_close (w->dst);
  nbd_close (w->src);
  free (w->buf);
}

static void
sleep_ms (long ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000 };

  nanosleep (&ts, NULL);
}

/* Wait for the workers, ticking. */
static void
wait_workers (struct copy *c, struct worker *w, int n,
              void (*tick) (void *, uint64_t), void *arg)
{
  uint64_t examined, total = 0;
  bool failed;
  long ms = 0;
  size_t i;
  int j;

  for (i = 0; i < c->nranges; i++)
    total += c->ranges[i].length;
  for (;;) {
    pthread_mutex_lock (&c->lock);
    examined = c->examined;
    failed = c->failed;
    pthread_mutex_unlock (&c->lock);
    if (examined >= total || failed || *c->stop)
      break;
    sleep_ms (50);
    if ((ms += 50) % TICK_MS == 0 && tick)
      tick (arg, examined);
  }
  for (j = 0; j < n; j++)
    if (w[j].started)
      pthread_join (w[j].thread, NULL);
}

int
copy_run (struct copy *c, void (*tick) (void *, uint64_t), void *arg)
{
  struct worker *w = calloc (c->connections, sizeof *w);
  int i, err;

  pthread_mutex_init (&c->lock, NULL);
  for (i = 0; w && i < c->connections && !c->failed; i++) {
    w[i].c = c;
    if ((w[i].buf = malloc (COPY_PIECE)) == NULL)
      fail (c, 0, "out of memory");
    else if ((w[i].src = open_source (c)) != NULL)
      w[i].dst = open_target (c);
  }
  for (i = 0; w && i < c->connections && !c->failed; i++) {
    if ((err = pthread_create (&w[i].thread, NULL, work, &w[i])) != 0)
      fail (c, 0, "pthread_create: %s", strerror (err));
    w[i].started = err == 0;
  }
  if (w == NULL)
    fail (c, 0, "out of memory");
  else
    wait_workers (c, w, c->connections, tick, arg);
  for (i = 0; w && i < c->connections; i++)
    close_worker (&w[i]);
  free (w);
  if (*c->stop && !c->failed) {
    snprintf (c->error, sizeof c->error, "interrupted");
    c->failed = true;
  }
  pthread_mutex_destroy (&c->lock);
  return c->failed ? -1 : 0;
}
