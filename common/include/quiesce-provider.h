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
 * Disks: the table also says which disks the plugin serves (disks,
 * appended after status), because a snapshot must cover every disk of
 * the VM at one instant, including disks nobody has connected to, and
 * nbdkit gives a filter no way to list its plugin's exports outside a
 * client's NBD_OPT_LIST.  A table too short to have disks (struct_size)
 * or with disks NULL means one disk, the export "".  select_export
 * tells the plugin which disk a context that the filter opens on its
 * own is for (nbdkit cannot: see there).
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

  /* The export names of the disks served, in the order given to the
   * plugin: sets names[i] for i < min (n, max) and returns n, the
   * number of disks (1 <= n <= FLEECE_MAX_DISKS).  One unnamed disk
   * (vmdisk's file=) is one name, "".  The strings live until the
   * plugin is unloaded.  Callable from .get_ready on; fixed by then.
   */
  size_t (*disks) (const char **names, size_t max);

  /* The export the plugin's next .open in the calling thread is for,
   * or NULL to forget it.  A filter's own plugin contexts
   * (nbdkit_next_context_open with shared true, the only kind it can
   * open outside a client's connection) give the plugin no export
   * name: nbdkit_export_name has none to return.  So the filter names
   * the disk here, opens the context, and clears it.  The hint is per
   * thread, and it outranks nbdkit_export_name.  Present whenever
   * disks is.
   */
  void (*select_export) (const char *name);
};

/* The most disks one plugin serves (a VM's disks: vda..vdz and more). */
#define FLEECE_MAX_DISKS 64

/* Does provider table p have member m (it may be older and shorter)? */
#define FLEECE_PROVIDER_HAS(p, m)                                       \
  ((p)->struct_size >= offsetof (struct fleece_quiesce_provider, m) +   \
   sizeof ((p)->m) && (p)->m != NULL)

#endif /* FLEECE_QUIESCE_PROVIDER_H */
