/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, the interface of a guest quiesce backend.
 *
 * The guard (thaw debt, watchdog, crash-recovery marker) drives one
 * backend: libvirt (virDomainFSFreeze and friends, libvirt.h) or the
 * agent socket (the qemu-guest-agent protocol spoken directly on
 * QEMU's agent socket, agent-socket.h).
 *
 * Contract for every function: it returns before deadline_ns
 * (CLOCK_MONOTONIC, see monotime.h) whatever the guest does, and on
 * failure returns -1 and writes one line into reason[len] that names
 * the target (domain or socket) and, where there is one, the fix.  It
 * does not call nbdkit_error.  The guard calls them with its lock
 * held, so a backend never sees two calls at once; a backend may keep
 * work running in the background after giving up waiting (libvirt),
 * but must cope with being called again meanwhile.
 */
#ifndef QUIESCE_BACKEND_H
#define QUIESCE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

struct qga_backend {
  /* "libvirt" or "agent-socket", for logs. */
  const char *name;

  /* Describe the target ("libvirt domain 'web1' on qemu:///system"). */
  void (*describe) (char *buf, size_t len);

  /* Find the target now and write its stable identity (the domain's
   * UUID, or the socket path) into id.  0 or -1.
   */
  int (*resolve) (uint64_t deadline_ns, char *id, size_t id_len,
                  char *reason, size_t len);

  /* Freeze all filesystems, or only the nr mountpoints given.
   * Returns the count frozen (>= 0) or -1.  A -1 may still have
   * frozen something: the caller queries status and thaws.
   */
  int (*freeze) (uint64_t deadline_ns, char *const *mountpoints, size_t nr,
                 char *reason, size_t len);

  /* Thaw.  Count thawed (>= 0) or -1. */
  int (*thaw) (uint64_t deadline_ns, char *reason, size_t len);

  /* 1 frozen, 0 thawed, -1 unknown (with a reason). */
  int (*status) (uint64_t deadline_ns, char *reason, size_t len);

  /* Drop connections and wait (bounded) for background work.  Returns
   * how many calls are still running: the strings and the mountpoint
   * array given to the backend must then stay allocated.
   */
  unsigned (*close) (void);
};

/* -D vmdisk.agent=1: log every agent exchange in full. */
extern int vmdisk_debug_agent;

#endif /* QUIESCE_BACKEND_H */
