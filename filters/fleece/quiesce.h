/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: guest quiesce, filter side.
 *
 * Finds the plugin's quiesce provider (common/include/quiesce-provider.h)
 * or builds the quiesce-command backend and guard of the quiesce
 * library, and applies quiesce=auto|require|off.  Called only from
 * snapshot creation, which is serialised by the lifecycle mutex, and
 * from .after_fork before nbdkit serves, so this file needs no lock of
 * its own (the guard has its own, for its watchdog).
 */
#ifndef FLEECE_QUIESCE_H
#define FLEECE_QUIESCE_H

#include <stdbool.h>
#include <stdint.h>

/* quiesce= values; QUIESCE_DEFAULT means "as configured". */
enum quiesce_mode {
  QUIESCE_DEFAULT = -1, QUIESCE_AUTO, QUIESCE_REQUIRE, QUIESCE_OFF,
};

/* Parse "auto", "require" or "off"; -2 (not a mode) if none of them. */
extern int quiesce_parse_mode (const char *);

/* mode, with QUIESCE_DEFAULT replaced by the configured quiesce=. */
extern enum quiesce_mode quiesce_effective_mode (enum quiesce_mode mode);

struct quiesce_outcome {
  int frozen;                   /* filesystems frozen, never negative;
                                 * > 0 means application-consistent */
  bool thaw_owed;               /* a freeze was attempted, no thaw yet */
  bool failed;                  /* a freeze was due but did not freeze
                                 * (not quiesce=off, not "nothing is
                                 * configured to freeze"): warn */
  uint64_t freeze_ns;           /* how long the freeze call took */
  uint64_t frozen_ns;           /* freeze done -> thaw done */
  uint64_t thaw_ns;             /* how long the thaw call took */
  uint64_t frozen_at;           /* monotime when the freeze returned */
  char reason[256];             /* when frozen == 0: why */
};

/* From .config: 1 if key is a quiesce parameter (accepted), 0 if not,
 * -1 after nbdkit_error.
 */
extern int quiesce_config (const char *key, const char *value);

/* From .config_complete: cross-checks.  0 or -1. */
extern int quiesce_config_complete (void);

/* From .get_ready (before nbdkit forks): look up the provider; with
 * quiesce=require, fail when nothing can freeze (no quiesce-command=
 * and no configured provider).  0 or -1 after nbdkit_error.
 */
extern int quiesce_get_ready (void);

/* From .after_fork (after nbdkit's -u/-g switch), before nbdkit
 * serves and before the control thread starts: with quiesce-command=,
 * check (and create) the state directory as the serving user and
 * start the quiesce guard, whose watchdog thaws for a marker that a
 * dead nbdkit left.  -1 after nbdkit_error when the directory is
 * unusable (nbdkit must not start) or the guard cannot start.
 */
extern int quiesce_after_fork (void);

/* From .unload: stop the guard (paying any thaw debt, bounded),
 * release memory.
 */
extern void quiesce_unload (void);

/* .config_help lines. */
#define QUIESCE_CONFIG_HELP \
  "quiesce=auto|require|off   Freeze the guest for the snapshot (default auto).\n" \
  "quiesce-command=PATH       Run 'PATH freeze' / 'PATH thaw' to quiesce.\n" \
  "quiesce-timeout=DURATION   Bound on freeze and on thaw (default 10s).\n" \
  "quiesce-state-dir=DIR      Crash-recovery marker directory for\n" \
  "                           quiesce-command (default /run/nbdkit-fleece-quiesce\n" \
  "                           as root, else $XDG_RUNTIME_DIR/...)."

/* Freeze before the switch, with mode (QUIESCE_DEFAULT: quiesce=).
 * Returns 0 to go on (out says whether it froze anything and, if not,
 * why), or -1 when the mode is require and the freeze failed: then
 * everything is already thawed, out->reason says why, and the
 * snapshot must not be taken.
 */
extern int quiesce_freeze (enum quiesce_mode mode,
                           struct quiesce_outcome *out);

/* Thaw after the switch; call once after quiesce_freeze returned 0
 * (it does nothing when no thaw is owed).  Failures are logged, never
 * hidden, never fatal.
 */
extern void quiesce_thaw (struct quiesce_outcome *out);

#endif /* FLEECE_QUIESCE_H */
