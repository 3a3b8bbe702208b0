/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: human-readable output of control replies.
 *
 * Pure formatting over json-c objects (the reply members documented in
 * nbdkit-fleece-filter(1), PROTOCOL); missing or null members print
 * as "-".  No I/O besides the FILE given.
 */
#ifndef FLEECECTL_SHOW_H
#define FLEECECTL_SHOW_H

#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/* Format bytes in IEC units ("512 B", "1.5 GiB") into buf. */
extern const char *show_iec (uint64_t bytes, char *buf, size_t len);

/* The status reply, one figure per line. */
extern void show_status (FILE *fp, json_object *reply);

/* One progress line for status --watch (no newline), e.g.
 * "generation 3 active [#####.....]  50.0%  512 KiB of 1.0 MiB read".
 */
extern void show_progress (FILE *fp, json_object *reply);

/* The replies to snapshot-begin and snapshot-end. */
extern void show_begin (FILE *fp, json_object *reply);
extern void show_end (FILE *fp, json_object *reply);

#endif /* FLEECECTL_SHOW_H */
