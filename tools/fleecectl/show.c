/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: human-readable output of control replies (see show.h).
 *
 * Sizes in IEC units (KiB = 1024 bytes) with one decimal, durations in
 * milliseconds with three, progress in percent with one.  The labels
 * are for people; scripts use --json.
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
  fprintf (fp, "read:             %s of %s (%.1f%%)\n",
           show_iec (u64 (o, "bytes-read"), a, sizeof a),
           show_iec (u64 (o, "disk-size"), b, sizeof b),
           num (o, "progress") * 100);
  if (get (o, "broken-cause"))
    fprintf (fp, "broken:           %s\n", str (o, "broken-cause"));
}

void
show_status (FILE *fp, json_object *o)
{
  char a[32], b[32];

  fprintf (fp, "state:            %s%s\n", str (o, "state"),
           json_object_get_boolean (get (o, "pinned")) ? " (pinned)" : "");
  if (has_snapshot (o))
    show_figures (fp, o);
  fprintf (fp, "store:            %s in use, limit %s\n",
           show_iec (u64 (o, "store-bytes"), a, sizeof a),
           get (o, "store-limit")
           ? show_iec (u64 (o, "store-limit"), b, sizeof b) : "none");
  fprintf (fp, "snapshot clients: %" PRIu64 "\n",
           u64 (o, "snapshot-clients"));
}

void
show_progress (FILE *fp, json_object *o)
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
  fprintf (fp, "generation %" PRIu64 " %s [%s] %5.1f%%  %s of %s read, "
           "store %s", u64 (o, "generation"), str (o, "state"), bar, p * 100,
           show_iec (u64 (o, "bytes-read"), a, sizeof a),
           show_iec (u64 (o, "disk-size"), b, sizeof b),
           show_iec (u64 (o, "store-bytes"), c, sizeof c));
}

void
show_begin (FILE *fp, json_object *o)
{
  fprintf (fp, "snapshot generation %" PRIu64 " active and pinned until "
           "'fleecectl end'\n", u64 (o, "generation"));
  if (get (o, "description"))
    fprintf (fp, "%s\n", str (o, "description"));
}

void
show_end (FILE *fp, json_object *o)
{
  fprintf (fp, "snapshot generation %" PRIu64 " ended\n",
           u64 (o, "generation"));
}
