/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: drive vmdisk's quiesce code without nbdkit.
 *
 * The quiesce sources of the plugin are compiled into this program
 * with the few nbdkit functions they call defined below, so the shell
 * tests can exercise the provider table (exactly what the fleece filter
 * will call) against libvirt's test:///default driver and the fake
 * guest agent, one scenario per run.
 *
 * Usage: quiesce-driver KEY=VALUE... -- ACTION...
 * Actions (each prints one line "ACTION -> RESULT"):
 *   available | freeze[:MS] | thaw | status
 *   wait-log:FILE:TEXT:MS   wait (polling, bounded) until FILE holds TEXT
 * Config and start-up errors exit 2.  nbdkit_error and nbdkit_debug
 * messages go to stderr as "error: ..." and "debug: ...".
 * VMDISK_DEBUG_AGENT=1 in the environment sets vmdisk_debug_agent.
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nbdkit-plugin.h>

#include "monotime.h"
#include "quiesce-provider.h"
#include "quiesce.h"

extern const struct fleece_quiesce_provider fleece_quiesce_provider_v1;
extern int vmdisk_debug_agent;

void
nbdkit_verror (const char *fs, va_list args)
{
  fprintf (stderr, "error: ");
  vfprintf (stderr, fs, args);
  fprintf (stderr, "\n");
}

void
nbdkit_error (const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  nbdkit_verror (fs, args);
  va_end (args);
}

void
nbdkit_vdebug (const char *fs, va_list args)
{
  fprintf (stderr, "debug: ");
  vfprintf (stderr, fs, args);
  fprintf (stderr, "\n");
}

void
nbdkit_debug (const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  nbdkit_vdebug (fs, args);
  va_end (args);
}

int
nbdkit_parse_bool (const char *str)
{
  if (!strcmp (str, "1") || !strcmp (str, "true") || !strcmp (str, "on") ||
      !strcmp (str, "yes"))
    return 1;
  if (!strcmp (str, "0") || !strcmp (str, "false") || !strcmp (str, "off") ||
      !strcmp (str, "no"))
    return 0;
  nbdkit_error ("could not decipher boolean (%s)", str);
  return -1;
}

char *
nbdkit_absolute_path (const char *path)
{
  char cwd[4096], *r;

  if (path[0] == '/')
    return strdup (path);
  if (getcwd (cwd, sizeof cwd) == NULL ||
      asprintf (&r, "%s/%s", cwd, path) == -1) {
    nbdkit_error ("nbdkit_absolute_path: %s: %m", path);
    return NULL;
  }
  return r;
}

/* Poll FILE until it contains TEXT, at most ms milliseconds. */
static int
wait_log (char *spec)
{
  char *file = spec, *text, *ms, line[4096];
  uint64_t t0 = monotime_ns (), limit;
  struct timespec tick = { .tv_nsec = 5000000 };
  FILE *fp;

  text = strchr (file, ':');
  ms = text ? strrchr (text + 1, ':') : NULL;
  if (ms == NULL)
    return -1;
  *text++ = *ms++ = '\0';
  limit = strtoull (ms, NULL, 10) * NS_PER_MS;
  while (monotime_ns () - t0 < limit) {
    if ((fp = fopen (file, "r")) != NULL) {
      while (fgets (line, sizeof line, fp))
        if (strstr (line, text)) {
          fclose (fp);
          printf ("wait-log %s -> found after %" PRIu64 " ms\n", text,
                  (monotime_ns () - t0) / NS_PER_MS);
          return 0;
        }
      fclose (fp);
    }
    nanosleep (&tick, NULL);
  }
  printf ("wait-log %s -> not found within %s ms\n", text, ms);
  return 0;
}

static void
act (const struct fleece_quiesce_provider *p, char *a)
{
  char reason[1024] = "";
  uint64_t t0 = monotime_ns ();
  int r;

  if (strcmp (a, "available") == 0)
    r = p->available (reason, sizeof reason);
  else if (strncmp (a, "freeze", 6) == 0)
    r = p->freeze (t0 + (a[6] == ':' ? strtoull (a + 7, NULL, 10) : 5000)
                   * NS_PER_MS, reason, sizeof reason);
  else if (strcmp (a, "thaw") == 0)
    r = p->thaw (reason, sizeof reason);
  else if (strcmp (a, "status") == 0)
    r = p->status (reason, sizeof reason);
  else if (strncmp (a, "wait-log:", 9) == 0) {
    if (wait_log (a + 9) == -1)
      printf ("%s -> bad action\n", a);
    return;
  }
  else {
    printf ("%s -> unknown action\n", a);
    return;
  }
  printf ("%s -> %d (%" PRIu64 " ms)%s%s\n", a, r,
          (monotime_ns () - t0) / NS_PER_MS, reason[0] ? ": " : "", reason);
  fflush (stdout);
}

int
main (int argc, char *argv[])
{
  const struct fleece_quiesce_provider *p = &fleece_quiesce_provider_v1;
  int i = 1;
  char *eq;

  if (getenv ("VMDISK_DEBUG_AGENT"))
    vmdisk_debug_agent = 1;
  for (; i < argc && strcmp (argv[i], "--") != 0; i++) {
    eq = strchr (argv[i], '=');
    if (eq == NULL)
      return 2;
    *eq = '\0';
    if (vmdisk_quiesce_config (argv[i], eq + 1) != 1) {
      fprintf (stderr, "quiesce-driver: config %s rejected\n", argv[i]);
      return 2;
    }
  }
  if (vmdisk_quiesce_config_complete () == -1 ||
      vmdisk_quiesce_after_fork () == -1)
    return 2;
  for (i++; i < argc; i++)
    act (p, argv[i]);
  vmdisk_quiesce_cleanup ();
  return 0;
}
