/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: writing metrics in the OpenMetrics text format or
 * Prometheus' classic text format (see metrics.h).
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

#define PREFIX "nbdkit_fleece_"

void
metrics_header (const struct metrics *m, const char *name, bool counter,
                const char *help)
{
  const char *total = counter && !m->openmetrics ? "_total" : "";

  fprintf (m->fp, "# TYPE " PREFIX "%s%s %s\n", name, total,
           counter ? "counter" : "gauge");
  fprintf (m->fp, "# HELP " PREFIX "%s%s %s\n", name, total, help);
}

/* A label value: backslash, double quote and newline escaped. */
static void
put_escaped (FILE *fp, const char *s)
{
  for (; *s; s++) {
    if (*s == '\\' || *s == '"')
      fputc ('\\', fp);
    if (*s == '\n')
      fputs ("\\n", fp);
    else
      fputc (*s, fp);
  }
}

void
metrics_sample (const struct metrics *m, const char *name, bool counter,
                const char *label, const char *label_value,
                const char *value)
{
  size_t n = m->label ? strcspn (m->label, "=") : 0;

  fprintf (m->fp, PREFIX "%s%s", name, counter ? "_total" : "");
  if (m->label) {
    fprintf (m->fp, "{%.*s=\"", (int) n, m->label);
    put_escaped (m->fp, m->label + n + 1);
    fputc ('"', m->fp);
  }
  if (label) {
    fprintf (m->fp, "%s%s=\"", m->label ? "," : "{", label);
    put_escaped (m->fp, label_value);
    fputc ('"', m->fp);
  }
  fprintf (m->fp, "%s %s\n", m->label || label ? "}" : "", value);
}

void
metrics_end (const struct metrics *m)
{
  if (m->openmetrics)
    fputs ("# EOF\n", m->fp);
}
