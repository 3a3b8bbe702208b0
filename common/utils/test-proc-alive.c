/* Unit test of proc_alive_same_program: ourselves, a child running the
 * same program, the same child as a zombie and once reaped, a child
 * running another program, pid 0 and a pid that cannot exist; a child
 * that started after the marker's time (a reused pid) and one that
 * started before it; and the marker time format.  Not tested: /proc
 * mounted with hidepid= (it needs a private mount of /proc and a
 * second user).
 */
#include <config.h>

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
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
