/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: guest quiesce, filter side (see quiesce.h).
 *
 * Sources, in order of preference: quiesce-command=PATH if given,
 * else the plugin's provider table if the plugin exports one and says
 * it is configured.  quiesce=off uses neither.
 *
 * The thaw debt: once a freeze was attempted, a thaw is sent whatever
 * the freeze returned (it may have frozen some filesystems before
 * failing); the freeze's error is what the user sees, the thaw's
 * outcome is logged beside it.
 *
 * quiesce-command=PATH is the quiesce library's command backend,
 * driven by the library's guard, exactly as the plugin's agent
 * backends are: the guard keeps the thaw debt, the watchdog
 * (frozen-max, thaw retries) and crash recovery with the one marker
 * in quiesce-state-dir= (on by default, like vmdisk's state-dir=),
 * and this file reaches it through the guard's provider table like a
 * plugin's.
 */
#include <config.h>

#include <dlfcn.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nbdkit-filter.h>

#include "command.h"
#include "guard.h"
#include "marker.h"
#include "minmax.h"
#include "monotime.h"
#include "parse-duration.h"
#include "quiesce-provider.h"
#include "quiesce.h"

/* The watchdog's bound on a freeze of quiesce-command= (vmdisk's
 * frozen-max= default), or quiesce-timeout if that is longer.
 */
#define FROZEN_MAX (30 * NS_PER_SEC)

static enum quiesce_mode mode = QUIESCE_AUTO;
static const char *command;
static char *state_dir;         /* quiesce-state-dir=, absolute */
static uint64_t timeout_ns = 10 * NS_PER_SEC;
static const struct fleece_quiesce_provider *provider;

int
quiesce_parse_mode (const char *value)
{
  if (strcmp (value, "auto") == 0) return QUIESCE_AUTO;
  if (strcmp (value, "require") == 0) return QUIESCE_REQUIRE;
  if (strcmp (value, "off") == 0) return QUIESCE_OFF;
  return -2;
}

int
quiesce_config (const char *key, const char *value)
{
  if (strcmp (key, "quiesce") == 0) {
    int m = quiesce_parse_mode (value);
    if (m == -2) {
      nbdkit_error ("quiesce=%s: expected auto, require or off", value);
      return -1;
    }
    mode = m;
    return 1;
  }
  if (strcmp (key, "quiesce-command") == 0) {
    command = value;
    return 1;
  }
  if (strcmp (key, "quiesce-state-dir") == 0) {
    if (value[0] == '\0') {
      nbdkit_error ("quiesce-state-dir=: empty: give a directory for the "
                    "quiesce-command crash-recovery marker");
      return -1;
    }
    free (state_dir);
    state_dir = nbdkit_absolute_path (value);  /* nbdkit changes to / */
    return state_dir ? 1 : -1;
  }
  if (strcmp (key, "quiesce-timeout") == 0) {
    if (parse_duration (value, &timeout_ns) == -1 || timeout_ns == 0) {
      nbdkit_error ("quiesce-timeout=%s: expected a duration above 0, "
                    DURATION_SYNTAX, value);
      return -1;
    }
    return 1;
  }
  return 0;
}

/* The guard for quiesce-command=, its marker in the state directory
 * (checked now as far as the user who starts nbdkit can; again in
 * .after_fork).  0 or -1.
 */
static int
configure_guard (void)
{
  if (state_dir == NULL &&
      (state_dir = marker_default_dir ("fleece-quiesce",
                                               "quiesce-state-dir")) == NULL)
    return -1;
  if (marker_init ("fleece", "quiesce-state-dir", state_dir, "command",
                   command) == -1 ||
      marker_check_dir (false) == -1)
    return -1;
  guard_configure (&(struct guard_config) {
      .name = "fleece",
      .backend = command_backend (command),
      .freeze_timeout = timeout_ns,
      .frozen_max = MAX (FROZEN_MAX, timeout_ns),
    });
  nbdkit_debug ("fleece: quiesce-command through the quiesce guard, "
                "quiesce-timeout %" PRIu64 " ms, quiesce-state-dir %s",
                timeout_ns / NS_PER_MS, state_dir);
  return 0;
}

int
quiesce_config_complete (void)
{
  struct stat st;

  if (command == NULL && state_dir != NULL) {
    nbdkit_error ("quiesce-state-dir=%s: needs quiesce-command= (it keeps "
                  "that command's crash-recovery marker; the vmdisk "
                  "plugin keeps its own: see its state-dir=)", state_dir);
    return -1;
  }
  if (command == NULL)
    return 0;
  if (command[0] != '/') {
    nbdkit_error ("quiesce-command=%s: give an absolute path (it is run "
                  "directly, not through a shell)", command);
    return -1;
  }
  if (stat (command, &st) == -1) {
    nbdkit_error ("quiesce-command=%s: %m: give the path of an executable",
                  command);
    return -1;
  }
  if (!S_ISREG (st.st_mode) || access (command, X_OK) == -1) {
    nbdkit_error ("quiesce-command=%s: not an executable file: give the "
                  "path of an executable", command);
    return -1;
  }
  return configure_guard ();
}

enum quiesce_mode
quiesce_effective_mode (enum quiesce_mode m)
{
  return m == QUIESCE_DEFAULT ? mode : m;
}

/* quiesce=require with nothing that can freeze: refuse to start. */
static int
check_require (void)
{
  char desc[256] = "";

  if (mode != QUIESCE_REQUIRE || command != NULL)
    return 0;
  if (provider == NULL)
    snprintf (desc, sizeof desc, "the plugin has no quiesce provider");
  else if (provider->available (desc, sizeof desc) == 1)
    return 0;
  nbdkit_error ("quiesce=require: nothing can freeze the guest (%s), so "
                "every snapshot would be refused: give quiesce-command=PATH, "
                "or use the vmdisk plugin with domain= or agent-socket=, "
                "or use quiesce=auto", desc);
  return -1;
}

int
quiesce_get_ready (void)
{
  const struct fleece_quiesce_provider *p =
    dlsym (RTLD_DEFAULT, FLEECE_QUIESCE_PROVIDER_SYMBOL);

  if (command)
    provider = guard_provider ();       /* ours: quiesce-command= */
  else if (p == NULL)
    nbdkit_debug ("fleece: the plugin exports no quiesce provider");
  else if (p->abi_version != FLEECE_QUIESCE_ABI_VERSION ||
           p->struct_size < offsetof (struct fleece_quiesce_provider, disks)) {
    nbdkit_error ("fleece: the plugin's quiesce provider has ABI version "
                  "%u (size %u), this filter needs version %d: install "
                  "matching versions of the plugin and the filter",
                  p->abi_version, p->struct_size, FLEECE_QUIESCE_ABI_VERSION);
    return -1;
  }
  else {
    provider = p;
    nbdkit_debug ("fleece: quiesce provider '%s' found", p->name);
  }
  return check_require ();
}

int
quiesce_after_fork (void)
{
  if (command == NULL)
    return 0;
  /* As the user nbdkit serves as (-u): a crash recovery that cannot
   * work fails the start.
   */
  if (marker_check_dir (true) == -1)
    return -1;
  return guard_start ();
}

void
quiesce_unload (void)
{
  guard_stop ();
  marker_free ();
  free (state_dir);
  state_dir = NULL;
}

/* Who would freeze?  Fills why when nobody. */
static bool
have_source (enum quiesce_mode m, char *why, size_t why_len)
{
  char desc[256] = "";

  if (m == QUIESCE_OFF) {
    snprintf (why, why_len, "quiesce=off");
    return false;
  }
  if (provider == NULL) {
    snprintf (why, why_len, "the plugin cannot freeze the guest (no quiesce "
              "provider; use the vmdisk plugin with domain=, or "
              "quiesce-command=)");
    return false;
  }
  if (provider->available (desc, sizeof desc) != 1) {
    snprintf (why, why_len, "%s", desc);
    return false;
  }
  return true;
}

int
quiesce_freeze (enum quiesce_mode m, struct quiesce_outcome *out)
{
  uint64_t t0;
  char why[256] = "";
  int n;

  m = quiesce_effective_mode (m);
  out->frozen = 0;
  out->thaw_owed = out->failed = false;
  if (!have_source (m, out->reason, sizeof out->reason))
    return m == QUIESCE_REQUIRE ? -1 : 0;
  out->failed = true;           /* until the freeze says otherwise */
  t0 = monotime_ns ();
  out->thaw_owed = true;        /* even a failed freeze may have frozen */
  n = provider->freeze (monotime_ns () + timeout_ns, why, sizeof why);
  out->frozen_at = monotime_ns ();
  out->freeze_ns = out->frozen_at - t0;
  if (n > 0) {
    out->frozen = n;
    out->failed = false;
    nbdkit_debug ("fleece: guest frozen: %d filesystems in %.3f ms",
                  n, out->freeze_ns / 1e6);
    return 0;
  }
  if (n == 0)
    snprintf (out->reason, sizeof out->reason,
              "the freeze froze 0 filesystems");
  else
    snprintf (out->reason, sizeof out->reason, "freeze failed: %s", why);
  nbdkit_debug ("fleece: %s", out->reason);
  quiesce_thaw (out);           /* the thaw debt, whatever freeze said */
  /* Not frozen: crash-consistent (or refused under require). */
  return m == QUIESCE_REQUIRE ? -1 : 0;
}

void
quiesce_thaw (struct quiesce_outcome *out)
{
  uint64_t t0 = monotime_ns ();
  char why[256] = "";
  int r;

  if (!out->thaw_owed)
    return;                     /* already thawed, or never attempted */
  out->thaw_owed = false;
  r = provider->thaw (why, sizeof why);
  out->thaw_ns = monotime_ns () - t0;
  out->frozen_ns = monotime_ns () - out->frozen_at;
  if (r == -1)
    nbdkit_error ("fleece: thaw failed: %s", why);
  nbdkit_debug ("fleece: guest thawed in %.3f ms (frozen %.3f ms)",
                out->thaw_ns / 1e6, out->frozen_ns / 1e6);
}
