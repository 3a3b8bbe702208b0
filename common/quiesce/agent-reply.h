/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, guest agent replies and reason strings.
 *
 * Both quiesce backends (libvirt and the direct agent socket) receive
 * qemu-guest-agent replies as JSON text and must check their shape
 * before trusting them: a reply is either {"return": VALUE} or
 * {"error": {"class": STRING, "desc": STRING}}.  These helpers parse
 * and validate, and write one plain-words line into a caller's reason
 * buffer on failure.  Stateless and thread-safe.
 */
#ifndef QUIESCE_AGENT_REPLY_H
#define QUIESCE_AGENT_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <json.h>

/* Write (qga_reasonf) or append "; ..." (qga_reason_append) a
 * formatted line into reason[len], always NUL-terminated, truncated
 * if it does not fit.
 */
extern void qga_reasonf (char *reason, size_t len, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
extern void qga_reason_append (char *reason, size_t len, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* Parse a complete reply text.  Returns a new object (the caller
 * json_object_put's it) or NULL with a reason naming cmd.
 */
extern json_object *qga_reply_parse (const char *text, const char *cmd,
                                     char *reason, size_t len);

/* Check the shape of reply to cmd.  Returns 0 and sets *ret to the
 * "return" value (borrowed from reply), or -1 with a reason: the
 * agent's own class and description for an error reply (saying so
 * when the command is disabled in the guest), or "malformed".
 */
extern int qga_reply_return (json_object *reply, const char *cmd,
                             json_object **ret, char *reason, size_t len);

/* A filesystem count from a freeze/thaw "return" value: >= 0, or -1
 * with a reason.
 */
extern int qga_reply_count (json_object *ret, const char *cmd,
                            char *reason, size_t len);

/* guest-fsfreeze-status "return" value: 1 "frozen", 0 "thawed", -1
 * with a reason for anything else.
 */
extern int qga_reply_status (json_object *ret, char *reason, size_t len);

#endif /* QUIESCE_AGENT_REPLY_H */
