/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, the qemu-guest-agent protocol on a Unix
 * socket (agent-socket=PATH), for QEMU run without libvirt.
 */
#ifndef QUIESCE_AGENT_SOCKET_H
#define QUIESCE_AGENT_SOCKET_H

#include "backend.h"

/* The backend for the agent socket at path (kept, not copied; it
 * must outlive the backend).  Nothing is opened until the first call.
 */
extern const struct qga_backend *qga_socket_backend (const char *path);

#endif /* QUIESCE_AGENT_SOCKET_H */
