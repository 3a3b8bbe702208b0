/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: fuzz/stub-control-serve.c: control.c's one call into
 * control-server.c, never reached from .config (fuzz-params).
 */
#include <config.h>

#include <stdlib.h>

#include "control-server.h"

void *
control_serve (void *arg)
{
  abort ();
}
