/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, guest quiesce through libvirt (domain=). */
#ifndef QUIESCE_LIBVIRT_H
#define QUIESCE_LIBVIRT_H

#include <stdbool.h>

#include "backend.h"

/* The backend for domain (a name or UUID) on uri (NULL: libvirt's
 * default).  The strings are kept, not copied.  If set_agent_timeout,
 * every agent call first sets the domain's agent response timeout to
 * the seconds left before its deadline (shared with every other
 * libvirt client of the domain).  Nothing connects until the first
 * call.
 */
extern const struct qga_backend *qga_libvirt_backend (const char *uri,
                                                      const char *domain,
                                                      bool set_agent_timeout);

#endif /* QUIESCE_LIBVIRT_H */
