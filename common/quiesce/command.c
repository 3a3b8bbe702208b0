/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, a command as a backend (see command.h).
 *
 * The command is executed directly (posix_spawn, no shell) as
 * `PATH freeze` and `PATH thaw`, each in a process group of its own,
 * bounded by the deadline the guard gives: when it passes the whole
 * group is killed (a script's children too).  Exit status 0 means
 * success; if the first line of its standard output is a number, that
 * is the number of filesystems frozen or thawed, otherwise 1 is
 * assumed.  The freeze's process group is added to the crash-recovery
 * marker once spawned, so that a recovery after our death can kill
 * it (marker.h).
 *
 * Not handled: a child that leaves the group (setsid, a daemon) is not
 * killed at the deadline.
 *
 * Locking: none here; the guard serialises calls (backend.h).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nbdkit-plugin.h>

#include "command.h"
#include "marker.h"
#include "monotime.h"

extern char **environ;

static const char *command;

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

/* Run `command verb` by deadline.  Returns the number on the first
 * line of its stdout (or 1) on exit status 0, else -1 with why filled
 * in.  At the deadline its whole group is killed: also when it exited
 * but a child still holds its stdout (that child could still freeze).
 */
static int
run_command (const char *verb, uint64_t deadline, char *why, size_t why_len)
{
  const struct timespec ms = { .tv_sec = 0, .tv_nsec = 1000000 };
  char out[64];
  int fd = -1, status = 0, r = 0;
  bool eof;
  pid_t pid;

  pid = spawn_command (verb, &fd, why, why_len);
  if (pid == -1)
    return -1;
  if (strcmp (verb, "freeze") == 0)
    marker_note_freeze (pid);
  eof = read_output (fd, deadline, out, sizeof out);
  close (fd);
  /* Reap it (not yet reaped, its group id cannot be reused). */
  while (eof && (r = waitpid (pid, &status, WNOHANG)) == 0 &&
         monotime_ns () < deadline)
    nanosleep (&ms, NULL);
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

static void
describe (char *buf, size_t len)
{
  snprintf (buf, len, "quiesce-command %s", command);
}

static int
resolve (uint64_t deadline_ns, char *id, size_t id_len,
         char *reason, size_t len)
{
  snprintf (id, id_len, "%s", command);
  return 0;
}

static int
freeze (uint64_t deadline_ns, char *const *mountpoints, size_t nr,
        char *reason, size_t len)
{
  return run_command ("freeze", deadline_ns, reason, len);
}

static int
thaw (uint64_t deadline_ns, char *reason, size_t len)
{
  return run_command ("thaw", deadline_ns, reason, len);
}

static int
status (uint64_t deadline_ns, char *reason, size_t len)
{
  snprintf (reason, len, "quiesce-command has no status query");
  return -1;
}

static unsigned
close_command (void)
{
  return 0;
}

static const struct qga_backend backend = {
  .name = "quiesce-command",
  .describe = describe,
  .resolve = resolve,
  .freeze = freeze,
  .thaw = thaw,
  .status = status,
  .close = close_command,
};

const struct qga_backend *
command_backend (const char *path)
{
  command = path;
  return &backend;
}
