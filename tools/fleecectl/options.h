/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: the command line. */
#ifndef FLEECECTL_OPTIONS_H
#define FLEECECTL_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses besides EXIT_SUCCESS (0), documented in fleecectl(1),
 * EXIT STATUS.
 */
#define EXIT_SERVER 1           /* the server answered with an error */
#define EXIT_USAGE 2            /* usage error, or no usable connection */
#define EXIT_CRASH 3            /* begin: taken, but crash-consistent */
#define EXIT_BROKEN 4           /* status: the snapshot is broken */
#define EXIT_PERMISSION 5       /* refused by file mode or credentials */
#define EXIT_FULL_BACKUP 6      /* changes: full-backup-required */
#define EXIT_FAILED 7           /* backup, restore, verify or prune failed */

/* --timeout's default, seconds.  It must exceed the longest wait of a
 * legitimate snapshot-begin with the filter's and the plugin's default
 * bounds (see fleecectl(1), --timeout), even behind another client's.
 */
#define DEFAULT_TIMEOUT 120

/* --connections: default and bounds. */
#define DEFAULT_CONNECTIONS 4
#define MAX_CONNECTIONS 16

struct options {
  const char *socket;
  const char *command;          /* begin, end, status, changes, backup,
                                 * restore, verify or prune */
  const char *uri;              /* backup --uri */
  const char *output;           /* backup, restore --output */
  const char *input;            /* restore, verify, prune --input */
  unsigned long keep_chains;    /* prune --keep-chains (0: not given) */
  double keep_days;             /* prune --keep-days (0: no age rule) */
  bool dry_run;                 /* prune --dry-run */
  const char *metrics_file;     /* backup --metrics-file */
  const char *at;               /* restore --at */
  const char *format;           /* --format as given: status consumes
                                 * it (metrics, json), restore's is raw
                                 * or qcow2 (default raw) */
  bool full;                    /* backup --full */
  int connections;              /* backup --connections */
  const char *since;            /* changes --since */
  const char *disk;             /* changes --disk */
  const char *quiesce;          /* begin --quiesce */
  bool fresh;                   /* begin --fresh */
  const char *metrics;          /* status --format openmetrics or
                                 * prometheus; NULL: text (or --json) */
  const char *label;            /* ... --label NAME=VALUE (also backup
                                 * --metrics-file's) */
  bool json, watch;
  bool until_done;              /* status --watch --until-done */
  double interval;              /* status --watch, seconds */
  long count;                   /* status --watch samples; 0: no limit */
  double timeout;               /* seconds per wait; 0: no limit */
};

/* Fill o from the command line; a usage error exits with EXIT_USAGE,
 * --help and --version exit with 0.
 */
extern void parse_args (int argc, char **argv, struct options *o);

/* Print the usage summary. */
extern void usage (FILE *fp);

/* Print "fleecectl: MESSAGE" on stderr and exit with status.  If
 * die_cleanup is set, it is cleared and then called before the exit
 * (so a die inside it exits at once): a backup's removal of its
 * partial directory on every way out.
 */
extern void die (int status, const char *fmt, ...)
  __attribute__ ((noreturn, format (printf, 2, 3)));
extern void (*die_cleanup) (void);

#endif /* FLEECECTL_OPTIONS_H */
