/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: one request and its reply (nbdkit-fleece-filter(1),
 * PROTOCOL).
 *
 * A reply that is not a JSON object with "ok" means PATH is not a
 * control socket: EXIT_USAGE.  An error reply ends the program with
 * its message (and code) on standard error, and with --json its line
 * on standard output: EXIT_PERMISSION for "permission-denied",
 * EXIT_FULL_BACKUP for "full-backup-required", else EXIT_SERVER.
 */
#ifndef FLEECECTL_REQUEST_H
#define FLEECECTL_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "conn.h"
#include "options.h"

struct reply {
  json_object *obj;             /* the parsed reply, "ok": true */
  char *line;                   /* its text, for --json */
};

/* Send command (with o->quiesce and o->fresh for snapshot-begin) and
 * fill r with the successful reply.  false if interrupted.
 */
extern bool request (const struct options *o, struct conn *c,
                     const char *command, long id, struct reply *r);

/* changes: the same, for the page starting at offset (with o->since,
 * o->disk).
 */
extern bool request_at (const struct options *o, struct conn *c,
                        const char *command, long id, uint64_t offset,
                        struct reply *r);

/* changes for a backup: the same as request_at, but an error reply is
 * returned, not fatal: 1 success, 0 an error reply (its code and
 * message in r->obj's "error"), -1 interrupted.
 */
extern int request_try (const struct options *o, struct conn *c,
                        const char *command, long id, uint64_t offset,
                        struct reply *r);

/* Report the error reply r (as request does) and exit. */
extern void request_fail (const struct options *o, const struct reply *r)
  __attribute__ ((noreturn));

/* Free what request filled. */
extern void reply_free (struct reply *r);

#endif /* FLEECECTL_REQUEST_H */
