/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the changes command (changed-block tracking's query,
 * see nbdkit-fleece-filter(1), PROTOCOL).  Control thread only; takes
 * the barrier and a map's lock itself (cbt.h): the caller holds none.
 */
#ifndef FLEECE_CONTROL_CHANGES_H
#define FLEECE_CONTROL_CHANGES_H

#include "proto.h"

/* Run a parsed changes request: the reply line, malloc'd (NULL only
 * when out of memory).
 */
extern char *control_run_changes (const struct control_request *req);

#endif /* FLEECE_CONTROL_CHANGES_H */
