/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: who may open the snapshot export (snapshot-allow-user=,
 * snapshot-allow-group=).  See access.c for the rule.
 */
#ifndef FLEECE_ACCESS_H
#define FLEECE_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many users, and as many groups, may be listed. */
#define ACCESS_MAX_IDS 64

/* The allow lists, resolved to numeric ids (uid_t and gid_t are 32
 * bits on Linux).  Filled by params.c during .config (single-threaded),
 * read-only afterwards, so no lock.  Both empty: no restriction.
 */
struct access_config {
  uint32_t users[ACCESS_MAX_IDS];
  size_t nusers;
  uint32_t groups[ACCESS_MAX_IDS];
  size_t ngroups;
};

extern struct access_config access_cfg;

/* Is any restriction configured? */
extern bool access_restricted (void);

/* Called from .open for a connection to the snapshot export, before
 * anything else is done for it.  0: the client may open it (or there
 * is no restriction); -1: refused, after one nbdkit_error line naming
 * the client (uid, gid, pid), the export and why.
 */
extern int access_check_snapshot (const char *exportname);

#endif /* FLEECE_ACCESS_H */
