/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit test of proc_alive_same_program: ourselves, a child running the
 * same program, the same child as a zombie and once reaped, a child
 * running another program, pid 0 and a pid that cannot exist; a child
 * that started after the marker's time (a reused pid) and one that
 * started before it; the marker time format; and
 * proc_alive_kill_group: a live leader with other start ticks is left
 * alone, a group whose leader has gone is killed; proc_alive_where.  Not tested: /proc
 * mounted with hidepid= (it needs a private mount of /proc and a
 * second user).
 */
#include <config.h>

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc-alive.h"

static int failed;

static void
check (const char *what, bool got, bool want)
{
  printf ("%s: %s: %s\n", got == want ? "ok" : "FAIL", what,
          got ? "alive" : "not alive");
  if (got != want)
    failed = 1;
}

/* Wait (bounded) until pid is a zombie, without reaping it. */
static void
wait_zombie (pid_t pid)
{
  siginfo_t si;
  int i;

  for (i = 0; i < 1000; i++) {
    si.si_pid = 0;
    if (waitid (P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        si.si_pid == pid)
      return;
    usleep (10000);
  }
  fprintf (stderr, "child %d did not exit\n", (int) pid);
  exit (EXIT_FAILURE);
}

static pid_t
child (const char *prog)
{
  pid_t pid = fork ();

  if (pid == -1) {
    perror ("fork");
    exit (EXIT_FAILURE);
  }
  if (pid == 0) {
    if (prog)
      execlp (prog, prog, "60", (char *) NULL);
    pause ();
    _exit (0);
  }
  return pid;
}

/* The marker's time format, both ways. */
static void
check_utc (void)
{
  char buf[32];
  bool ok;

  ok = proc_alive_parse_utc ("2024-01-02T03:04:05Z") == 1704164645 &&
    proc_alive_parse_utc ("yesterday") == PROC_ALIVE_NO_TIME &&
    proc_alive_parse_utc ("") == PROC_ALIVE_NO_TIME;
  proc_alive_format_utc (1704164645, buf, sizeof buf);
  ok = ok && strcmp (buf, "2024-01-02T03:04:05Z") == 0;
  printf ("%s: the marker time format (%s)\n", ok ? "ok" : "FAIL", buf);
  if (!ok)
    failed = 1;
}

/* Did the other ends of fd all close within ms (EOF)? */
static bool
eof_within (int fd, int ms)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  char c;

  return poll (&pfd, 1, ms) == 1 && read (fd, &c, 1) == 0;
}

/* A group leader with a child in its group; the child holds the write
 * end of a pipe (it writes a byte once it runs, so its death shows as
 * EOF).
 */
static void
check_kill_group (void)
{
  unsigned long long ticks;
  int fds[2], r;
  pid_t leader;
  bool ok;
  char c;

  if (pipe (fds) == -1 || (leader = fork ()) == -1) {
    perror ("pipe/fork");
    exit (EXIT_FAILURE);
  }
  if (leader == 0) {
    setpgid (0, 0);
    if (fork () == 0) {
      close (fds[0]);
      if (write (fds[1], "", 1) != 1)
        _exit (1);
      pause ();
    }
    close (fds[1]);
    pause ();
    _exit (0);
  }
  close (fds[1]);
  if (read (fds[0], &c, 1) != 1) {      /* the member is there */
    perror ("read");
    exit (EXIT_FAILURE);
  }
  ticks = proc_alive_start_ticks (leader);
  r = proc_alive_kill_group (leader, ticks + 1);
  ok = r == 0 && !eof_within (fds[0], 0) && kill (leader, 0) == 0;
  printf ("%s: a live leader with other start ticks: %d, left alone\n",
          ok ? "ok" : "FAIL", r);
  failed |= !ok;
  kill (leader, SIGKILL);
  waitpid (leader, NULL, 0);
  r = proc_alive_kill_group (leader, ticks);
  ok = r == 1 && eof_within (fds[0], 10000);
  printf ("%s: the group of a leader that has gone: %d, its member killed\n",
          ok ? "ok" : "FAIL", r);
  failed |= !ok;
  close (fds[0]);
  r = proc_alive_kill_group (2147483647, 1);
  printf ("%s: no such group: %d\n", r == 0 ? "ok" : "FAIL", r);
  failed |= r != 0;
}

/* This boot and pid namespace: "BOOT_ID:INODE", the same twice. */
static void
check_where (void)
{
  char a[128], b[128];
  const char *colon;
  bool ok;

  proc_alive_where (a, sizeof a);
  proc_alive_where (b, sizeof b);
  colon = strchr (a, ':');
  ok = colon && colon - a == 36 && colon[1] >= '1' && colon[1] <= '9' &&
    strcmp (a, b) == 0;
  printf ("%s: where pids mean what they say: %s\n", ok ? "ok" : "FAIL", a);
  failed |= !ok;
}

int
main (void)
{
  pid_t same, other;
  int i;

  check ("ourselves", proc_alive_same_program (getpid (), time (NULL)),
         false);
  check ("pid 0", proc_alive_same_program (0, PROC_ALIVE_NO_TIME), false);
  check ("pid 2^31-1",
         proc_alive_same_program (2147483647, PROC_ALIVE_NO_TIME), false);

  check_utc ();

  same = child (NULL);
  check ("a forked child (same program)",
         proc_alive_same_program (same, PROC_ALIVE_NO_TIME), true);
  /* It started before now: it may have written a marker now. */
  check ("the child, for a marker written now",
         proc_alive_same_program (same, time (NULL)), true);
  /* It started after a marker written a minute ago: a reused pid. */
  check ("the child, for a marker written 60 s before it started",
         proc_alive_same_program (same, time (NULL) - 60), false);
  kill (same, SIGKILL);
  wait_zombie (same);
  check ("the same child as a zombie",
         proc_alive_same_program (same, PROC_ALIVE_NO_TIME), false);
  waitpid (same, NULL, 0);
  check ("the same child reaped",
         proc_alive_same_program (same, PROC_ALIVE_NO_TIME), false);

  other = child ("sleep");
  for (i = 0; i < 500 && proc_alive_same_program (other, PROC_ALIVE_NO_TIME);
       i++)
    usleep (10000);             /* until the exec has happened */
  check ("a child running sleep(1)",
         proc_alive_same_program (other, PROC_ALIVE_NO_TIME), false);
  kill (other, SIGKILL);
  waitpid (other, NULL, 0);

  check_kill_group ();
  check_where ();
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
