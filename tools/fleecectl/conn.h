/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: one connection to the filter's control socket.
 *
 * Every failure ends the program through die() with the exit status
 * of fleecectl(1): EXIT_USAGE when PATH is no usable control socket
 * (missing, not a socket, stale, an NBD socket, silent past the
 * timeout), EXIT_PERMISSION when the file mode refuses the connection.
 * Not handled here: the meaning of a reply (an error reply is a
 * complete line like any other).
 */
#ifndef FLEECECTL_CONN_H
#define FLEECECTL_CONN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

struct conn {
  int fd;
  const char *path;
  double timeout;               /* seconds for each wait; 0: none */
  bool answered;                /* a complete reply line has arrived */
  char *buf;                    /* received, not yet returned */
  size_t len, cap;
};

/* Set by the caller's SIGINT/SIGTERM handler: a wait then gives up
 * and conn_exchange returns NULL.
 */
extern volatile sig_atomic_t conn_interrupted;

/* Connect to path, waiting at most timeout seconds (0: no limit). */
extern void conn_open (struct conn *c, const char *path, double timeout);

/* Send one request line (request has no newline) and return the next
 * reply line, malloc'd, without its newline; NULL if interrupted.
 * The reply must come within the timeout.
 */
extern char *conn_exchange (struct conn *c, const char *request);

/* Close the connection and free what it holds. */
extern void conn_close (struct conn *c);

/* Quote a reply that is no control reply (not JSON, or no "ok") and
 * exit with EXIT_USAGE: PATH is not a control socket.
 */
extern void conn_not_control (const struct conn *c, const char *line)
  __attribute__ ((noreturn));

#endif /* FLEECECTL_CONN_H */
