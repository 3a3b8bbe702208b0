/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the on-disk format of a changed-block map (see
 * cbtmap.h).  Slot layout (little-endian):
 *
 *   0 magic "FLEECBT\0"   8 version u32   12 clean u32   16 seq u64
 *   24 vm uuid[16]  40 map uuid[16]  56 disk size u64
 *   64 granularity u32  68 reserved u32  72 gen u64  80 first u64
 *   88 name[64]  152 identity[128]  280 reset reason[192]
 *   472..503 zero  504 FNV-1a 64 of bytes 0..503
 */
#include <config.h>

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cbtmap.h"

static const char magic[8] = "FLEECBT";

static uint64_t
fnv1a (const uint8_t *p, size_t n)
{
  uint64_t h = UINT64_C (0xcbf29ce484222325);
  size_t i;

  for (i = 0; i < n; i++) {
    h ^= p[i];
    h *= UINT64_C (0x100000001b3);
  }
  return h;
}

static void
put32 (uint8_t *p, uint32_t v)
{
  v = htole32 (v);
  memcpy (p, &v, 4);
}

static void
put64 (uint8_t *p, uint64_t v)
{
  v = htole64 (v);
  memcpy (p, &v, 8);
}

static uint32_t
get32 (const uint8_t *p)
{
  uint32_t v;

  memcpy (&v, p, 4);
  return le32toh (v);
}

static uint64_t
get64 (const uint8_t *p)
{
  uint64_t v;

  memcpy (&v, p, 8);
  return le64toh (v);
}

/* A NUL-terminated string field of len bytes. */
static void
put_str (uint8_t *p, const char *s, size_t len)
{
  size_t n = strnlen (s, len - 1);

  memcpy (p, s, n);
}

static void
get_str (char *s, const uint8_t *p, size_t len)
{
  memcpy (s, p, len);
  s[len - 1] = '\0';
}

void
cbtmap_encode (const struct cbtmap_header *h, uint8_t *slot)
{
  memset (slot, 0, CBTMAP_SLOT);
  memcpy (slot, magic, 8);
  put32 (slot + 8, CBTMAP_VERSION);
  put32 (slot + 12, h->clean);
  put64 (slot + 16, h->seq);
  memcpy (slot + 24, h->vm_uuid, 16);
  memcpy (slot + 40, h->map_uuid, 16);
  put64 (slot + 56, h->disk_size);
  put32 (slot + 64, h->granularity);
  put64 (slot + 72, h->gen);
  put64 (slot + 80, h->first);
  put_str (slot + 88, h->name, 64);
  put_str (slot + 152, h->identity, CBTMAP_IDENTITY);
  put_str (slot + 280, h->reset_reason, CBTMAP_REASON);
  put64 (slot + 504, fnv1a (slot, 504));
}

bool
cbtmap_decode (const uint8_t *slot, struct cbtmap_header *h)
{
  if (memcmp (slot, magic, 8) != 0 || get32 (slot + 8) != CBTMAP_VERSION ||
      get64 (slot + 504) != fnv1a (slot, 504))
    return false;
  memset (h, 0, sizeof *h);
  h->clean = get32 (slot + 12) != 0;
  h->seq = get64 (slot + 16);
  memcpy (h->vm_uuid, slot + 24, 16);
  memcpy (h->map_uuid, slot + 40, 16);
  h->disk_size = get64 (slot + 56);
  h->granularity = get32 (slot + 64);
  h->gen = get64 (slot + 72);
  h->first = get64 (slot + 80);
  get_str (h->name, slot + 88, 64);
  get_str (h->identity, slot + 152, CBTMAP_IDENTITY);
  get_str (h->reset_reason, slot + 280, CBTMAP_REASON);
  return h->gen >= 1 && h->granularity > 0;
}

/* The two slots: which is valid (bit 0: A, bit 1: B), the newest in *h
 * and its index in *newest.  -1 on an I/O error.
 */
static int
read_slots (int fd, struct cbtmap_header *h, int *newest)
{
  uint8_t buf[2 * CBTMAP_SLOT];
  struct cbtmap_header s[2];
  ssize_t r = pread (fd, buf, sizeof buf, 0);
  int valid = 0, i;

  if (r == -1)
    return -1;
  if (r < (ssize_t) sizeof buf)
    memset (buf + r, 0, sizeof buf - r);
  for (i = 0; i < 2; i++)
    if (cbtmap_decode (buf + i * CBTMAP_SLOT, &s[i]))
      valid |= 1 << i;
  *newest = valid == 2 || (valid == 3 && s[1].seq > s[0].seq);
  if (valid)
    *h = s[*newest];
  return valid;
}

int
cbtmap_read_header (int fd, struct cbtmap_header *h)
{
  int newest;
  int v = read_slots (fd, h, &newest);

  return v == -1 ? -1 : v != 0;
}

int
cbtmap_write_header (int fd, struct cbtmap_header *h)
{
  uint8_t slot[CBTMAP_SLOT];
  struct cbtmap_header old;
  int newest = 1, v;

  errno = 0;
  if ((v = read_slots (fd, &old, &newest)) == -1)
    return -1;
  h->seq = (v ? old.seq : h->seq) + 1;
  cbtmap_encode (h, slot);
  if (pwrite (fd, slot, sizeof slot, v ? (1 - newest) * CBTMAP_SLOT : 0)
      != sizeof slot) {
    if (errno == 0)
      errno = EIO;
    return -1;
  }
  return fdatasync (fd);
}

int
cbtmap_uuid (uint8_t uuid[16])
{
  if (getrandom (uuid, 16, 0) != 16)
    return -1;
  uuid[6] = (uuid[6] & 0x0f) | 0x40;    /* version 4 */
  uuid[8] = (uuid[8] & 0x3f) | 0x80;    /* RFC 4122 variant */
  return 0;
}

void
cbtmap_uuid_str (const uint8_t u[16], char *buf)
{
  snprintf (buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
            "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
            u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}
