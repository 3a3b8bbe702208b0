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

#include "quiesce.h"
#include "snapshot.h"

/* The longest request line accepted, without its newline. */
#define CONTROL_LINE_MAX (64 * 1024)

enum control_command {
  CONTROL_NONE,                 /* a blank line: no reply */
  CONTROL_INVALID,              /* error_code/error_message say why */
  CONTROL_BEGIN,
  CONTROL_END,
  CONTROL_STATUS,
};

struct control_request {
  enum control_command command;
  json_object *id;              /* owned (may be NULL: JSON null) */
  enum quiesce_mode quiesce;    /* snapshot-begin; QUIESCE_DEFAULT */
  bool fresh;                   /* snapshot-begin: end the active one */
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

/* The figures behind a status reply, gathered by the caller
 * (durations in nanoseconds).
 */
struct control_figures {
  struct snapshot_status snap;
  uint64_t copy_count, copy_mean_ns, copy_p99_ns, bytes_copied;
  uint64_t live_writes, live_mean_ns, live_p99_ns;
  uint64_t bytes_read;
  bool data_known;              /* data_bytes measured (progress.h) */
  uint64_t data_bytes;
  uint64_t store_bytes;
  uint64_t store_limit;         /* 0: no cap */
  uint32_t block_size;
  uint64_t pin_max_age_ns;      /* 0: never */
};

/* Add the status members to reply.  0, or -1 on allocation failure. */
extern int control_status_fill (json_object *reply,
                                const struct control_figures *f);

/* Add "generation" and, if known, "description" (snapshot-begin and
 * snapshot-end replies).  0 or -1.
 */
extern int control_generation_fill (json_object *reply, uint64_t generation,
                                    const char *description);

#endif /* FLEECE_CONTROL_PROTO_H */
