/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl prune: the retention rule, a pure function (fleecectl(1),
 * PRUNE).
 *
 * The input is DIR's complete backups in sequence order, each with its
 * kind (from its name), its parent (from its manifest) and the time it
 * finished.  A chain is a full backup and the backups after it up to
 * the next full (backups before the first full form a chain of their
 * own).  Kept are whole chains:
 *   - the newest keep_chains chains (keep_chains >= 1, so the newest
 *     chain is always kept);
 *   - with keep_days > 0, every chain holding a backup younger than
 *     keep_days days, or whose age is unknown (an unreadable manifest:
 *     never remove what cannot be dated);
 *   - every chain holding the parent, grandparent... of a kept backup
 *     (a parent named in a manifest outside its own chain is not made
 *     by fleecectl, but is honoured).
 * Every other chain is removed whole.  No I/O, no state, no
 * allocation: callable from a test with made-up input.
 */
#ifndef FLEECECTL_PRUNE_RULE_H
#define FLEECECTL_PRUNE_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Why a backup is kept. */
enum prune_why {
  PRUNE_REMOVE = 0,             /* removed */
  PRUNE_NEWEST,                 /* in one of the newest chains */
  PRUNE_YOUNG,                  /* its chain holds a young backup */
  PRUNE_UNDATED,                /* its chain holds an undated backup */
  PRUNE_NEEDED,                 /* a kept backup needs its chain */
};

struct prune_item {
  /* Input. */
  const char *name;             /* NNNN-full or NNNN-incr */
  bool full;
  const char *parent;           /* NULL: none or unknown */
  bool dated;                   /* false: manifest unreadable */
  time_t finished;              /* when dated */
  /* Output. */
  size_t chain;                 /* 0 the oldest */
  enum prune_why why;
  const char *because;          /* the backup that decided it, or NULL */
};

/* Decide for items[0..n-1] (in sequence order): fills chain, why and
 * because.  Returns the number of chains.
 */
extern size_t prune_select (struct prune_item *items, size_t n,
                            unsigned long keep_chains, double keep_days,
                            time_t now);

#endif /* FLEECECTL_PRUNE_RULE_H */
