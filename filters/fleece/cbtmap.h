/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the on-disk format of a changed-block map (cbt-dir=).
 *
 * One file per disk, "disk-NAME.map" ("disk.map" for the one unnamed
 * disk of file=), and one file "vm" naming the VM's tracking identity
 * (a UUID made when the directory is first used).  A map file is:
 *
 *   0     header slot A (512 bytes)
 *   512   header slot B (512 bytes)
 *   1024  zero up to 4096
 *   4096  one byte per granule: the code of the checkpoint generation
 *         that last wrote it (cbtmap_code), 0 = not written since
 *         tracking began or older than any checkpoint still known.
 *
 * A header update writes the slot that does not hold the newest valid
 * header, with the next sequence number and an FNV-1a checksum, then
 * fdatasync: a torn write leaves the other slot, so a header is
 * replaced atomically.  Integers are little-endian.  The nbdkit-fleece-
 * filter(1) page documents the format; this is the code of it.  Pure:
 * no state, no locks.
 */
#ifndef FLEECE_CBTMAP_H
#define FLEECE_CBTMAP_H

#include <stdbool.h>
#include <stdint.h>

#define CBTMAP_VERSION 1
#define CBTMAP_DATA 4096        /* offset of the granule bytes */
#define CBTMAP_SLOT 512
#define CBTMAP_IDENTITY 128
#define CBTMAP_REASON 192

struct cbtmap_header {
  uint64_t seq;                 /* newer header: higher */
  uint8_t vm_uuid[16];          /* the "vm" file's identity */
  uint8_t map_uuid[16];         /* made when this map was (re)started */
  char name[64];                /* the disk's name ("" for file=) */
  uint64_t disk_size;           /* bytes, when the map was sized */
  uint32_t granularity;
  bool clean;                   /* stopped cleanly; false while served */
  uint64_t gen;                 /* current checkpoint generation */
  uint64_t first;               /* the oldest checkpoint it can answer */
  char identity[CBTMAP_IDENTITY]; /* of the disk at the clean stop */
  char reset_reason[CBTMAP_REASON]; /* why checkpoints < first are
                                     * unknown ("" if none were) */
};

/* The code a write in generation gen leaves in its granules: 1..255
 * (a cycle of 255; 0 is "unknown / too old").
 */
static inline uint8_t
cbtmap_code (uint64_t gen)
{
  return (gen - 1) % 255 + 1;
}

/* Encode h into one slot's 512 bytes (with its checksum). */
extern void cbtmap_encode (const struct cbtmap_header *h, uint8_t *slot);

/* Decode one slot: true if it is a valid header of this version. */
extern bool cbtmap_decode (const uint8_t *slot, struct cbtmap_header *h);

/* Read the newest valid header of the map open as fd into *h: 1 found,
 * 0 none valid (corrupt or not a map), -1 on an I/O error (errno).
 */
extern int cbtmap_read_header (int fd, struct cbtmap_header *h);

/* Write h (h->seq is incremented first) into the slot the newest
 * header is not in, and fdatasync.  0 or -1 (errno).
 */
extern int cbtmap_write_header (int fd, struct cbtmap_header *h);

/* A fresh random UUID.  0 or -1 (errno). */
extern int cbtmap_uuid (uint8_t uuid[16]);

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into buf[37]. */
extern void cbtmap_uuid_str (const uint8_t uuid[16], char *buf);

#endif /* FLEECE_CBTMAP_H */
