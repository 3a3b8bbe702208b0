/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: status --watch. */
#ifndef FLEECECTL_WATCH_H
#define FLEECECTL_WATCH_H

#include "conn.h"
#include "options.h"

/* Sample the status every o->interval until an end condition (see
 * watch.c); returns the exit status.  Installs SIGINT and SIGTERM
 * handlers that end the watch.
 */
extern int watch (const struct options *o, struct conn *c);

#endif /* FLEECECTL_WATCH_H */
