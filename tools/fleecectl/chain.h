/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl verify and restore: the complete backups of a DIR and
 * their verification (fleecectl(1), VERIFY).
 *
 * A backup is verified when its manifest parses and names it, each
 * file exists with the size and SHA-256 the manifest records, qemu-img
 * info agrees on its virtual size and backing file, and, for an
 * incremental, its parent is in DIR, is verified, and has the same
 * disks.  chain_verify verifies the parents first (once each), so
 * verifying one backup checks its whole chain down to its full backup
 * and nothing else.
 */
#ifndef FLEECECTL_CHAIN_H
#define FLEECECTL_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "backup-dir.h"
#include "manifest.h"

struct chain_entry {
  const char *name;             /* in DIR */
  struct manifest m;            /* when loaded */
  bool loaded, done, ok;
  char error[1024];             /* why not ok */
};

struct chain {
  struct bdir d;
  size_t n;
  struct chain_entry *e;        /* d.names, in order */
};

/* Open DIR (which must exist), locked if lock.  0, or as bdir_open. */
extern int chain_open (struct chain *c, const char *dir, bool lock,
                       char *err, size_t len);

/* Index of the backup named name, or -1. */
extern long chain_find (const struct chain *c, const char *name);

/* Verify backup i and its parents: its ok and error. */
extern bool chain_verify (struct chain *c, size_t i);

/* Free c, unlocking DIR. */
extern void chain_close (struct chain *c);

#endif /* FLEECECTL_CHAIN_H */
