/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the control protocol, without I/O (see
 * nbdkit-fleece-filter(1), PROTOCOL).
 *
 * Pure functions over json-c: parse one request line, build one reply
 * line.  They never touch the socket or the snapshot, so they can be
 * tested and fuzzed alone.  Keys in replies are kebab-case.
 */
#ifndef FLEECE_CONTROL_PROTO_H
#define FLEECE_CONTROL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* The longest request line accepted, without its newline. */
#define CONTROL_LINE_MAX (64 * 1024)

enum control_command {
  CONTROL_NONE,                 /* a blank line: no reply */
  CONTROL_INVALID,              /* error_code/error_message say why */
  CONTROL_BEGIN,
  CONTROL_END,
  CONTROL_STATUS,
  CONTROL_CHANGES,
};

/* snapshot-begin's "quiesce": the protocol's own names for the modes,
 * so that the core depends on nothing of the filter (the command
 * runner maps them to the filter's quiesce= modes).
 */
enum control_quiesce {
  CONTROL_QUIESCE_DEFAULT,      /* not given: as configured */
  CONTROL_QUIESCE_AUTO,
  CONTROL_QUIESCE_REQUIRE,
  CONTROL_QUIESCE_OFF,
};

struct control_request {
  enum control_command command;
  json_object *id;              /* owned (may be NULL: JSON null) */
  enum control_quiesce quiesce; /* snapshot-begin */
  bool fresh;                   /* snapshot-begin: end the active one */
  char since[128];              /* changes: a checkpoint id */
  char disk[64];                /* changes: "" if not given */
  bool has_disk;
  uint64_t offset, length;      /* changes: 0, 0 (to the end) if not
                                 * given */
  const char *error_code;       /* CONTROL_INVALID: a static string */
  char error_message[256];
};

/* Parse one line (len bytes, no newline; a trailing "\r" is ignored).
 * Always fills *req; release it with control_request_free.
 */
extern void control_parse (const char *line, size_t len,
                           struct control_request *req);
extern void control_request_free (struct control_request *req);

/* A new reply object {"id": id, "ok": true} (id is shared, not
 * consumed).  NULL on allocation failure.
 */
extern json_object *control_reply_ok (json_object *id);

/* Serialise an error reply {"id":..,"ok":false,"error":{"code":..,
 * "message":..}} plus "\n".  Returns a malloc'd string or NULL.
 */
extern char *control_error_line (json_object *id, const char *code,
                                  const char *message);

/* Serialise reply plus "\n" and release reply.  malloc'd or NULL. */
extern char *control_reply_line (json_object *reply);

#endif /* FLEECE_CONTROL_PROTO_H */
