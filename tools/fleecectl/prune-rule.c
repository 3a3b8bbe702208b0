/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl prune: the retention rule (see prune-rule.h).
 *
 * Decisions are per chain (the why of its first deciding backup), then
 * copied to every backup of the chain.  The parent closure runs to a
 * fixpoint: keeping a chain for a parent can make another parent
 * needed.  Quadratic in the number of backups, which is small.
 */
#include <config.h>

#include <string.h>

#include "prune-rule.h"

/* Number the chains: a full starts a new one (unless it is first). */
static size_t
number_chains (struct prune_item *it, size_t n)
{
  size_t i, c = 0;

  for (i = 0; i < n; i++) {
    if (it[i].full && i > 0)
      c++;
    it[i].chain = c;
    it[i].why = PRUNE_REMOVE;
    it[i].because = NULL;
  }
  return n ? c + 1 : 0;
}

/* Keep every backup of chain c for why, because. */
static bool
keep_chain (struct prune_item *it, size_t n, size_t c, enum prune_why why,
            const char *because)
{
  bool changed = false;
  size_t i;

  for (i = 0; i < n; i++)
    if (it[i].chain == c && it[i].why == PRUNE_REMOVE) {
      it[i].why = why;
      it[i].because = because;
      changed = true;
    }
  return changed;
}

/* The age rule: young or undated backups keep their chains. */
static void
keep_young (struct prune_item *it, size_t n, double keep_days, time_t now)
{
  size_t i;

  if (keep_days <= 0)
    return;
  for (i = 0; i < n; i++) {
    if (!it[i].dated)
      keep_chain (it, n, it[i].chain, PRUNE_UNDATED, it[i].name);
    else if (difftime (now, it[i].finished) < keep_days * 86400)
      keep_chain (it, n, it[i].chain, PRUNE_YOUNG, it[i].name);
  }
}

/* One pass of the parent closure: true if a chain was added. */
static bool
keep_parents (struct prune_item *it, size_t n)
{
  bool changed = false;
  size_t i, j;

  for (i = 0; i < n; i++) {
    if (it[i].why == PRUNE_REMOVE || it[i].parent == NULL)
      continue;
    for (j = 0; j < n; j++)
      if (strcmp (it[j].name, it[i].parent) == 0 &&
          it[j].why == PRUNE_REMOVE)
        changed |= keep_chain (it, n, it[j].chain, PRUNE_NEEDED, it[i].name);
  }
  return changed;
}

size_t
prune_select (struct prune_item *it, size_t n, unsigned long keep_chains,
              double keep_days, time_t now)
{
  size_t chains = number_chains (it, n), c;

  if (keep_chains < 1)
    keep_chains = 1;
  for (c = chains > keep_chains ? chains - keep_chains : 0; c < chains; c++)
    keep_chain (it, n, c, PRUNE_NEWEST, NULL);
  keep_young (it, n, keep_days, now);
  while (keep_parents (it, n))
    ;
  return chains;
}
