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
 * quiesce-command is executed directly (posix_spawn, no shell) as
 * `PATH freeze` and `PATH thaw`, each in a process group of its own,
 * bounded by quiesce-timeout: when it passes the whole group is killed
 * (a script's children too).  Exit status 0 means success; if the
 * first line of its standard output is a number, that is the number
 * of filesystems frozen, otherwise 1 is assumed.
 *
 * Crash recovery (quiesce-state-dir=, quiesce-marker.c): before
 * 'PATH freeze' the marker is written, and the freeze's process group
 * is added to it once spawned; a successful 'PATH thaw' removes it.
 * A marker found at start (.after_fork) or before a freeze means a
 * thaw is owed: it is run first, and while it fails nothing is frozen
 * again (the snapshot is crash-consistent, or refused under
 * quiesce=require).
 */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nbdkit-filter.h>

#include "monotime.h"
#include "parse-duration.h"
#include "quiesce-marker.h"
#include "quiesce-provider.h"
#include "quiesce.h"

extern char **environ;

static enum quiesce_mode mode = QUIESCE_AUTO;
static const char *command;
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
  if (strcmp (key, "quiesce-state-dir") == 0)
    return marker_config (value);
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

int
quiesce_config_complete (void)
{
  struct stat st;

  if (command == NULL)
    return marker_config_complete (NULL);
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
  return marker_config_complete (command);
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

  if (p == NULL)
    nbdkit_debug ("fleece: the plugin exports no quiesce provider");
  else if (p->abi_version != FLEECE_QUIESCE_ABI_VERSION ||
           p->struct_size < sizeof *p) {
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

/* Spawn `command verb` in a process group of its own, stdin
 * /dev/null (a foreground-less group must not read the terminal),
 * stdout into a pipe whose read end is *out.  Its pid, or -1 with why
 * filled.
 */
static pid_t
spawn_command (const char *verb, int *out, char *why, size_t why_len)
{
  char *argv[] = { (char *) command, (char *) verb, NULL };
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  int pipefd[2], r;
  pid_t pid;

  if (pipe2 (pipefd, O_CLOEXEC) == -1) {
    snprintf (why, why_len, "quiesce-command: pipe: %s", strerror (errno));
    return -1;
  }
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2 (&fa, pipefd[1], 1);
  posix_spawnattr_init (&attr);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup (&attr, 0);       /* its own group */
  r = posix_spawn (&pid, command, &fa, &attr, argv, environ);
  posix_spawnattr_destroy (&attr);
  posix_spawn_file_actions_destroy (&fa);
  close (pipefd[1]);
  if (r != 0) {
    close (pipefd[0]);
    snprintf (why, why_len, "quiesce-command=%s: %s", command, strerror (r));
    return -1;
  }
  *out = pipefd[0];
  return pid;
}

/* Read fd into out (NUL-terminated; the rest is drained, so talking
 * much never blocks the command) until EOF or deadline.  True at EOF:
 * the command, and every child that kept its stdout, are done with it.
 */
static bool
read_output (int fd, uint64_t deadline, char *out, size_t len)
{
  char sink[256];
  size_t got = 0;
  uint64_t now;
  ssize_t n;
  int r;

  while ((now = monotime_ns ()) < deadline) {
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    r = poll (&pfd, 1, (int) ((deadline - now) / NS_PER_MS) + 1);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    bool keep = got < len - 1;
    n = read (fd, keep ? out + got : sink, keep ? len - 1 - got : sizeof sink);
    if (n == -1 && errno == EINTR)
      continue;
    if (n <= 0) {
      out[got] = '\0';
      return true;              /* EOF (or an error: nothing more to read) */
    }
    if (keep)
      got += n;
  }
  out[got] = '\0';
  return false;
}

/* Run `command verb`, bounded.  Returns the number on the first line of
 * its stdout (or 1) on exit status 0, else -1 with why filled in.  At
 * the deadline its whole group is killed: also when it exited but a
 * child still holds its stdout (that child could still freeze).
 */
static int
run_command (const char *verb, char *why, size_t why_len)
{
  uint64_t deadline = monotime_ns () + timeout_ns;
  char out[64];
  int fd = -1, status = 0, r = 0;
  bool eof;
  pid_t pid;

  pid = spawn_command (verb, &fd, why, why_len);
  if (pid == -1)
    return -1;
  if (marker_enabled () && strcmp (verb, "freeze") == 0)
    marker_note_freeze (pid);
  eof = read_output (fd, deadline, out, sizeof out);
  close (fd);
  /* Reap it (not yet reaped, its group id cannot be reused). */
  while (eof && (r = waitpid (pid, &status, WNOHANG)) == 0 &&
         monotime_ns () < deadline)
    nbdkit_nanosleep (0, 1000000);
  if (!eof || r == 0) {
    kill (-pid, SIGKILL);
    waitpid (pid, &status, 0);
    snprintf (why, why_len, "'%s %s' did not finish within "
              "quiesce-timeout (killed)", command, verb);
    return -1;
  }
  if (r == -1 || !WIFEXITED (status) || WEXITSTATUS (status) != 0) {
    snprintf (why, why_len, "'%s %s' failed (%s %d)", command, verb,
              r != -1 && WIFSIGNALED (status) ? "signal" : "exit status",
              r != -1 && WIFSIGNALED (status) ? WTERMSIG (status)
              : WEXITSTATUS (status));
    return -1;
  }
  if (out[0] >= '0' && out[0] <= '9')
    return atoi (out);
  return 1;
}

static int
thaw_command (char *why, size_t why_len)
{
  return run_command ("thaw", why, why_len);
}

int
quiesce_after_fork (void)
{
  char why[512] = "";

  /* The state dir is checked only now, as the user nbdkit serves as
   * (-u): a crash recovery that cannot work fails the start.
   */
  if (marker_after_fork () == -1)
    return -1;
  if (command && marker_enabled ())
    marker_settle (true, thaw_command, why, sizeof why);
  return 0;
}

void
quiesce_unload (void)
{
  marker_free ();
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
  if (command)
    return true;
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

static int
do_freeze (char *why, size_t why_len)
{
  if (command)
    return run_command ("freeze", why, why_len);
  return provider->freeze (monotime_ns () + timeout_ns, why, why_len);
}

static int
do_thaw (char *why, size_t why_len)
{
  if (command)
    return run_command ("thaw", why, why_len);
  return provider->thaw (why, why_len);
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
  if (command && marker_enabled () &&
      (marker_settle (false, thaw_command, why, sizeof why) == -1 ||
       marker_create (why, sizeof why) == -1)) {
    snprintf (out->reason, sizeof out->reason, "%s", why);
    nbdkit_debug ("fleece: not freezing: %s", why);
    return m == QUIESCE_REQUIRE ? -1 : 0;
  }
  t0 = monotime_ns ();          /* time the freeze, not the marker */
  out->thaw_owed = true;        /* even a failed freeze may have frozen */
  n = do_freeze (why, sizeof why);
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
  r = do_thaw (why, sizeof why);
  out->thaw_ns = monotime_ns () - t0;
  out->frozen_ns = monotime_ns () - out->frozen_at;
  if (r == -1)
    nbdkit_error ("fleece: thaw failed: %s%s", why, command &&
                  marker_enabled () ? "; the crash-recovery marker stays, "
                  "and the thaw is retried before the next freeze" : "");
  else if (command && marker_enabled ())
    marker_remove ();
  nbdkit_debug ("fleece: guest thawed in %.3f ms (frozen %.3f ms)",
                out->thaw_ns / 1e6, out->frozen_ns / 1e6);
}
