/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: a status reply as metrics for Prometheus (status --format
 * openmetrics|prometheus; the writing is metrics.h's).  The metrics are
 * listed in fleecectl(1), METRICS.
 *
 * Pure formatting over json-c objects; no I/O besides the FILE given.
 * Members missing from the reply (an older server) or null give no
 * sample, and a family with no sample is not printed.
 */
#ifndef FLEECECTL_OPENMETRICS_H
#define FLEECECTL_OPENMETRICS_H

#include <stdbool.h>

#include <json-c/json.h>

#include "metrics.h"

/* Is label "NAME=VALUE" usable as struct metrics' label: NAME a label
 * name ([a-zA-Z_][a-zA-Z0-9_]*, not starting "__") that none of the
 * metrics uses itself?
 */
extern bool metrics_label_ok (const char *label);

/* A whole status reply, end included. */
extern void metrics_status (const struct metrics *m, json_object *reply);

#endif /* FLEECECTL_OPENMETRICS_H */
