/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: what the status*.c files of the control unit share:
 * small helpers to build reply members (header-only, pure), and the
 * status members that outlive a snapshot.  Not for other files.
 */
#ifndef FLEECE_CONTROL_STATUS_INT_H
#define FLEECE_CONTROL_STATUS_INT_H

#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "status.h"

/* Add key: v, where v NULL means JSON null.  0 or -1. */
static inline int
put (json_object *o, const char *key, json_object *v)
{
  if (json_object_object_add (o, key, v) == -1) {
    json_object_put (v);
    return -1;
  }
  return 0;
}

static inline json_object *
u64 (uint64_t v)
{
  return json_object_new_int64 (v > INT64_MAX ? INT64_MAX : (int64_t) v);
}

/* A number printed with `decimals` decimals. */
static inline json_object *
fixed (double v, int decimals)
{
  char s[64];

  snprintf (s, sizeof s, "%.*f", decimals, v);
  return json_object_new_double_s (v, s);
}

static inline json_object *
ms (uint64_t ns)
{
  return fixed (ns / 1e6, 3);
}

static inline json_object *
str_or_null (const char *s)
{
  return s && *s ? json_object_new_string (s) : NULL;
}

struct member {
  const char *key;
  json_object *value;           /* NULL: JSON null */
};

static inline int
put_all (json_object *o, struct member *m, size_t n)
{
  int r = 0;
  size_t i;

  for (i = 0; i < n; i++)
    if (put (o, m[i].key, m[i].value) == -1)
      r = -1;
  return r;
}


/* Add "totals" and "last-snapshot" (see status.h, struct
 * control_figures).  0 or -1.
 */
extern int control_history_fill (json_object *reply,
                                  const struct control_figures *f);

#endif /* FLEECE_CONTROL_STATUS_INT_H */
