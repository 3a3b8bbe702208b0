/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: human-readable output of control replies.
 *
 * Pure formatting over json-c objects (the reply members documented in
 * nbdkit-fleece-filter(1), PROTOCOL); missing or null members print
 * as "-".  No I/O besides the FILE given.
 */
#ifndef FLEECECTL_SHOW_H
#define FLEECECTL_SHOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/* Format bytes in IEC units ("512 B", "1.5 GiB") into buf. */
extern const char *show_iec (uint64_t bytes, char *buf, size_t len);

/* The status reply, one figure per line. */
extern void show_status (FILE *fp, json_object *reply);

/* One progress line for status --watch (no newline), e.g.
 * "generation 3 active [#####.....]  50.0%  512 KiB of 1 MiB read,
 * rate 1 MiB/s, ETA 0:00:01, store 64 KiB, copy p99 0.250 ms, live
 * added p99 0.125 ms".  rate: bytes read per second over the last
 * interval, or negative when unknown.
 */
extern void show_progress (FILE *fp, json_object *reply, double rate);

/* Whether a snapshot-begin or status reply says the snapshot is
 * crash-consistent: 1 (reason, or "no reason given", in reason[len]),
 * 0 application-consistent, -1 unknown.  From "consistency" and
 * "consistency-reason", or, when the reply has no "consistency", from
 * the description's text.
 */
extern int show_crash_consistent (json_object *reply, char *reason,
                                  size_t len);

/* If a status reply says the snapshot is broken: a sentence saying so
 * with the cause in buf ("snapshot generation N is broken: ..."), and
 * true.
 */
extern bool show_broken (json_object *reply, char *buf, size_t len);

/* The replies to snapshot-begin and snapshot-end. */
extern void show_begin (FILE *fp, json_object *reply);
extern void show_end (FILE *fp, json_object *reply);

#endif /* FLEECECTL_SHOW_H */
