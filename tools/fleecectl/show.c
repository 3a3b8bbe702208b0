/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: human-readable output of control replies (see show.h).
 *
 * Sizes in IEC units (KiB = 1024 bytes) with one decimal, durations in
 * milliseconds with three, progress in percent with one, an ETA in
 * H:MM:SS.  The labels are for people; scripts use --json.
 *
 * The total a backup reads is "data-bytes" (the data extents of the
 * snapshot) when the server gives it, else "disk-size"; "progress" is
 * the server's, relative to the same total.
 */
#include <config.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "show.h"

#define BAR_WIDTH 30

const char *
show_iec (uint64_t bytes, char *buf, size_t len)
{
  static const char *units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  double v = bytes;
  size_t i = 0;

  if (bytes < 1024) {
    snprintf (buf, len, "%" PRIu64 " B", bytes);
    return buf;
  }
  v /= 1024;
  while (v >= 1024 && i + 1 < sizeof units / sizeof units[0]) {
    v /= 1024;
    i++;
  }
  if (v == (double) (uint64_t) v)
    snprintf (buf, len, "%.0f %s", v, units[i]);
  else
    snprintf (buf, len, "%.1f %s", v, units[i]);
  return buf;
}

/* The member, or NULL when missing or null. */
static json_object *
get (json_object *o, const char *key)
{
  json_object *v = NULL;

  if (!json_object_object_get_ex (o, key, &v))
    return NULL;
  return v;
}

static const char *
str (json_object *o, const char *key)
{
  json_object *v = get (o, key);

  return v ? json_object_get_string (v) : "-";
}

static uint64_t
u64 (json_object *o, const char *key)
{
  json_object *v = get (o, key);

  return v ? (uint64_t) json_object_get_int64 (v) : 0;
}

static double
num (json_object *o, const char *key)
{
  json_object *v = get (o, key);

  return v ? json_object_get_double (v) : 0;
}

static bool
has_snapshot (json_object *o)
{
  return get (o, "generation") != NULL;
}

/* The bytes a backup reads in all (see the top of this file). */
static uint64_t
total (json_object *o)
{
  return get (o, "data-bytes") ? u64 (o, "data-bytes") : u64 (o, "disk-size");
}

int
show_crash_consistent (json_object *o, char *reason, size_t len)
{
  const char *d = get (o, "description")
    ? json_object_get_string (get (o, "description")) : "";
  const char *app = strstr (d, "application-consistent");
  const char *crash = strstr (d, "crash-consistent");

  if (get (o, "consistency")) {
    if (strcmp (str (o, "consistency"), "application-consistent") == 0)
      return 0;
    if (strcmp (str (o, "consistency"), "crash-consistent") != 0)
      return -1;
    snprintf (reason, len, "%s", get (o, "consistency-reason")
              ? str (o, "consistency-reason") : "no reason given");
    return 1;
  }
  if (crash == NULL || (app && app < crash))
    return app ? 0 : -1;
  crash += strlen ("crash-consistent");
  snprintf (reason, len, "%s", strncmp (crash, ": ", 2) == 0 && crash[2]
            ? crash + 2 : "no reason given");
  return 1;
}

static void
show_consistency (FILE *fp, json_object *o)
{
  if (get (o, "consistency-reason") == NULL)
    fprintf (fp, "consistency:      %s: %" PRIu64 " filesystem%s frozen "
             "for %.3f ms\n", str (o, "consistency"),
             u64 (o, "frozen-filesystems"),
             u64 (o, "frozen-filesystems") == 1 ? "" : "s",
             num (o, "frozen-ms"));
  else
    fprintf (fp, "consistency:      %s: %s\n", str (o, "consistency"),
             str (o, "consistency-reason"));
}

static void
show_figures (FILE *fp, json_object *o)
{
  char a[32], b[32];

  fprintf (fp, "generation:       %" PRIu64 ", taken %s\n",
           u64 (o, "generation"), str (o, "taken-at"));
  show_consistency (fp, o);
  fprintf (fp, "timings:          freeze %.3f ms, barrier %.3f ms, "
           "thaw %.3f ms\n", num (o, "freeze-ms"), num (o, "barrier-ms"),
           num (o, "thaw-ms"));
  fprintf (fp, "disk:             %s, %" PRIu64 " blocks of %s\n",
           show_iec (u64 (o, "disk-size"), a, sizeof a),
           u64 (o, "blocks-total"), show_iec (u64 (o, "block-size"), b,
                                              sizeof b));
  fprintf (fp, "blocks:           %" PRIu64 " preserved, %" PRIu64 " zero, "
           "%" PRIu64 " released (%s)\n", u64 (o, "blocks-preserved"),
           u64 (o, "blocks-zero"), u64 (o, "blocks-released"),
           show_iec (u64 (o, "released-bytes"), a, sizeof a));
  fprintf (fp, "copies:           %" PRIu64 " (%s), mean %.3f ms, "
           "p99 %.3f ms\n", u64 (o, "copy-count"),
           show_iec (u64 (o, "bytes-copied"), a, sizeof a),
           num (o, "copy-mean-ms"), num (o, "copy-p99-ms"));
  fprintf (fp, "live writes:      %" PRIu64 ", added mean %.3f ms, "
           "p99 %.3f ms\n", u64 (o, "live-writes"),
           num (o, "live-added-mean-ms"), num (o, "live-added-p99-ms"));
  fprintf (fp, "read:             %s of %s%s (%.1f%%)\n",
           show_iec (u64 (o, "bytes-read"), a, sizeof a),
           show_iec (total (o), b, sizeof b),
           get (o, "data-bytes") ? " of data" : "",
           num (o, "progress") * 100);
  if (get (o, "broken-cause"))
    fprintf (fp, "broken:           %s\n", str (o, "broken-cause"));
}

/* One line per named disk (a multi-disk server's disks[]). */
static void
show_disks (FILE *fp, json_object *o)
{
  json_object *disks = get (o, "disks"), *d;
  char a[32], b[32], c[32], e[32], name[80];
  size_t i, n = json_object_is_type (disks, json_type_array)
    ? json_object_array_length (disks) : 0;

  for (i = 0; i < n; i++) {
    d = json_object_array_get_idx (disks, i);
    if (*str (d, "name") == '\0')
      return;                   /* one unnamed disk: the lines above */
    snprintf (name, sizeof name, "disk %s:", str (d, "name"));
    if (get (d, "disk-size") == NULL) {
      fprintf (fp, "%-17s %s\n", name, str (d, "export"));
      continue;
    }
    fprintf (fp, "%-17s %s, %s, %" PRIu64 " preserved, store %s, read %s "
             "of %s (%.1f%%)%s%s\n", name, str (d, "state"),
             show_iec (u64 (d, "disk-size"), a, sizeof a),
             u64 (d, "blocks-preserved"),
             show_iec (u64 (d, "store-bytes"), b, sizeof b),
             show_iec (u64 (d, "bytes-read"), c, sizeof c),
             show_iec (total (d), e, sizeof e), num (d, "progress") * 100,
             get (d, "broken-cause") ? ": " : "",
             get (d, "broken-cause") ? str (d, "broken-cause") : "");
  }
}

/* The totals since nbdkit started and the last ended snapshot (from a
 * server that sends them).
 */
static void
show_history (FILE *fp, json_object *o)
{
  json_object *t = get (o, "totals"), *l = get (o, "last-snapshot");
  char a[32], b[32];

  if (t)
    fprintf (fp, "totals:           %" PRIu64 " created, %" PRIu64 " failed, "
             "%" PRIu64 " crash-consistent, %" PRIu64 " freeze failures, "
             "%" PRIu64 " ended, %" PRIu64 " broken, %" PRIu64 " writes "
             "refused\n", u64 (t, "snapshots-created"),
             u64 (t, "snapshots-failed"),
             u64 (t, "snapshots-crash-consistent"),
             u64 (t, "freeze-failures"), u64 (t, "snapshots-ended"),
             u64 (t, "snapshots-broken"), u64 (t, "writes-refused"));
  if (t && l == NULL)
    fprintf (fp, "last snapshot:    none\n");
  if (l)
    fprintf (fp, "last snapshot:    generation %" PRIu64 ", ended by %s at "
             "%s, %s, read %s, copied %s%s%s\n", u64 (l, "generation"),
             str (l, "ended-by"), str (l, "ended-at"),
             str (l, "consistency"),
             show_iec (u64 (l, "bytes-read"), a, sizeof a),
             show_iec (u64 (l, "bytes-copied"), b, sizeof b),
             get (l, "broken-cause") ? ", broken: " : "",
             get (l, "broken-cause") ? str (l, "broken-cause") : "");
}

void
show_status (FILE *fp, json_object *o)
{
  char a[32], b[32];
  json_object *disks = get (o, "disks");
  bool several = json_object_is_type (disks, json_type_array) &&
    json_object_array_length (disks) > 1;

  fprintf (fp, "state:            %s%s\n", str (o, "state"),
           json_object_get_boolean (get (o, "pinned")) ? " (pinned)" : "");
  if (has_snapshot (o))
    show_figures (fp, o);
  if (get (o, "checkpoint"))
    fprintf (fp, "checkpoint:       %s\n", str (o, "checkpoint"));
  show_disks (fp, o);
  fprintf (fp, "store:            %s in use, limit %s%s\n",
           show_iec (u64 (o, "store-bytes"), a, sizeof a),
           get (o, "store-limit")
           ? show_iec (u64 (o, "store-limit"), b, sizeof b) : "none",
           several && get (o, "store-limit") ? " per disk" : "");
  fprintf (fp, "snapshot clients: %" PRIu64 "\n",
           u64 (o, "snapshot-clients"));
  show_history (fp, o);
}

/* "rate 1.5 MiB/s, ETA 0:01:05" ("-" for what is unknown, "ETA done"
 * once all is read).
 */
static void
show_rate (FILE *fp, json_object *o, double rate)
{
  char a[32];
  double p = num (o, "progress");
  double eta = rate > 0 ? (1 - p) * total (o) / rate + 0.999 : -1;

  if (rate < 0)
    fputs ("rate -, ETA ", fp);
  else
    fprintf (fp, "rate %s/s, ETA ", show_iec (rate, a, sizeof a));
  if (p >= 1)
    fputs ("done", fp);
  else if (eta >= 0 && eta < 360000)
    fprintf (fp, "%d:%02d:%02d", (int) eta / 3600, (int) eta / 60 % 60,
             (int) eta % 60);
  else
    fputs ("-", fp);
}

void
show_progress (FILE *fp, json_object *o, double rate)
{
  char bar[BAR_WIDTH + 1], a[32], b[32], c[32];
  double p = num (o, "progress");
  int i, full = p * BAR_WIDTH + 0.5;

  if (!has_snapshot (o)) {
    fprintf (fp, "no snapshot (state %s)", str (o, "state"));
    return;
  }
  for (i = 0; i < BAR_WIDTH; i++)
    bar[i] = i < full ? '#' : '.';
  bar[BAR_WIDTH] = '\0';
  fprintf (fp, "generation %" PRIu64 " %s [%s] %5.1f%%  %s of %s read, ",
           u64 (o, "generation"), str (o, "state"), bar, p * 100,
           show_iec (u64 (o, "bytes-read"), a, sizeof a),
           show_iec (total (o), b, sizeof b));
  show_rate (fp, o, rate);
  fprintf (fp, ", store %s, copy p99 %.3f ms, live added p99 %.3f ms",
           show_iec (u64 (o, "store-bytes"), c, sizeof c),
           num (o, "copy-p99-ms"), num (o, "live-added-p99-ms"));
}

void
show_begin (FILE *fp, json_object *o)
{
  json_object *created = get (o, "created");
  char reason[512];

  fprintf (fp, "snapshot generation %" PRIu64 " %s, pinned until "
           "'fleecectl end'\n", u64 (o, "generation"),
           created == NULL ? "active"
           : json_object_get_boolean (created) ? "created"
           : "adopted (it was already active)");
  switch (show_crash_consistent (o, reason, sizeof reason)) {
  case 0:
    fprintf (fp, "consistency:  application-consistent\n");
    break;
  case 1:
    fprintf (fp, "consistency:  crash-consistent: %s\n", reason);
    break;
  default:
    fprintf (fp, "consistency:  unknown (the server does not say)\n");
  }
  if (get (o, "description"))
    fprintf (fp, "description:  %s\n", str (o, "description"));
  if (get (o, "checkpoint"))
    fprintf (fp, "checkpoint:   %s\n", str (o, "checkpoint"));
}

bool
show_broken (json_object *o, char *buf, size_t len)
{
  if (!has_snapshot (o) || strcmp (str (o, "state"), "broken") != 0)
    return false;
  snprintf (buf, len, "snapshot generation %" PRIu64 " is broken: %s",
            u64 (o, "generation"), str (o, "broken-cause"));
  return true;
}

void
show_end (FILE *fp, json_object *o)
{
  fprintf (fp, "snapshot generation %" PRIu64 " ended\n",
           u64 (o, "generation"));
}
