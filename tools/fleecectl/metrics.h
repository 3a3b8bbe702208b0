/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: writing metrics for Prometheus, in the OpenMetrics text
 * format or in Prometheus' classic text format (what node exporter's
 * textfile collector parses).  The two differ only in a counter's
 * family name (OpenMetrics: NAME in "# TYPE", samples NAME_total;
 * classic: NAME_total in both) and in the "# EOF" line that ends
 * OpenMetrics.  Every name starts nbdkit_fleece_; the functions take
 * names without that prefix and without _total.  The caller prints a
 * family's header once, then its samples together.  No I/O besides
 * the FILE given; no state.
 */
#ifndef FLEECECTL_METRICS_H
#define FLEECECTL_METRICS_H

#include <stdbool.h>
#include <stdio.h>

struct metrics {
  FILE *fp;
  bool openmetrics;             /* false: Prometheus' classic format */
  const char *label;            /* "NAME=VALUE": a label on every
                                 * sample (NAME checked by the caller,
                                 * metrics_label_ok), or NULL */
};

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

#endif /* FLEECECTL_METRICS_H */
