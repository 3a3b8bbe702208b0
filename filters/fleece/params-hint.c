/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: a hint for a mistyped filter parameter (see params.h).
 *
 * The filter passes every key it does not know down to the plugin, so
 * nbdkit reports a mistyped fleece parameter (fleece-max-sise=) as an
 * unknown parameter of the plugin, with the plugin's list.  When the
 * plugin refuses a key that we passed down, we add one line if the key
 * looks meant for the filter: within a small edit distance
 * (optimal string alignment: a swap of two neighbours counts one) of a
 * fleece parameter, or starting with a prefix that several fleece
 * parameters share (snapshot-, fleece-, ...).  A key that looks like
 * neither gets no line: the plugin's own message stands.
 *
 * nbdkit 1.32 exits inside the plugin's .config when the plugin
 * refuses a key: the filter's next() never returns.  So the hint is
 * armed around next() (params_hint_arm) and given by an atexit
 * handler if the process exits meanwhile; disarmed, the handler says
 * nothing.  The filter pins itself in memory for that handler.
 *
 * The names are read from params_help, the one list of parameters (a
 * new one is in the help anyway).  State: the armed key, written and
 * read only in .config (single-threaded) and at exit.
 */
#include <config.h>

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-filter.h>

#include "params.h"

#define NAMES_MAX 64
#define NAME_MAX_LEN 40

struct names {
  char name[NAMES_MAX][NAME_MAX_LEN];
  size_t n;
};

/* Every "name=" that starts a line of the help. */
static void
names_from_help (struct names *ns)
{
  const char *line = params_help, *eq;
  size_t len;

  ns->n = 0;
  for (; *line && ns->n < NAMES_MAX; line += strcspn (line, "\n") + 1) {
    len = strcspn (line, "=\n ");
    eq = line + len;
    if (len > 0 && len < NAME_MAX_LEN && *eq == '=' && line[0] != ' ') {
      memcpy (ns->name[ns->n], line, len);
      ns->name[ns->n++][len] = '\0';
    }
    if (line[strcspn (line, "\n")] == '\0')
      break;
  }
}

static size_t
min3 (size_t a, size_t b, size_t c)
{
  size_t m = a < b ? a : b;

  return m < c ? m : c;
}

/* Optimal string alignment distance; SIZE_MAX-ish if b is too long. */
static size_t
distance (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b), i, j, cost;
  size_t d[NAME_MAX_LEN + 1][NAME_MAX_LEN + 1];

  if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
    return (size_t) -1 / 2;
  for (i = 0; i <= la; i++)
    d[i][0] = i;
  for (j = 0; j <= lb; j++)
    d[0][j] = j;
  for (i = 1; i <= la; i++)
    for (j = 1; j <= lb; j++) {
      cost = a[i - 1] != b[j - 1];
      d[i][j] = min3 (d[i - 1][j] + 1, d[i][j - 1] + 1,
                      d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < d[i][j])
        d[i][j] = d[i - 2][j - 2] + 1;
    }
  return d[la][lb];
}

/* The prefix of key up to and including its first '-', if at least
 * two fleece parameters start with it.  Its length, or 0.
 */
static size_t
shared_prefix (const char *key, const struct names *ns)
{
  size_t len = strcspn (key, "-"), i, count = 0;

  if (key[len] != '-')
    return 0;
  len++;
  for (i = 0; i < ns->n; i++)
    if (strncmp (ns->name[i], key, len) == 0)
      count++;
  return count >= 2 ? len : 0;
}

static const char *armed;       /* the key being passed down, or NULL */

static void
hint (const char *key)
{
  static const char see[] = "see nbdkit-fleece-filter(1), or "
    "nbdkit --filter=fleece PLUGIN --help for every parameter";
  struct names ns;
  size_t i, d, best = 0, best_d = (size_t) -1, limit, p;
  char list[512] = "";

  names_from_help (&ns);
  for (i = 0; i < ns.n; i++)
    if ((d = distance (key, ns.name[i])) < best_d) {
      best_d = d;
      best = i;
    }
  if (ns.n == 0)
    return;
  limit = strlen (ns.name[best]) / 4;
  limit = limit < 1 ? 1 : limit > 3 ? 3 : limit;
  if (best_d <= limit) {
    nbdkit_error ("fleece: %s= is not a fleece filter parameter either: "
                  "did you mean %s=? (%s)", key, ns.name[best], see);
    return;
  }
  if ((p = shared_prefix (key, &ns)) == 0)
    return;
  for (i = 0; i < ns.n; i++)
    if (strncmp (ns.name[i], key, p) == 0)
      snprintf (list + strlen (list), sizeof list - strlen (list),
                "%s%s=", list[0] ? ", " : "", ns.name[i]);
  nbdkit_error ("fleece: %s= is not a fleece filter parameter either: "
                "the fleece parameters starting with %.*s are %s (%s)",
                key, (int) p, key, list, see);
}

static void
hint_at_exit (void)
{
  if (armed != NULL)
    hint (armed);
}

/* Keep this filter mapped until the process exits, so that the exit
 * handler's code is still there when it runs.  glibc ties a shared
 * object's atexit handler to the object and runs it at dlclose, but a
 * sanitizer's interceptor does not (ThreadSanitizer jumped into the
 * unmapped filter at every exit).  nbdkit unloads only when exiting.
 * False if the filter cannot be pinned: then no handler.
 */
static bool
pin_self (void)
{
  Dl_info info;

  return dladdr ((void *) pin_self, &info) != 0 &&
    dlopen (info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) != NULL;
}

void
params_hint_arm (const char *key)
{
  static bool registered;

  if (!registered && key != NULL)
    registered = pin_self () && atexit (hint_at_exit) == 0;
  armed = key;
}
