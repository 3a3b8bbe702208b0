/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl backup: the qcow2 target of one disk (see backup-target.h).
 *
 * qemu-nbd --fork daemonizes: its pid (from --pid-file) is not our
 * child, so waiting for it means polling kill(pid, 0).  Its standard
 * error stays the log file, so nothing of ours is held open by it.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backup-target.h"
#include "fsync-path.h"
#include "run.h"

#define EXIT_WAIT_MS 60000      /* qemu-nbd's flush and exit */
#define KILL_WAIT_MS 5000       /* SIGTERM, then SIGKILL */

static void
sleep_ms (long ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000 };

  while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
    ;
}

/* pid has exited: no such process, or a zombie that its new parent
 * (init, or a subreaper) has not reaped yet.
 */
static bool
exited (pid_t pid)
{
  char path[64], stat[512], *p;
  FILE *fp;
  size_t n = 0;

  if (kill (pid, 0) == -1 && errno == ESRCH)
    return true;
  snprintf (path, sizeof path, "/proc/%ld/stat", (long) pid);
  if ((fp = fopen (path, "r")) != NULL) {
    n = fread (stat, 1, sizeof stat - 1, fp);
    fclose (fp);
  }
  stat[n] = '\0';
  p = strrchr (stat, ')');      /* "PID (COMM) STATE ..." */
  return p && p[1] == ' ' && p[2] == 'Z';
}

/* Wait up to ms for pid to be gone.  true if gone. */
static bool
gone (pid_t pid, long ms)
{
  long waited;

  for (waited = 0; waited <= ms; waited += 10) {
    if (exited (pid))
      return true;
    sleep_ms (10);
  }
  return false;
}

int
target_create (struct target *t, const char *dir, const char *name,
               const char *backing, uint64_t size, char *err, size_t len)
{
  char sz[32], msg[512];
  char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", t->file, sz,
                   NULL, NULL, NULL, NULL, NULL };
  struct sockaddr_un sun;
  int st, i = 5;

  memset (t, 0, sizeof *t);
  snprintf (t->file, sizeof t->file, "%s/%s", dir, name);
  snprintf (t->sock, sizeof t->sock, "%s/nbd.sock", dir);
  snprintf (t->pidfile, sizeof t->pidfile, "%s/qemu-nbd.pid", dir);
  snprintf (t->log, sizeof t->log, "%s/qemu.log", dir);
  snprintf (sz, sizeof sz, "%" PRIu64, size);
  if (strlen (t->sock) >= sizeof sun.sun_path) {
    snprintf (err, len, "%s: path too long for a Unix socket (%zu bytes "
              "at most): use a shorter --output DIR", t->sock,
              sizeof sun.sun_path - 1);
    return -1;
  }
  if (backing) {
    argv[i++] = "-b";
    argv[i++] = (char *) backing;
    argv[i++] = "-F";
    argv[i++] = "qcow2";
    argv[i++] = t->file;
    argv[i++] = sz;
  }
  st = run_command (argv, NULL, t->log);
  /* The disk's data: the owner's only, as DIR is (qemu-img leaves
   * 0644 less the umask).
   */
  if (st == 0 && chmod (t->file, 0600) == 0)
    return 0;
  if (st == 0) {
    snprintf (err, len, "chmod 0600 %s: %s", t->file, strerror (errno));
    return -1;
  }
  snprintf (err, len, "qemu-img create %s failed: %s", t->file,
            st == -1 ? strerror (errno) : run_last_line (t->log, msg,
                                                         sizeof msg));
  return -1;
}

/* The pid qemu-nbd wrote, or 0. */
static pid_t
read_pid (const char *pidfile)
{
  FILE *fp = fopen (pidfile, "r");
  long pid = 0;

  if (fp && fscanf (fp, "%ld", &pid) != 1)
    pid = 0;
  if (fp)
    fclose (fp);
  return pid;
}

int
target_start (struct target *t, int shared, char *err, size_t len)
{
  char n[16], msg[512];
  char *argv[] = { "qemu-nbd", "--fork", "--pid-file", t->pidfile,
                   "--socket", t->sock, "--format", "qcow2", "--shared", n,
                   "--cache", "writeback", t->file, NULL };
  int st;

  snprintf (n, sizeof n, "%d", shared);
  st = run_command (argv, NULL, t->log);
  if (st == 0 && (t->pid = read_pid (t->pidfile)) > 0)
    return 0;
  snprintf (err, len, "qemu-nbd could not serve %s: %s", t->file,
            st == -1 ? strerror (errno)
            : st == 0 ? "no PID in its --pid-file"
            : run_last_line (t->log, msg, sizeof msg));
  return -1;
}


int
target_finish (struct target *t, char *err, size_t len)
{
  if (t->pid > 0 && !gone (t->pid, EXIT_WAIT_MS)) {
    target_kill (t);
    snprintf (err, len, "qemu-nbd serving %s did not exit within %ds after "
              "the copy: killed", t->file, EXIT_WAIT_MS / 1000);
    return -1;
  }
  t->pid = 0;
  if (fsync_path (t->file, 0) == -1) {
    snprintf (err, len, "fsync %s: %s", t->file, strerror (errno));
    return -1;
  }
  unlink (t->sock);
  unlink (t->pidfile);
  unlink (t->log);
  return 0;
}

void
target_kill (struct target *t)
{
  if (t->pid <= 0)
    return;
  kill (t->pid, SIGTERM);
  if (!gone (t->pid, KILL_WAIT_MS)) {
    kill (t->pid, SIGKILL);
    gone (t->pid, KILL_WAIT_MS);
  }
  t->pid = 0;
}
