/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl verify (see backup.h): not yet. */
#include <config.h>

#include "backup.h"

int
verify (const struct options *o)
{
  die (EXIT_FAILED, "verify is not implemented yet");
}

int
restore (const struct options *o)
{
  die (EXIT_FAILED, "restore is not implemented yet");
}
