/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: the command line. */
#ifndef FLEECECTL_OPTIONS_H
#define FLEECECTL_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses besides EXIT_SUCCESS (0). */
#define EXIT_SERVER 1           /* the server answered with an error */
#define EXIT_USAGE 2            /* usage error, or no usable connection */

struct options {
  const char *socket;
  const char *command;          /* begin, end or status */
  const char *quiesce;          /* begin --quiesce */
  bool json, watch;
  double interval;              /* status --watch, seconds */
  long count;                   /* status --watch samples; 0: no limit */
};

/* Fill o from the command line; a usage error exits with EXIT_USAGE,
 * --help exits with 0.
 */
extern void parse_args (int argc, char **argv, struct options *o);

/* Print the usage summary. */
extern void usage (FILE *fp);

/* Print "fleecectl: MESSAGE" on stderr and exit with status. */
extern void die (int status, const char *fmt, ...)
  __attribute__ ((noreturn, format (printf, 2, 3)));

#endif /* FLEECECTL_OPTIONS_H */
