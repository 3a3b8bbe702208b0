/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, the guard (the contract is in guard.h).
 *
 * Design: this file keeps the safety promises; the backend only talks.
 *
 * State, all protected by lock:
 *   owed          the thaw debt: a freeze was sent and no thaw has
 *                 succeeded since.  Set before the freeze is sent
 *                 (after the marker file is written), cleared only by
 *                 a successful thaw or a status of "thawed", which
 *                 also remove the marker.
 *   frozen_since  when the owed freeze started (monotonic).
 *   retry_at      0, or when to retry a thaw that failed (monotonic);
 *                 retries counts them.
 *   recovery      a marker left by a dead earlier run was found and
 *                 the guest has not been checked yet.
 *
 * Invariants: every freeze attempt that reached the backend leaves
 * owed set until a thaw succeeds.  A failed freeze is followed at once
 * by a status query and a thaw unless the guest says "thawed"; the
 * freeze's error stays first in the reason, the rollback's outcome is
 * appended.  The watchdog thaws when owed has lasted frozen-max, and
 * retries any failed thaw (the filter's, the rollback's or its own) at
 * retry_at, whatever frozen-max says, backing off from 1 s to 4 s: no
 * further, because a freeze sent to a hung agent runs when the agent
 * recovers, and the guest then stays frozen until the next retry.
 * Failed retries are logged as errors at attempts 1, 2, 4, 8, ...
 * (a dead agent does not flood the log).  A caller's thaw while a
 * retry is pending fails at once (the rollback of a failed freeze has
 * just tried; the filter then thaws too).  A freeze of
 * 0 filesystems returns 0 and is still owed a thaw (qemu-ga enters its
 * frozen state even then).  A new freeze while a debt is unpaid first
 * pays it.
 *
 * Bounds: each backend call gets its own deadline, now +
 * freeze-timeout; within a freeze, the earlier of that and the
 * caller's deadline, for the wait for the lock (the watchdog may be
 * retrying a thaw), the debt's thaw and the recovery too.  So freeze
 * returns by its deadline, except that a failed freeze adds a status
 * query and a thaw, each bounded by freeze-timeout.
 *
 * Locking rule: one mutex, lock, is held for the whole of every
 * provider call (freeze, thaw, status) and every watchdog action, so
 * they never overlap; it is never held while waiting for anything but
 * a bounded backend call.  The watchdog sleeps on wake (a monotonic
 * condition on lock) and is woken by freeze, thaw and guard_stop.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nbdkit-plugin.h>

#include "cleanup.h"
#include "monotime.h"
#include "agent-reply.h"
#include "guard.h"
#include "marker.h"
#include "quiesce-provider.h"

/* Messages start with the configured name ("vmdisk", "fleece"). */
#define gdebug(fmt, ...) nbdkit_debug ("%s: " fmt, cfg.name, ##__VA_ARGS__)
#define gerror(fmt, ...) nbdkit_error ("%s: " fmt, cfg.name, ##__VA_ARGS__)

#define RETRY_MIN_NS NS_PER_SEC
#define RETRY_MAX_NS (4 * NS_PER_SEC)

static struct guard_config cfg = { .name = "vmdisk" };
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static bool owed, recovery, stale_stuck, stopping, started;
static uint64_t frozen_since, next_try, retry_at, retry_ns = RETRY_MIN_NS;
static unsigned retries;
static long stale_pid;
static char stale_target[256];
static pthread_t watchdog_thread;

static const char *
target (void)
{
  static char desc[512];        /* protected by lock */

  cfg.backend->describe (desc, sizeof desc);
  return desc;
}

/* After a failed thaw: try again later, backing off up to 4 s.  The
 * watchdog may be asleep until frozen-max: wake it to see retry_at.
 */
static void
schedule_retry (void)
{
  retry_at = monotime_ns () + retry_ns;
  if (retry_ns < RETRY_MAX_NS)
    retry_ns *= 2;
  pthread_cond_signal (&wake);
}

static uint64_t
bound (void)
{
  return monotime_ns () + cfg.freeze_timeout;
}

static void
pay_debt (void)
{
  uint64_t ms = (monotime_ns () - frozen_since) / NS_PER_MS;

  gdebug ("%s thawed, frozen for %" PRIu64 " ms",
          target (), ms);
  owed = false;
  frozen_since = 0;
  retry_at = 0;
  retries = 0;
  marker_remove ();             /* on failure, the next write fails too */
}

/* Thaw the owed debt by until; on failure ask whether the guest
 * thawed anyway (Windows VSS thaws by itself after 10 s and then fails
 * the thaw).
 */
static int
thaw_locked (uint64_t until, char *reason, size_t len)
{
  char why[512] = "";
  int r, s;

  if (!owed) {
    gdebug ("thaw: nothing frozen by us");
    return 0;
  }
  r = cfg.backend->thaw (until, reason, len);
  if (r >= 0) {
    gdebug ("thawed %d filesystem(s)", r);
    pay_debt ();
    return r;
  }
  s = cfg.backend->status (until, why, sizeof why);
  if (s == 0) {
    qga_reason_append (reason, len, "the guest is not frozen now (%s), so "
                       "it thawed before our thaw: the freeze may not have "
                       "held for the whole snapshot",
                       why[0] ? why : "it reports thawed");
    pay_debt ();
  }
  else {
    qga_reason_append (reason, len, "the guest may still be frozen; the "
                       "watchdog retries the thaw");
    schedule_retry ();
  }
  return -1;
}

/* After a failed freeze: status, then thaw unless it says thawed. */
static void
rollback (char *reason, size_t len)
{
  char why[512] = "";
  int s, t;

  s = cfg.backend->status (bound (), why, sizeof why);
  gdebug ("after the failed freeze the guest reports %s",
          s == 1 ? "frozen" : s == 0 ? "thawed" : why);
  if (s == 0) {
    pay_debt ();
    return;
  }
  why[0] = '\0';
  t = cfg.backend->thaw (bound (), why, sizeof why);
  if (t >= 0) {
    qga_reason_append (reason, len, "thawed %d filesystem(s) after the "
                       "failed freeze", t);
    pay_debt ();
  }
  else {
    qga_reason_append (reason, len, "the thaw after it failed too (%s); "
                       "the watchdog retries", why);
    schedule_retry ();
  }
}

/* A marker left by a dead earlier run: thaw whatever it froze, by
 * until.
 */
static void
recover (uint64_t until)
{
  char why[512] = "";
  int s, t;

  marker_kill_orphan (stale_pid);
  s = cfg.backend->status (until, why, sizeof why);
  if (s != 0) {
    if (s == -1)
      gdebug ("recovery: status unknown (%s); thawing "
              "anyway", why);
    why[0] = '\0';
    t = cfg.backend->thaw (until, why, sizeof why);
    if (t == -1) {
      gerror ("warning: %s may have been left frozen by an "
              "earlier nbdkit (pid %ld) and cannot be thawed now: %s; "
              "retrying before the next freeze", target (),
              stale_pid, why);
      return;
    }
    if (s == 1 || t > 0)
      gerror ("warning: guest %s (%s) was left frozen by an "
              "earlier nbdkit (pid %ld) that died; thawed %d "
              "filesystem(s)", target (), stale_target, stale_pid, t);
  }
  if (marker_remove () == -1) {
    stale_stuck = true;
    return;
  }
  gdebug ("recovery done for the marker of pid %ld", stale_pid);
  recovery = false;
}

/* Called with lock held; deadline is already the earlier of the
 * caller's and freeze-timeout after the call began (freeze).
 */
static int
freeze_locked (uint64_t deadline, char *reason, size_t len)
{
  char id[256] = "";
  uint64_t t0 = monotime_ns ();
  int r;

  if (!started) {
    qga_reasonf (reason, len, "%s quiesce is not started (no "
                 ".after_fork yet)", cfg.name);
    return -1;
  }
  if (recovery)
    recover (deadline);
  if (recovery && stale_stuck) {
    qga_reasonf (reason, len, "the crash-recovery marker of an earlier "
                 "nbdkit (pid %ld) for %s cannot be removed (see the log); "
                 "not freezing", stale_pid, target ());
    return -1;
  }
  if (recovery) {
    qga_reasonf (reason, len, "%s may still be frozen by an earlier nbdkit "
                 "(pid %ld) and cannot be checked; not freezing", target (),
                 stale_pid);
    return -1;
  }
  /* An unpaid debt first (the agent may be back), by our deadline. */
  if (owed && thaw_locked (deadline, reason, len) == -1 && owed) {
    qga_reason_append (reason, len, "not freezing again before the "
                       "earlier freeze is thawed");
    return -1;
  }
  reason[0] = '\0';
  if (cfg.backend->resolve (deadline, id, sizeof id, reason, len) == -1 ||
      marker_write (id, reason, len) == -1)
    return -1;
  owed = true;
  frozen_since = monotime_ns ();
  retry_at = 0;
  retries = 0;
  retry_ns = RETRY_MIN_NS;
  pthread_cond_signal (&wake);
  r = cfg.backend->freeze (deadline, cfg.mountpoints, cfg.nr_mountpoints,
                           reason, len);
  if (r >= 0)
    gdebug ("froze %d filesystem(s) of %s in %" PRIu64 " ms",
            r, id, (monotime_ns () - t0) / NS_PER_MS);
  else {
    gdebug ("freeze failed: %s", reason);
    rollback (reason, len);
  }
  return r;
}

static int
available (char *desc, size_t desc_len)
{
  if (cfg.backend == NULL) {
    snprintf (desc, desc_len, "vmdisk: no domain= or agent-socket= given");
    return 0;
  }
  cfg.backend->describe (desc, desc_len);
  return 1;
}

static int
not_configured (char *reason, size_t len)
{
  qga_reasonf (reason, len, "vmdisk: guest quiesce is not configured "
               "(give domain= or agent-socket=)");
  return -1;
}

static int
freeze (uint64_t deadline_ns, char *reason, size_t len)
{
  uint64_t until = monotime_ns () + cfg.freeze_timeout;
  struct timespec ts;
  int r, err;

  /* The watchdog may hold the lock for a thaw retry (a thaw and a
   * status, each up to freeze-timeout): wait for it only until the
   * deadline.
   */
  if (until > deadline_ns)
    until = deadline_ns;
  ts.tv_sec = until / NS_PER_SEC;
  ts.tv_nsec = until % NS_PER_SEC;
  err = pthread_mutex_clocklock (&lock, CLOCK_MONOTONIC, &ts);
  if (err == ETIMEDOUT) {
    qga_reasonf (reason, len, "%s: the watchdog was still thawing (a "
                 "failed thaw's retry, or the recovery after an earlier "
                 "nbdkit died) at the freeze's deadline: not freezing",
                 cfg.name);
    return -1;
  }
  if (err != 0)
    abort ();
  r = cfg.backend ? freeze_locked (until, reason, len)
    : not_configured (reason, len);
  pthread_mutex_unlock (&lock);
  return r;
}

static int
thaw (char *reason, size_t len)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);
  uint64_t now;

  if (cfg.backend == NULL)
    return not_configured (reason, len);
  now = monotime_ns ();
  if (owed && retry_at > now) {
    /* A thaw has just failed (the rollback's): do not make the caller
     * wait for another bounded failure; the watchdog retries.
     */
    qga_reasonf (reason, len, "the last thaw of %s failed; the watchdog "
                 "retries it in %" PRIu64 " ms", target (),
                 (retry_at - now) / NS_PER_MS);
    return -1;
  }
  reason[0] = '\0';
  return thaw_locked (bound (), reason, len);
}

static int
status (char *reason, size_t len)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);

  if (cfg.backend == NULL)
    return not_configured (reason, len);
  return cfg.backend->status (bound (), reason, len);
}

/* Set once before any thread exists (guard_set_disks), then read-only. */
static size_t (*disks_fn) (const char **names, size_t max);
static void (*select_fn) (const char *name);

static size_t
disks (const char **names, size_t max)
{
  if (disks_fn)
    return disks_fn (names, max);
  if (max > 0)
    names[0] = "";
  return 1;
}

static void
select_export (const char *name)
{
  if (select_fn)
    select_fn (name);
}

NBDKIT_DLL_PUBLIC const struct fleece_quiesce_provider
fleece_quiesce_provider_v1 = {
  .abi_version = FLEECE_QUIESCE_ABI_VERSION,
  .struct_size = sizeof (struct fleece_quiesce_provider),
  .name = "vmdisk",
  .available = available,
  .freeze = freeze,
  .thaw = thaw,
  .status = status,
  .disks = disks,
  .select_export = select_export,
};

/* One watchdog step, lock held: act if due, else sleep until due. */
static void
watchdog_step (void)
{
  char reason[512] = "";
  uint64_t now = monotime_ns (), due = UINT64_MAX;
  struct timespec ts;

  if (recovery && now >= next_try) {
    recover (bound ());
    next_try = UINT64_MAX;      /* then only before the next freeze */
    return;
  }
  if (owed)
    due = retry_at ? retry_at : frozen_since + cfg.frozen_max;
  if (owed && now >= due) {
    if (retry_at == 0)
      gerror ("warning: %s frozen for %" PRIu64 " ms, more "
              "than frozen-max; the watchdog thaws it", target (),
              (now - frozen_since) / NS_PER_MS);
    else
      gdebug ("retrying the failed thaw of %s (attempt %u)",
              target (), retries + 1);
    if (thaw_locked (bound (), reason, sizeof reason) == -1) {
      retries++;
      if ((retries & (retries - 1)) == 0)
        gerror ("watchdog thaw failed (attempt %u): %s",
                retries, reason);
    }
    return;
  }
  if (due == UINT64_MAX)
    pthread_cond_wait (&wake, &lock);
  else {
    ts.tv_sec = due / NS_PER_SEC;
    ts.tv_nsec = due % NS_PER_SEC;
    pthread_cond_timedwait (&wake, &lock, &ts);
  }
}

static void *
watchdog (void *arg)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);

  while (!stopping)
    watchdog_step ();
  return NULL;
}

void
guard_configure (const struct guard_config *c)
{
  cfg = *c;
}

void
guard_set_disks (size_t (*fn) (const char **names, size_t max),
                 void (*select) (const char *name))
{
  disks_fn = fn;
  select_fn = select;
}

const struct fleece_quiesce_provider *
guard_provider (void)
{
  return &fleece_quiesce_provider_v1;
}

int
guard_start (void)
{
  pthread_condattr_t attr;
  int err;

  if (started)
    return 0;
  err = pthread_condattr_init (&attr);
  if (err == 0) {
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    err = pthread_cond_init (&wake, &attr);
    pthread_condattr_destroy (&attr);
  }
  if (err != 0) {
    errno = err;
    gerror ("pthread_cond_init: %m");
    return -1;
  }
  if (marker_find_stale (&stale_pid, stale_target, sizeof stale_target)) {
    gdebug ("found a crash-recovery marker of pid %ld for %s",
            stale_pid, stale_target);
    recovery = true;
    next_try = 0;
  }
  stopping = false;
  err = pthread_create (&watchdog_thread, NULL, watchdog, NULL);
  if (err != 0) {
    errno = err;
    gerror ("cannot start the quiesce watchdog thread: %m");
    pthread_cond_destroy (&wake);
    return -1;
  }
  started = true;
  return 0;
}

unsigned
guard_stop (void)
{
  char reason[512] = "";
  unsigned busy = 0;

  if (started) {
    {
      ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);
      stopping = true;
      pthread_cond_signal (&wake);
    }
    pthread_join (watchdog_thread, NULL);
    {
      ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);
      if (owed && thaw_locked (bound (), reason, sizeof reason) == -1)
        gerror ("thaw at unload failed: %s (the marker stays "
                "for the next start)", reason);
      started = false;
    }
    pthread_cond_destroy (&wake);
  }
  if (cfg.backend)
    busy = cfg.backend->close ();
  cfg.backend = NULL;
  return busy;
}
