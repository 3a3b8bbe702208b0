/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: changes (see changes.h).  Output, one line per dirty
 * range, then a total:
 *
 *   dirty  OFFSET  LENGTH  (IEC)
 *   total: N ranges, X dirty of Y
 */
#include <config.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "changes.h"
#include "request.h"
#include "show.h"

struct range {
  uint64_t offset, length;      /* the dirty range being merged */
  uint64_t ranges, dirty, end;  /* totals; end of the extents seen */
};

static uint64_t
member (json_object *o, const char *key)
{
  json_object *v = NULL;

  json_object_object_get_ex (o, key, &v);
  return v ? json_object_get_int64 (v) : 0;
}

static void
flush_range (struct range *r)
{
  char a[32];

  if (r->length == 0)
    return;
  printf ("dirty  %" PRIu64 "  %" PRIu64 "  (%s)\n", r->offset, r->length,
          show_iec (r->length, a, sizeof a));
  r->ranges++;
  r->dirty += r->length;
  r->length = 0;
}

/* A reply's "next", or 0 for none. */
static uint64_t
next_of (json_object *reply)
{
  json_object *next = NULL;

  json_object_object_get_ex (reply, "next", &next);
  return next ? json_object_get_int64 (next) : 0;
}

/* One page's extents into r (printing the dirty ranges it completes).
 * Returns its "next", or 0 for none.
 */
static uint64_t
page (json_object *reply, struct range *r)
{
  json_object *ext = NULL, *e, *d;
  uint64_t off, len;
  size_t i;

  json_object_object_get_ex (reply, "extents", &ext);
  for (i = 0; ext && i < json_object_array_length (ext); i++) {
    e = json_object_array_get_idx (ext, i);
    off = member (e, "offset");
    len = member (e, "length");
    r->end = off + len;
    if (!json_object_object_get_ex (e, "dirty", &d) ||
        !json_object_get_boolean (d))
      flush_range (r);
    else if (r->length && r->offset + r->length == off)
      r->length += len;
    else {
      flush_range (r);
      r->offset = off;
      r->length = len;
    }
  }
  return next_of (reply);
}

int
changes (const struct options *o, struct conn *c)
{
  struct range r = { 0 };
  struct reply rep;
  uint64_t offset = 0;
  long id = 1;
  char a[32], b[32];

  do {
    if (!request_at (o, c, "changes", id++, offset, &rep))
      die (EXIT_USAGE, "interrupted");
    if (o->json)
      printf ("%s\n", rep.line);
    offset = o->json ? next_of (rep.obj) : page (rep.obj, &r);
    reply_free (&rep);
  } while (offset != 0);
  if (o->json)
    return EXIT_SUCCESS;
  flush_range (&r);
  printf ("total: %" PRIu64 " range%s, %s dirty of %s\n", r.ranges,
          r.ranges == 1 ? "" : "s", show_iec (r.dirty, a, sizeof a),
          show_iec (r.end, b, sizeof b));
  return EXIT_SUCCESS;
}
