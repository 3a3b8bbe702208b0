/* nbdkit-fleece: vmdisk quiesce hooks.
 *
 * Placeholder until the quiesce work lands: no quiesce parameters are
 * accepted, and the provider table reports that quiescing is not
 * configured, so the fleece filter takes crash-consistent snapshots.
 */
#include <config.h>

#include <stdio.h>

#include "quiesce-provider.h"
#include "quiesce.h"

const char vmdisk_quiesce_config_help[] = "";

int
vmdisk_quiesce_config (const char *key, const char *value)
{
  return 0;
}

int
vmdisk_quiesce_config_complete (void)
{
  return 0;
}

int
vmdisk_quiesce_after_fork (void)
{
  return 0;
}

void
vmdisk_quiesce_cleanup (void)
{
}

static int
available (char *desc, size_t desc_len)
{
  snprintf (desc, desc_len, "vmdisk was built without guest quiesce support");
  return 0;
}

static int
unsupported (char *reason, size_t reason_len)
{
  snprintf (reason, reason_len, "vmdisk was built without guest quiesce support");
  return -1;
}

static int
freeze (uint64_t deadline_ns, char *reason, size_t reason_len)
{
  return unsupported (reason, reason_len);
}

const struct fleece_quiesce_provider fleece_quiesce_provider_v1 = {
  .abi_version = FLEECE_QUIESCE_ABI_VERSION,
  .struct_size = sizeof (struct fleece_quiesce_provider),
  .name = "vmdisk",
  .available = available,
  .freeze = freeze,
  .thaw = unsupported,
  .status = unsupported,
};
