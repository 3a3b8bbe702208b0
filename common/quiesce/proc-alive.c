/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: see proc-alive.h. */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proc-alive.h"

/* From /proc/PID/stat ("PID (COMM) STATE ... STARTTIME ..."; COMM may
 * hold ')'): the program name into name, the state letter, and field
 * 22, the start time in clock ticks since boot (0 if unparsable).  0,
 * or -1 if it cannot be read (errno ENOENT: no such process).
 */
static int
proc_stat (const char *pid, char *name, size_t len, char *state,
           unsigned long long *start)
{
  char proc[64], stat[1024] = "", *lp, *rp, *p;
  FILE *fp;
  int field;

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
  /* rp + 2 is field 3; step over fields 3 to 21. */
  for (p = rp + 2, field = 3; p && field < 22; field++)
    if ((p = strchr (p, ' ')) != NULL)
      p++;
  *start = p ? strtoull (p, NULL, 10) : 0;
  return 0;
}

/* When pid started (wall clock, seconds), from its start ticks:
 * /proc/stat's btime + ticks / CLK_TCK.  PROC_ALIVE_NO_TIME if unknown.
 */
static time_t
start_time (unsigned long long ticks)
{
  char line[256];
  long hz = sysconf (_SC_CLK_TCK);
  long long btime = -1;
  FILE *fp = fopen ("/proc/stat", "re");

  if (fp == NULL)
    return PROC_ALIVE_NO_TIME;
  while (btime == -1 && fgets (line, sizeof line, fp))
    if (sscanf (line, "btime %lld", &btime) != 1)
      btime = -1;
  fclose (fp);
  if (btime <= 0 || hz <= 0 || ticks == 0)
    return PROC_ALIVE_NO_TIME;
  return (time_t) (btime + (long long) (ticks / (unsigned long long) hz));
}

bool
proc_alive_same_program (long pid, time_t written)
{
  char spid[32], ours[64] = "", theirs[64];
  char state, our_state;
  unsigned long long ticks, our_ticks;
  bool eperm = false;
  time_t started;

  if (pid <= 0 || pid == (long) getpid ())
    return false;
  if (kill ((pid_t) pid, 0) == -1) {
    if (errno == ESRCH)
      return false;
    /* EPERM: it exists, as another user's; /proc mounted with
     * hidepid= may then hide it (ENOENT below).
     */
    eperm = errno == EPERM;
  }
  snprintf (spid, sizeof spid, "%ld", pid);
  if (proc_stat (spid, theirs, sizeof theirs, &state, &ticks) == -1)
    return eperm || errno != ENOENT;    /* cannot tell: assume alive */
  if (proc_stat ("self", ours, sizeof ours, &our_state, &our_ticks) == -1)
    return true;
  if (strcmp (theirs, ours) != 0 || state == 'Z' || state == 'X')
    return false;
  /* Started after the marker was written: a reused pid, not the writer. */
  if (written != PROC_ALIVE_NO_TIME &&
      (started = start_time (ticks)) != PROC_ALIVE_NO_TIME &&
      started > written + PROC_ALIVE_SLACK)
    return false;
  return true;
}

unsigned long long
proc_alive_start_ticks (long pid)
{
  char spid[32], name[64], state;
  unsigned long long ticks;

  snprintf (spid, sizeof spid, "%ld", pid);
  return proc_stat (spid, name, sizeof name, &state, &ticks) == 0 ? ticks : 0;
}

void
proc_alive_where (char *buf, size_t len)
{
  char boot[64] = "";
  struct stat st;
  FILE *fp = fopen ("/proc/sys/kernel/random/boot_id", "re");

  if (fp && fgets (boot, sizeof boot, fp))
    boot[strcspn (boot, "\n")] = '\0';
  if (fp)
    fclose (fp);
  if (boot[0] == '\0' || stat ("/proc/self/ns/pid", &st) == -1)
    snprintf (buf, len, "%s", "");
  else
    snprintf (buf, len, "%s:%llu", boot, (unsigned long long) st.st_ino);
}

int
proc_alive_kill_group (long pgid, unsigned long long leader_ticks)
{
  unsigned long long ticks;

  if (pgid <= 1 || leader_ticks == 0) {
    errno = EINVAL;
    return -1;
  }
  ticks = proc_alive_start_ticks (pgid);
  if (ticks != 0 && ticks != leader_ticks)
    return 0;                   /* the pid is another process's now */
  if (kill ((pid_t) -pgid, SIGKILL) == -1)
    return errno == ESRCH ? 0 : -1;
  return 1;
}

time_t
proc_alive_parse_utc (const char *s)
{
  struct tm tm;
  const char *end;

  memset (&tm, 0, sizeof tm);
  end = strptime (s, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == NULL)
    return PROC_ALIVE_NO_TIME;
  return timegm (&tm);
}

void
proc_alive_format_utc (time_t t, char *buf, size_t len)
{
  struct tm tm;

  gmtime_r (&t, &tm);
  strftime (buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
