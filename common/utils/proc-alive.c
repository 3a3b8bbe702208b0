/* nbdkit-fleece: see proc-alive.h. */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc-alive.h"

/* From /proc/PID/stat ("PID (COMM) STATE ..."; COMM may hold ')'):
 * the program name into name, and the state letter.  0, or -1 if it
 * cannot be read (errno ENOENT: no such process).
 */
static int
proc_stat (const char *pid, char *name, size_t len, char *state)
{
  char proc[64], stat[512] = "", *lp, *rp;
  FILE *fp;

  snprintf (proc, sizeof proc, "/proc/%s/stat", pid);
  fp = fopen (proc, "re");
  if (fp == NULL)
    return -1;
  if (fgets (stat, sizeof stat, fp) == NULL)
    stat[0] = '\0';
  fclose (fp);
  lp = strchr (stat, '(');
  rp = strrchr (stat, ')');
  if (lp == NULL || rp == NULL || rp[1] != ' ') {
    errno = ENOENT;             /* it vanished while we read */
    return -1;
  }
  snprintf (name, len, "%.*s", (int) (rp - lp - 1), lp + 1);
  *state = rp[2];
  return 0;
}

bool
proc_alive_same_program (long pid)
{
  char spid[32], ours[64] = "", theirs[64];
  char state, our_state;

  if (pid <= 0 || pid == (long) getpid ())
    return false;
  if (kill ((pid_t) pid, 0) == -1 && errno == ESRCH)
    return false;
  snprintf (spid, sizeof spid, "%ld", pid);
  if (proc_stat (spid, theirs, sizeof theirs, &state) == -1)
    return errno != ENOENT;     /* cannot tell: assume it is alive */
  if (proc_stat ("self", ours, sizeof ours, &our_state) == -1)
    return true;
  return strcmp (theirs, ours) == 0 && state != 'Z' && state != 'X';
}
