/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the quiesce provider interface (plugin -> filter).
 *
 * nbdkit gives a filter no call into its plugin beyond the data
 * operations, but it loads plugins and filters with RTLD_GLOBAL.  So a
 * plugin that can quiesce its guest (vmdisk) exports one data symbol,
 * FLEECE_QUIESCE_PROVIDER_SYMBOL, a table of the functions below, and
 * the fleece filter finds it with dlsym (RTLD_DEFAULT, ...) in its
 * .get_ready.  The plugin's linker version script must export it.
 *
 * Versioning: abi_version is FLEECE_QUIESCE_ABI_VERSION of the
 * provider's build.  A filter refuses a table whose abi_version it
 * does not know.  Fields are only ever appended; struct_size says
 * how many bytes the provider's table has.
 *
 * Threading: the filter serialises calls (one snapshot is created at a
 * time), but the provider must tolerate its own watchdog thread racing
 * with thaw.  All functions may be called from any nbdkit thread.
 *
 * Error model: functions return -1 on failure and write one plain-
 * words line into reason[reason_len] (the cause and the fix); they do
 * not call nbdkit_error for it, the filter decides how to report.
 *
 * The thaw debt: whoever calls freeze owes a thaw, whatever freeze
 * returned, because a failed or timed-out freeze may have frozen some
 * filesystems.  thaw is safe to call when nothing is frozen.
 */
#ifndef FLEECE_QUIESCE_PROVIDER_H
#define FLEECE_QUIESCE_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#define FLEECE_QUIESCE_PROVIDER_SYMBOL "fleece_quiesce_provider_v1"
#define FLEECE_QUIESCE_ABI_VERSION 1

struct fleece_quiesce_provider {
  uint32_t abi_version;         /* FLEECE_QUIESCE_ABI_VERSION */
  uint32_t struct_size;         /* sizeof (struct fleece_quiesce_provider) */

  /* Who provides it, for logs: "vmdisk". */
  const char *name;

  /* 1 if quiescing is configured (for vmdisk: domain= or
   * agent-socket= was given), 0 if not.  Writes a description of the
   * target ("libvirt domain 'web1' on qemu:///system") or, when 0,
   * why not, into desc.
   */
  int (*available) (char *desc, size_t desc_len);

  /* Freeze the guest's filesystems, giving up at deadline_ns
   * (CLOCK_MONOTONIC, absolute nanoseconds, see monotime.h).  Returns
   * the number of filesystems frozen (0 means nothing was frozen,
   * which is not an application-consistent freeze), or -1.  A freeze
   * that failed or timed out is rolled back before returning (a status
   * query and a thaw, each bounded by the provider's own timeout), so
   * a failing call may return after deadline_ns.
   */
  int (*freeze) (uint64_t deadline_ns, char *reason, size_t reason_len);

  /* Thaw.  Returns the number of filesystems thawed (>= 0) or -1. */
  int (*thaw) (char *reason, size_t reason_len);

  /* 1 if the guest reports frozen, 0 if thawed, -1 if unknown. */
  int (*status) (char *reason, size_t reason_len);
};

#endif /* FLEECE_QUIESCE_PROVIDER_H */
