/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: shared between the protocol core's own files only
 * (proto.h is the interface).  No state, no locks.
 */
#ifndef FLEECE_CONTROL_PROTO_INT_H
#define FLEECE_CONTROL_PROTO_INT_H

#include <json-c/json.h>

#include "proto.h"

/* Mark req invalid: error code (a static string) and message. */
extern void control_invalid (struct control_request *req, const char *code,
                             const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* The members of changes into req, or a bad-request when one of them
 * is given to another command or has the wrong type.  Called once the
 * command is known and valid.
 */
extern void control_parse_changes (json_object *obj,
                                   struct control_request *req);

#endif /* FLEECE_CONTROL_PROTO_INT_H */
