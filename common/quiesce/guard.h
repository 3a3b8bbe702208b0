/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, the guard: the thaw debt, the
 * watchdog, crash recovery, and the provider table for the filter.
 */
#ifndef QUIESCE_GUARD_H
#define QUIESCE_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "quiesce-provider.h"

struct guard_config {
  const char *name;             /* for messages: "vmdisk", "fleece" */
  const struct qga_backend *backend;
  char *const *mountpoints;     /* NULL-terminated; empty: all */
  size_t nr_mountpoints;
  uint64_t freeze_timeout;      /* ns, bound on each backend call */
  uint64_t frozen_max;          /* ns, watchdog bound */
};

/* From .config_complete, before any thread: copy the configuration
 * (the strings it points to must outlive the guard).  The marker
 * must already be initialised (marker.h).
 */
extern void guard_configure (const struct guard_config *cfg);

/* From .config_complete, before any thread: the functions behind the
 * provider table's disks and select_export members (see
 * quiesce-provider.h).  Until they are set, the table lists one disk,
 * the export "", and select_export does nothing.
 */
extern void guard_set_disks (size_t (*disks) (const char **names,
                                               size_t max),
                             void (*select) (const char *name));

/* The provider table (common/include/quiesce-provider.h) through
 * which the guard is driven: the one the plugin exports, or, for a
 * component that links the guard itself, its own.
 */
extern const struct fleece_quiesce_provider *guard_provider (void);

/* From .after_fork: look for a marker left by a dead earlier run (the
 * watchdog then checks and thaws the guest), start the watchdog.
 * 0, or -1 after nbdkit_error.
 */
extern int guard_start (void);

/* From .cleanup: stop the watchdog, pay any thaw debt (bounded), close
 * the backend.  Safe if guard_start never ran.  Returns how many
 * backend calls are still running (see qga_backend.close).
 */
extern unsigned guard_stop (void);

#endif /* QUIESCE_GUARD_H */
