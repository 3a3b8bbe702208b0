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
           "       fleecectl --socket PATH backup --uri URI --output DIR"
           " [--full] [--fresh]\n"
           "                 [--quiesce auto|require|off]"
           " [--connections N]\n"
           "       fleecectl restore --input DIR [--at BACKUP]"
           " --output PATH\n"
           "                 [--format raw|qcow2]\n"
           "       fleecectl verify --input DIR\n"
           "       fleecectl prune --input DIR --keep-chains N"
           " [--keep-days DAYS] [--dry-run]\n"
           "       fleecectl --version\n"
           "options: --json prints JSON lines: the server's replies (status:\n"
           "         also --format json; backup, restore, verify, prune: their\n"
           "         results);\n"
           "         --timeout DURATION bounds each wait (default %ds,"
           " 0: none).\n"
           "exit status: 0 ok, 1 server error, 2 usage or connection error,"
           "\n  3 begin: crash-consistent, 4 status: broken,"
           " 5 permission denied,\n  6 changes: full backup required,"
           " 7 backup, restore, verify or\n  prune failed.\n"
           "See fleecectl(1).\n", DEFAULT_TIMEOUT);
}

void (*die_cleanup) (void);

void
die (int status, const char *fmt, ...)
{
  void (*cleanup) (void) = die_cleanup;
  va_list ap;

  fprintf (stderr, "fleecectl: ");
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\n");
  die_cleanup = NULL;
  if (cleanup)
    cleanup ();
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

/* A whole number from min to max. */
static unsigned long
parse_count (const char *opt, const char *s, unsigned long min,
             unsigned long max)
{
  char *end;
  unsigned long v;

  errno = 0;
  v = strtoul (s, &end, 10);
  if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
    die (EXIT_USAGE, "%s %s: expected a whole number from %lu to %lu", opt,
         s, min, max);
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

static bool
is (const struct options *o, const char *cmd)
{
  return strcmp (o->command, cmd) == 0;
}

/* An option given to a command it does not go with. */
static void
only_with (bool given, const struct options *o, const char *opt,
           const char *cmds)
{
  char list[64], word[32];
  size_t i;

  snprintf (list, sizeof list, " %s ", cmds);
  snprintf (word, sizeof word, " %s ", o->command);
  if (!given || strstr (list, word) != NULL)
    return;
  for (i = 1; list[i + 1]; i++)
    list[i] = list[i] == ' ' ? '/' : list[i];
  list[i] = '\0';
  die (EXIT_USAGE, "%s %s with %s", opt,
       strstr (opt, " and ") ? "go" : "goes", list + 1);
}

/* backup's, restore's and verify's options.  --socket and --timeout
 * are accepted and ignored by restore and verify, which need no
 * server, so that a script can give every command the same options.
 */
static void
check_backup_options (struct options *o)
{
  bool backup = is (o, "backup"), restore = is (o, "restore");

  only_with (o->uri || o->full || o->connections, o,
             "--uri, --full and --connections", "backup");
  only_with (o->output != NULL, o, "--output", "backup restore");
  only_with (o->input != NULL, o, "--input", "restore verify prune");
  only_with (o->metrics_file != NULL, o, "--metrics-file", "backup");
  only_with (o->at != NULL, o, "--at", "restore");
  only_with (o->format != NULL, o, "--format", "status restore");
  if (backup && o->uri == NULL)
    die (EXIT_USAGE, "backup needs --uri URI, the NBD URI of the nbdkit "
         "server (e.g. 'nbd+unix:///?socket=/run/vm1.sock')");
  if ((backup || restore) && o->output == NULL)
    die (EXIT_USAGE, "%s needs --output %s", o->command,
         backup ? "DIR (the backup directory of this VM)" : "PATH");
  if ((restore || is (o, "verify") || is (o, "prune")) && o->input == NULL)
    die (EXIT_USAGE, "%s needs --input DIR (a backup directory)",
         o->command);
  if (o->format && strcmp (o->format, "raw") != 0 &&
      strcmp (o->format, "qcow2") != 0)
    die (EXIT_USAGE, "--format %s: expected raw or qcow2", o->format);
  if (o->connections == 0)
    o->connections = DEFAULT_CONNECTIONS;
}

/* prune's options. */
static void
check_prune_options (const struct options *o)
{
  only_with (o->keep_chains || o->keep_days || o->dry_run, o,
             "--keep-chains, --keep-days and --dry-run", "prune");
  if (is (o, "prune") && o->keep_chains == 0)
    die (EXIT_USAGE, "prune needs --keep-chains N (N >= 1: how many of the "
         "newest full backups, with their incrementals, to keep)");
}

/* Check that the options fit the command. */
static void
check_options (struct options *o, bool interval_set, bool count_set)
{
  static const char *commands[] = {
    "begin", "end", "status", "changes", "backup", "restore", "verify",
    "prune",
  };
  bool known = false;
  size_t i;

  if (o->command == NULL)
    die (EXIT_USAGE, "no command: expected begin, end, status, changes, "
         "backup, restore, verify or prune");
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    known |= is (o, commands[i]);
  if (!known)
    die (EXIT_USAGE, "unknown command '%s': expected begin, end, status, "
         "changes, backup, restore, verify or prune", o->command);
  status_format (o);
  check_backup_options (o);
  check_prune_options (o);
  if (o->socket == NULL && !is (o, "restore") && !is (o, "verify") &&
      !is (o, "prune"))
    die (EXIT_USAGE, "--socket PATH is required (the filter's control=PATH)");
  if ((o->since || o->disk) && !is (o, "changes"))
    die (EXIT_USAGE, "--since and --disk go with changes");
  if (o->since == NULL && is (o, "changes"))
    die (EXIT_USAGE, "changes needs --since ID (a checkpoint, as begin "
         "and status show it)");
  only_with (o->quiesce != NULL, o, "--quiesce", "begin backup");
  if (o->quiesce && strcmp (o->quiesce, "auto") != 0 &&
      strcmp (o->quiesce, "require") != 0 && strcmp (o->quiesce, "off") != 0)
    die (EXIT_USAGE, "--quiesce %s: expected auto, require or off",
         o->quiesce);
  only_with (o->fresh, o, "--fresh", "begin backup");
  if (o->until_done && !is (o, "status"))
    die (EXIT_USAGE, "--until-done goes with status");
  if (o->until_done)
    o->watch = true;
  if (o->watch && !is (o, "status"))
    die (EXIT_USAGE, "--watch goes with status");
  if ((interval_set || count_set) && !o->watch)
    die (EXIT_USAGE, "--interval and --count go with status --watch");
  if (o->metrics && (o->watch || o->json))
    die (EXIT_USAGE, "--format %s goes without --watch and --json",
         o->metrics);
  if (o->label && !o->metrics && !o->metrics_file)
    die (EXIT_USAGE, "--label goes with status --format openmetrics or "
         "prometheus, and with backup --metrics-file");
  if (o->label && !metrics_label_ok (o->label))
    die (EXIT_USAGE, "--label %s: expected NAME=VALUE, NAME a label name "
         "([a-zA-Z_][a-zA-Z0-9_]*, not __..., not disk, state or "
         "ended_by), e.g. vm=vm1", o->label);
}

/* Long options without a short one. */
enum {
  OPT_URI = 256, OPT_OUTPUT, OPT_INPUT, OPT_AT, OPT_FORMAT, OPT_FULL,
  OPT_CONNECTIONS, OPT_KEEP_CHAINS, OPT_KEEP_DAYS, OPT_DRY_RUN,
  OPT_METRICS_FILE,
};

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
    { "label", required_argument, NULL, 'L' },
    { "uri", required_argument, NULL, OPT_URI },
    { "output", required_argument, NULL, OPT_OUTPUT },
    { "input", required_argument, NULL, OPT_INPUT },
    { "at", required_argument, NULL, OPT_AT },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "full", no_argument, NULL, OPT_FULL },
    { "connections", required_argument, NULL, OPT_CONNECTIONS },
    { "keep-chains", required_argument, NULL, OPT_KEEP_CHAINS },
    { "keep-days", required_argument, NULL, OPT_KEEP_DAYS },
    { "dry-run", no_argument, NULL, OPT_DRY_RUN },
    { "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL },
  };
  bool interval_set = false, count_set = false;
  int c;

  while ((c = getopt_long (argc, argv, "s:jq:wi:n:fut:S:d:L:hV", longopts, NULL)) != -1) {
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
    case 'L': o->label = optarg; break;
    case OPT_URI: o->uri = optarg; break;
    case OPT_OUTPUT: o->output = optarg; break;
    case OPT_INPUT: o->input = optarg; break;
    case OPT_AT: o->at = optarg; break;
    case OPT_FORMAT: o->format = optarg; break;
    case OPT_FULL: o->full = true; break;
    case OPT_CONNECTIONS:
      o->connections = parse_number ("--connections", optarg, 1,
                                     MAX_CONNECTIONS);
      break;
    case OPT_KEEP_CHAINS:
      o->keep_chains = parse_count ("--keep-chains", optarg, 1, 1000000);
      break;
    case OPT_KEEP_DAYS:
      o->keep_days = parse_number ("--keep-days", optarg, 0, 36500);
      break;
    case OPT_DRY_RUN: o->dry_run = true; break;
    case OPT_METRICS_FILE:
      if (optarg[0] == '\0')
        die (EXIT_USAGE, "--metrics-file: expected a file path (for node "
             "exporter's textfile collector, a .prom file in its directory)");
      o->metrics_file = optarg;
      break;
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

