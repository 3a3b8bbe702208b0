/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: a status reply as metrics for Prometheus: the OpenMetrics
 * text format (status --format openmetrics) or Prometheus' classic
 * text format (--format prometheus, what node exporter's textfile
 * collector parses).  The metrics are listed in fleecectl(1), METRICS.
 *
 * The two formats differ only in a counter's family name (OpenMetrics:
 * NAME in "# TYPE", samples NAME_total; classic: NAME_total in both)
 * and in the "# EOF" line that ends OpenMetrics.  Every name starts
 * nbdkit_fleece_; the functions below that take a name take it without
 * that prefix and without _total.
 *
 * Pure formatting over json-c objects; no I/O besides the FILE given.
 * Members missing from the reply (an older server) or null give no
 * sample, and a family with no sample is not printed.
 */
#ifndef FLEECECTL_OPENMETRICS_H
#define FLEECECTL_OPENMETRICS_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

struct metrics {
  FILE *fp;
  bool openmetrics;             /* false: Prometheus' classic format */
  const char *label;            /* "NAME=VALUE": a label on every
                                 * sample (NAME checked by the caller,
                                 * metrics_label_ok), or NULL */
};

/* Is label "NAME=VALUE" usable as struct metrics' label: NAME a label
 * name ([a-zA-Z_][a-zA-Z0-9_]*, not starting "__") that none of the
 * metrics uses itself?
 */
extern bool metrics_label_ok (const char *label);

/* A family's "# TYPE" and "# HELP" lines (help: one line of text). */
extern void metrics_header (const struct metrics *m, const char *name,
                            bool counter, const char *help);

/* One sample: value already formatted as a number; label (a label
 * name) NULL for none, else its value is escaped as the formats say.
 * m's label comes first.
 */
extern void metrics_sample (const struct metrics *m, const char *name,
                            bool counter, const char *label,
                            const char *label_value, const char *value);

/* The end of the exposition ("# EOF" for OpenMetrics). */
extern void metrics_end (const struct metrics *m);

/* A whole status reply, end included. */
extern void metrics_status (const struct metrics *m, json_object *reply);

#endif /* FLEECECTL_OPENMETRICS_H */
