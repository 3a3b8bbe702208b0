/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: status --watch (see watch.h).
 *
 * One status request per interval, on one connection.  Each sample is
 * printed (a progress line, redrawn in place on a terminal, or with
 * --json the reply) with the read rate over the last interval: the
 * growth of "bytes-read" divided by the monotonic time between the two
 * replies; unknown for the first sample of a generation.
 *
 * The watch ends: after --count samples; on SIGINT or SIGTERM; when
 * there is no snapshot (state none; one being created is waited for);
 * when the snapshot is broken (EXIT_BROKEN, the cause on standard
 * error, after the last sample).  With --until-done also when "progress" reaches 1, or when
 * the generation changes (the watched snapshot ended and another
 * began between two samples).  Whatever ended a watch that saw a
 * snapshot is said in a last line (not with --json).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "conn.h"
#include "options.h"
#include "request.h"
#include "show.h"
#include "watch.h"

/* The last sample of a snapshot. */
struct seen {
  bool valid;
  uint64_t generation, bytes_read;
  double t;                     /* when its reply arrived, seconds */
};

static void
on_signal (int sig)
{
  conn_interrupted = 1;
}

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
pause_interval (double secs)
{
  struct timespec ts = { .tv_sec = secs, .tv_nsec = 0 };

  ts.tv_nsec = (secs - ts.tv_sec) * 1e9;
  while (!conn_interrupted && nanosleep (&ts, &ts) == -1 && errno == EINTR)
    ;
}

/* The member as an integer; false if missing or null. */
static bool
member (json_object *r, const char *key, uint64_t *v)
{
  json_object *m = NULL;

  if (!json_object_object_get_ex (r, key, &m) || m == NULL)
    return false;
  *v = json_object_get_int64 (m);
  return true;
}

/* Print one sample; update *last. */
static void
print_sample (const struct options *o, const struct reply *r,
              struct seen *last, bool tty)
{
  struct seen s = { .t = now () };
  double rate = -1;

  s.valid = member (r->obj, "generation", &s.generation);
  member (r->obj, "bytes-read", &s.bytes_read);
  if (s.valid && last->valid && last->generation == s.generation &&
      s.t > last->t && s.bytes_read >= last->bytes_read)
    rate = (s.bytes_read - last->bytes_read) / (s.t - last->t);
  *last = s;
  if (o->json)
    printf ("%s\n", r->line);
  else {
    fputs (tty ? "\r\033[K" : "", stdout);
    show_progress (stdout, r->obj, rate);
    fputs (tty ? "" : "\n", stdout);
  }
  fflush (stdout);
}

/* After a sample: -1 to go on, or the exit status, with why[] saying
 * why the watch ended (empty: nothing to say; for EXIT_BROKEN, the
 * warning).  *watched is the
 * generation watched so far (0: none yet).
 */
static int
verdict (const struct options *o, json_object *r, uint64_t *watched,
         char *why, size_t len)
{
  json_object *p = NULL, *state = NULL;
  uint64_t gen;

  json_object_object_get_ex (r, "state", &state);
  if (!member (r, "generation", &gen)) {
    if (state && strcmp (json_object_get_string (state), "creating") == 0)
      return -1;
    if (*watched)
      snprintf (why, len, "snapshot generation %" PRIu64 " ended", *watched);
    return EXIT_SUCCESS;
  }
  if (show_broken (r, why, len))
    return EXIT_BROKEN;
  if (o->until_done && *watched && gen != *watched) {
    snprintf (why, len, "snapshot generation %" PRIu64 " ended; generation "
              "%" PRIu64 " is another snapshot", *watched, gen);
    return EXIT_SUCCESS;
  }
  *watched = gen;
  if (o->until_done && json_object_object_get_ex (r, "progress", &p) &&
      json_object_get_double (p) >= 1) {
    snprintf (why, len, "snapshot generation %" PRIu64 ": all read", gen);
    return EXIT_SUCCESS;
  }
  return -1;
}

int
watch (const struct options *o, struct conn *c)
{
  struct sigaction sa = { .sa_handler = on_signal };
  bool tty = isatty (STDOUT_FILENO) && !o->json;
  struct seen last = { .valid = false };
  struct reply r;
  uint64_t watched = 0;
  char why[256] = "";
  int status = -1;
  long n;

  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  for (n = 1; status == -1 && (o->count == 0 || n <= o->count); n++) {
    if (n > 1)
      pause_interval (o->interval);
    if (conn_interrupted || !request (o, c, "status", n, &r))
      break;
    print_sample (o, &r, &last, tty);
    status = verdict (o, r.obj, &watched, why, sizeof why);
    reply_free (&r);
  }
  if (tty)
    putchar ('\n');
  if (status == EXIT_BROKEN)
    fprintf (stderr, "fleecectl: %s\n", why);
  else if (why[0] && !o->json)
    printf ("%s\n", why);
  return status == -1 ? EXIT_SUCCESS : status;
}
