/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: the command line (see options.h).
 *
 * Options may come before or after the command.  Every combination
 * that makes no sense (--watch with begin, --quiesce with status, a
 * bad number) is a usage error, exit status 2.  --until-done implies
 * --watch.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openmetrics.h"
#include "options.h"

void
usage (FILE *fp)
{
  fprintf (fp,
           "usage: fleecectl --socket PATH begin [--fresh]"
           " [--quiesce auto|require|off]\n"
           "       fleecectl --socket PATH end\n"
           "       fleecectl --socket PATH status [--watch [--until-done]"
           " [--interval SECS]\n"
           "                                          [--count N]]\n"
           "       fleecectl --socket PATH status --format"
           " openmetrics|prometheus [--label NAME=VALUE]\n"
           "       fleecectl --socket PATH changes --since ID [--disk NAME]\n"
           "       fleecectl --version\n"
           "options: --json (status: --format json) prints the server's"
           " replies as JSON lines;\n"
           "         --timeout DURATION bounds each wait (default %ds,"
           " 0: none).\n"
           "exit status: 0 ok, 1 server error, 2 usage or connection error,"
           "\n  3 begin: crash-consistent, 4 status: broken,"
           " 5 permission denied,\n  6 changes: full backup required.\n"
           "See fleecectl(1).\n", DEFAULT_TIMEOUT);
}

void
die (int status, const char *fmt, ...)
{
  va_list ap;

  fprintf (stderr, "fleecectl: ");
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\n");
  exit (status);
}

static double
parse_number (const char *opt, const char *s, double min, double max)
{
  char *end;
  double v;

  errno = 0;
  v = strtod (s, &end);
  if (errno || end == s || *end || !(v >= min && v <= max))
    die (EXIT_USAGE, "%s %s: expected a number from %g to %g", opt, s,
         min, max);
  return v;
}

/* A duration: a number of seconds, or a number with a unit ms, s, m
 * or h, from 1ms to 1e6 seconds.  0 means no limit.
 */
static double
parse_duration (const char *opt, const char *s)
{
  static const struct { const char *unit; double secs; } units[] = {
    { "", 1 }, { "ms", 0.001 }, { "s", 1 }, { "m", 60 }, { "h", 3600 },
  };
  char *end;
  double v, secs;
  size_t i;

  errno = 0;
  v = strtod (s, &end);
  if (errno == 0 && end != s && v >= 0)
    for (i = 0; i < sizeof units / sizeof units[0]; i++) {
      secs = v * units[i].secs;
      if (strcmp (end, units[i].unit) == 0 &&
          (secs == 0 || (secs >= 0.001 && secs <= 1e6)))
        return secs;
    }
  die (EXIT_USAGE, "%s %s: expected a duration from 1ms to 1e6 seconds "
       "such as 30s, 500ms, 2m, or 0 for no limit", opt, s);
}

/* status --format: text, json (as --json), openmetrics or prometheus.
 * It is consumed (o->format NULL after): a --format left is another
 * command's.
 */
static void
status_format (struct options *o)
{
  const char *f = o->format;

  if (f == NULL || strcmp (o->command, "status") != 0)
    return;
  if (strcmp (f, "json") == 0)
    o->json = true;
  else if (strcmp (f, "openmetrics") == 0 || strcmp (f, "prometheus") == 0)
    o->metrics = f;
  else if (strcmp (f, "text") != 0)
    die (EXIT_USAGE, "--format %s: expected text, json, openmetrics or "
         "prometheus", f);
  o->format = NULL;
}

/* Check that the options fit the command. */
static void
check_options (struct options *o, bool interval_set, bool count_set)
{
  if (o->socket == NULL)
    die (EXIT_USAGE, "--socket PATH is required (the filter's control=PATH)");
  if (o->command == NULL)
    die (EXIT_USAGE, "no command: expected begin, end, status or changes");
  if (strcmp (o->command, "begin") != 0 && strcmp (o->command, "end") != 0 &&
      strcmp (o->command, "status") != 0 &&
      strcmp (o->command, "changes") != 0)
    die (EXIT_USAGE, "unknown command '%s': expected begin, end, status or "
         "changes", o->command);
  if ((o->since || o->disk) && strcmp (o->command, "changes") != 0)
    die (EXIT_USAGE, "--since and --disk go with changes");
  if (o->since == NULL && strcmp (o->command, "changes") == 0)
    die (EXIT_USAGE, "changes needs --since ID (a checkpoint, as begin "
         "and status show it)");
  if (o->quiesce && strcmp (o->command, "begin") != 0)
    die (EXIT_USAGE, "--quiesce goes with begin");
  if (o->quiesce && strcmp (o->quiesce, "auto") != 0 &&
      strcmp (o->quiesce, "require") != 0 && strcmp (o->quiesce, "off") != 0)
    die (EXIT_USAGE, "--quiesce %s: expected auto, require or off",
         o->quiesce);
  if (o->fresh && strcmp (o->command, "begin") != 0)
    die (EXIT_USAGE, "--fresh goes with begin");
  if (o->until_done && strcmp (o->command, "status") != 0)
    die (EXIT_USAGE, "--until-done goes with status");
  if (o->until_done)
    o->watch = true;
  if (o->watch && strcmp (o->command, "status") != 0)
    die (EXIT_USAGE, "--watch goes with status");
  if ((interval_set || count_set) && !o->watch)
    die (EXIT_USAGE, "--interval and --count go with status --watch");
  status_format (o);
  if (o->format)
    die (EXIT_USAGE, "--format goes with status");
  if (o->metrics && (o->watch || o->json))
    die (EXIT_USAGE, "--format %s goes without --watch and --json",
         o->metrics);
  if (o->label && !o->metrics)
    die (EXIT_USAGE, "--label goes with --format openmetrics or prometheus");
  if (o->label && !metrics_label_ok (o->label))
    die (EXIT_USAGE, "--label %s: expected NAME=VALUE, NAME a label name "
         "([a-zA-Z_][a-zA-Z0-9_]*, not __..., not disk, state or "
         "ended_by), e.g. vm=vm1", o->label);
}

void
parse_args (int argc, char **argv, struct options *o)
{
  static const struct option longopts[] = {
    { "socket", required_argument, NULL, 's' },
    { "json", no_argument, NULL, 'j' },
    { "quiesce", required_argument, NULL, 'q' },
    { "watch", no_argument, NULL, 'w' },
    { "interval", required_argument, NULL, 'i' },
    { "count", required_argument, NULL, 'n' },
    { "fresh", no_argument, NULL, 'f' },
    { "until-done", no_argument, NULL, 'u' },
    { "timeout", required_argument, NULL, 't' },
    { "since", required_argument, NULL, 'S' },
    { "disk", required_argument, NULL, 'd' },
    { "format", required_argument, NULL, 'F' },
    { "label", required_argument, NULL, 'L' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL },
  };
  bool interval_set = false, count_set = false;
  int c;

  while ((c = getopt_long (argc, argv, "s:jq:wi:n:fut:S:d:F:L:hV", longopts, NULL)) != -1) {
    switch (c) {
    case 's': o->socket = optarg; break;
    case 'j': o->json = true; break;
    case 'q': o->quiesce = optarg; break;
    case 'w': o->watch = true; break;
    case 'i':
      o->interval = parse_number ("--interval", optarg, 0.01, 3600);
      interval_set = true;
      break;
    case 'n':
      o->count = parse_number ("--count", optarg, 1, 1e9);
      count_set = true;
      break;
    case 'f': o->fresh = true; break;
    case 'u': o->until_done = true; break;
    case 't': o->timeout = parse_duration ("--timeout", optarg); break;
    case 'S': o->since = optarg; break;
    case 'd': o->disk = optarg; break;
    case 'F': o->format = optarg; break;
    case 'L': o->label = optarg; break;
    case 'h': usage (stdout); exit (EXIT_SUCCESS);
    case 'V': printf ("fleecectl %s\n", PACKAGE_VERSION); exit (EXIT_SUCCESS);
    default: usage (stderr); exit (EXIT_USAGE);
    }
  }
  if (optind < argc)
    o->command = argv[optind++];
  if (optind < argc)
    die (EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
  check_options (o, interval_set, count_set);
}

