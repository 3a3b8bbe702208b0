/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece tests: libnbd helpers shared by the C test programs
 * (test-fleece-stress, test-fleece-cross-disk).  Every failure calls
 * die(), which each program defines: it reports and exits, from any
 * thread (the program's own rule for concurrent failures).
 */
#ifndef FLEECE_TESTS_NBD_UTIL_H
#define FLEECE_TESTS_NBD_UTIL_H

#include <libnbd.h>

/* Report "FAIL: message" and exit; defined by each test program. */
extern void die (const char *fs, ...)
  __attribute__ ((noreturn, format (printf, 1, 2)));

/* die with libnbd's error if r is -1. */
extern void check_nbd (int r, const char *what);

/* A new handle (full info) connected to uri; dies on error. */
extern struct nbd_handle *connect_to (const char *uri);

/* Shut h down and close it (dies on error). */
extern void disconnect (struct nbd_handle *h);

#endif /* FLEECE_TESTS_NBD_UTIL_H */
