/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, a command as a backend (quiesce-command=). */
#ifndef QUIESCE_COMMAND_H
#define QUIESCE_COMMAND_H

#include "backend.h"

/* The backend that runs `path freeze` and `path thaw` (path must stay
 * allocated).  It has no status query: status always answers -1
 * (unknown), so the guard thaws whenever it cannot tell.
 */
extern const struct qga_backend *command_backend (const char *path);

#endif /* QUIESCE_COMMAND_H */
