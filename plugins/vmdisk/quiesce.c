/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk, guest quiesce parameters and plugin hooks.
 *
 * Design: the quiesce parameters are validated here, in .config and
 * .config_complete, and turned into one backend of the quiesce
 * library (libvirt for domain=, the agent socket for agent-socket=)
 * and a guard configuration; the library's guard keeps the promises
 * (thaw debt, watchdog, crash recovery) and exports the provider
 * table.  Nothing here talks to
 * libvirt or the guest: nbdkit starts before the VM, so the guest is
 * only looked for when a snapshot is taken.
 *
 * Locking: parameters are written during configuration only, before
 * any thread exists, and read-only afterwards.
 */
#include <config.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "agent-socket.h"
#include "backend.h"
#include "guard.h"
#include "libvirt.h"
#include "marker.h"
#include "monotime.h"
#include "parse-duration.h"
#include "quiesce.h"

NBDKIT_DLL_PUBLIC int vmdisk_debug_agent = 0;

/* Parameters. */
static char *domain, *uri, *agent_socket, *state_dir;
static char **mountpoints;
static size_t nr_mountpoints;
static uint64_t freeze_timeout = 10 * NS_PER_SEC;
static uint64_t frozen_max = 30 * NS_PER_SEC;
static bool set_agent_timeout = true;

static bool configured;

const char vmdisk_quiesce_config_help[] =
  "domain=NAME|UUID         libvirt domain to freeze during snapshots.\n"
  "uri=URI                  libvirt connection URI (default: libvirt's).\n"
  "agent-socket=PATH        Guest agent socket of a QEMU without libvirt.\n"
  "mountpoint=PATH          Freeze only this guest mountpoint (repeatable).\n"
  "freeze-timeout=DURATION  Bound on each freeze, thaw, status (default 10s).\n"
  "frozen-max=DURATION      Watchdog thaws after this long (default 30s).\n"
  "set-agent-timeout=BOOL   Set the domain's agent timeout (default true).\n"
  "state-dir=DIR            Crash-recovery marker directory.";

static int
set_string (char **dst, const char *key, const char *value)
{
  if (*value == '\0') {
    nbdkit_error ("%s: the value must not be empty", key);
    return -1;
  }
  free (*dst);
  *dst = strdup (value);
  if (*dst == NULL) {
    nbdkit_error ("%s: strdup: %m", key);
    return -1;
  }
  return 1;
}

/* A path parameter: kept absolute, since nbdkit changes directory to
 * / when it forks into the background.
 */
static int
set_path (char **dst, const char *key, const char *value)
{
  if (*value == '\0') {
    nbdkit_error ("%s: the value must not be empty", key);
    return -1;
  }
  free (*dst);
  *dst = nbdkit_absolute_path (value);
  return *dst ? 1 : -1;         /* nbdkit_absolute_path said why */
}

static int
set_duration (uint64_t *dst, const char *key, const char *value)
{
  if (parse_duration (value, dst) == -1 || *dst == 0) {
    nbdkit_error ("%s=%s: expected a duration above 0: " DURATION_SYNTAX,
                  key, value);
    return -1;
  }
  return 1;
}

static int
add_mountpoint (const char *value)
{
  char **list;

  if (value[0] != '/' && !(value[0] && value[1] == ':')) {
    nbdkit_error ("mountpoint: '%s' is not an absolute guest path "
                  "(e.g. mountpoint=/var/lib/db)", value);
    return -1;
  }
  list = realloc (mountpoints, (nr_mountpoints + 2) * sizeof *list);
  if (list == NULL) {
    nbdkit_error ("mountpoint: realloc: %m");
    return -1;
  }
  mountpoints = list;
  mountpoints[nr_mountpoints] = strdup (value);
  if (mountpoints[nr_mountpoints] == NULL) {
    nbdkit_error ("mountpoint: strdup: %m");
    return -1;
  }
  mountpoints[++nr_mountpoints] = NULL;
  return 1;
}

int
vmdisk_quiesce_config (const char *key, const char *value)
{
  int b;

  if (strcmp (key, "domain") == 0)
    return set_string (&domain, key, value);
  if (strcmp (key, "uri") == 0)
    return set_string (&uri, key, value);
  if (strcmp (key, "agent-socket") == 0)
    return set_path (&agent_socket, key, value);
  if (strcmp (key, "state-dir") == 0)
    return set_path (&state_dir, key, value);
  if (strcmp (key, "mountpoint") == 0)
    return add_mountpoint (value);
  if (strcmp (key, "freeze-timeout") == 0)
    return set_duration (&freeze_timeout, key, value);
  if (strcmp (key, "frozen-max") == 0)
    return set_duration (&frozen_max, key, value);
  if (strcmp (key, "set-agent-timeout") == 0) {
    b = nbdkit_parse_bool (value);
    if (b == -1)
      return -1;
    set_agent_timeout = b;
    return 1;
  }
  return 0;
}

void
vmdisk_quiesce_disks (size_t (*names) (const char **names, size_t max),
                      void (*select) (const char *name))
{
  guard_set_disks (names, select);
}

int
vmdisk_quiesce_config_complete (void)
{
  if (domain && agent_socket) {
    nbdkit_error ("domain= and agent-socket= cannot be used together: give "
                  "domain= for a libvirt guest, agent-socket= for QEMU "
                  "without libvirt");
    return -1;
  }
  /* uri= is only the connection on which domain= is looked up: the
   * same advice whether agent-socket= is given or not.
   */
  if (uri && !domain) {
    nbdkit_error ("uri= needs domain=: uri= names the libvirt connection "
                  "on which the domain is looked up (agent-socket= does "
                  "not use libvirt: drop uri= with agent-socket=)");
    return -1;
  }
  if (!domain && !agent_socket) {
    if (nr_mountpoints) {
      nbdkit_error ("mountpoint= needs domain= or agent-socket=");
      return -1;
    }
    return 0;
  }
  if (frozen_max < freeze_timeout) {
    nbdkit_error ("frozen-max= must be at least freeze-timeout= (the "
                  "watchdog must not thaw a freeze that is still allowed "
                  "to run)");
    return -1;
  }
  if (state_dir == NULL &&
      (state_dir = marker_default_dir ("vmdisk", "state-dir")) == NULL)
    return -1;
  if (marker_init ("vmdisk", "state-dir", state_dir,
                   domain ? "domain" : "socket",
                   domain ? domain : agent_socket) == -1 ||
      marker_check_dir (false) == -1)
    return -1;
  guard_configure (&(struct guard_config) {
      .name = "vmdisk",
      .backend = domain ? qga_libvirt_backend (uri, domain, set_agent_timeout)
                        : qga_socket_backend (agent_socket),
      .mountpoints = mountpoints,
      .nr_mountpoints = nr_mountpoints,
      .freeze_timeout = freeze_timeout,
      .frozen_max = frozen_max,
    });
  configured = true;
  nbdkit_debug ("vmdisk: quiesce through %s, freeze-timeout %" PRIu64
                " ms, frozen-max %" PRIu64 " ms, state-dir %s",
                domain ? "libvirt" : "the agent socket",
                freeze_timeout / NS_PER_MS, frozen_max / NS_PER_MS, state_dir);
  return 0;
}

int
vmdisk_quiesce_after_fork (void)
{
  if (!configured)
    return 0;
  if (marker_check_dir (true) == -1)  /* now as nbdkit -u's user */
    return -1;
  return guard_start ();
}

void
vmdisk_quiesce_cleanup (void)
{
  size_t i;
  unsigned busy = configured ? guard_stop () : 0;

  configured = false;
  marker_free ();
  if (busy > 0) {
    /* Abandoned libvirt calls still read these: leave them. */
    nbdkit_debug ("vmdisk: not freeing the quiesce settings: %u call(s) "
                  "still use them", busy);
    return;
  }
  for (i = 0; i < nr_mountpoints; i++)
    free (mountpoints[i]);
  free (mountpoints);
  mountpoints = NULL;
  nr_mountpoints = 0;
  free (domain);
  free (uri);
  free (agent_socket);
  free (state_dir);
  domain = uri = agent_socket = state_dir = NULL;
}
