/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: fuzz/stub-control-serve.c: the control socket's one
 * call into its server thread, never reached from .config
 * (fuzz-params).
 */
#include <config.h>

#include <stdlib.h>

#include "control/server.h"

void *
control_serve (void *arg)
{
  abort ();
}
