/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup: the report (see backup-report.h). */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "backup-report.h"
#include "show.h"

static void
disk_line (const struct manifest *m, const struct mdisk *d)
{
  char c[32], z[32], e[32], f[32];

  printf ("  %s: %s copied, %s zeroed of %s examined -> %s/%s (%s)\n",
          d->name[0] ? d->name : "disk", show_iec (d->copied, c, sizeof c),
          show_iec (d->zeroed, z, sizeof z), show_iec (d->examined, e, sizeof e),
          m->name, d->file, show_iec (d->file_size, f, sizeof f));
}

static void
summary (const struct manifest *m, uint64_t copied, double seconds)
{
  char c[32], r[32], kind[128];

  if (m->parent)
    snprintf (kind, sizeof kind, "incremental since %s", m->parent);
  else
    snprintf (kind, sizeof kind, "full");
  printf ("backup %s: %s, %zu disk%s, %s copied in %.2f s (%s/s), %s, "
          "generation %" PRId64 "\n", m->name, kind, m->ndisks,
          m->ndisks == 1 ? "" : "s", show_iec (copied, c, sizeof c), seconds,
          show_iec (seconds > 0 ? copied / seconds : 0, r, sizeof r),
          m->consistency ? m->consistency : "consistency unknown",
          m->generation);
}

int
report (const struct options *o, const struct manifest *m,
        const struct plan *p, double seconds)
{
  json_object *j;
  uint64_t copied = 0;
  char reason[512];
  size_t i;

  for (i = 0; i < m->ndisks; i++)
    copied += m->disks[i].copied;
  if (o->json) {
    j = manifest_json (m);
    json_object_object_add (j, "seconds", json_object_new_double (seconds));
    json_object_object_add (j, "rate", json_object_new_int64
                            (seconds > 0 ? copied / seconds : 0));
    json_object_object_add (j, "snapshot-created",
                            json_object_new_boolean (p->created));
    printf ("%s\n", json_object_to_json_string_ext
            (j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put (j);
  }
  else {
    for (i = 0; i < m->ndisks; i++)
      disk_line (m, &m->disks[i]);
    summary (m, copied, seconds);
    if (!p->created)
      printf ("the snapshot was adopted, not created: it stays pinned "
              "(end it with fleecectl end)\n");
  }
  fflush (stdout);
  if (show_crash_consistent (p->begin, reason, sizeof reason) != 1)
    return EXIT_SUCCESS;
  fprintf (stderr, "fleecectl: warning: backup %s is crash-consistent: %s\n",
           m->name, reason);
  return EXIT_CRASH;
}
