/* nbdkit-fleece: the control socket (placeholder until it lands). */
#include <config.h>

#include "control.h"

int
control_config (const char *key, const char *value)
{
  return 0;
}

int
control_config_complete (void)
{
  return 0;
}

int
control_start (void)
{
  return 0;
}

void
control_stop (void)
{
}
