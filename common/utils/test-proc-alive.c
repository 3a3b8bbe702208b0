/* Unit test of proc_alive_same_program: ourselves, a child running the
 * same program, the same child as a zombie and once reaped, a child
 * running another program, pid 0 and a pid that cannot exist.
 */
#include <config.h>

#include <signal.h>
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

int
main (void)
{
  pid_t same, other;
  int i;

  check ("ourselves", proc_alive_same_program (getpid ()), false);
  check ("pid 0", proc_alive_same_program (0), false);
  check ("pid 2^31-1", proc_alive_same_program (2147483647), false);

  same = child (NULL);
  check ("a forked child (same program)", proc_alive_same_program (same),
         true);
  kill (same, SIGKILL);
  wait_zombie (same);
  check ("the same child as a zombie", proc_alive_same_program (same),
         false);
  waitpid (same, NULL, 0);
  check ("the same child reaped", proc_alive_same_program (same), false);

  other = child ("sleep");
  for (i = 0; i < 500 && proc_alive_same_program (other); i++)
    usleep (10000);             /* until the exec has happened */
  check ("a child running sleep(1)", proc_alive_same_program (other),
         false);
  kill (other, SIGKILL);
  waitpid (other, NULL, 0);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
