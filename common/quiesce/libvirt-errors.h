/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, libvirt errors as one-line reasons. */
#ifndef QUIESCE_LIBVIRT_ERRORS_H
#define QUIESCE_LIBVIRT_ERRORS_H

#include <stdbool.h>
#include <stddef.h>

/* Write into reason[len] why "WHAT domain" failed, from this thread's
 * virGetLastError: "libvirt domain 'NAME': CAUSE (FIX): libvirt: MSG".
 * what is the action, e.g. "freeze the filesystems of".
 */
extern void lv_error_reason (const char *domain, const char *what,
                             char *reason, size_t len);

/* True if this thread's last libvirt error means the connection is
 * gone (libvirtd restarted or unreachable) and is worth re-making.
 */
extern bool lv_error_conn_dead (void);

/* True if this thread's last libvirt error says the domain is not
 * defined.
 */
extern bool lv_error_no_domain (void);

#endif /* QUIESCE_LIBVIRT_ERRORS_H */
