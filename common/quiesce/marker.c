/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, the crash-recovery marker.
 *
 * Design: the marker is DIR/KIND-KEY.frozen, one per target, so
 * several nbdkit instances for different guests share a directory.
 * One format for every backend: "pid=", "target=", "time=" (written
 * before the freeze), then, for a backend that spawns the freeze (the
 * command), "freeze-pid=", "freeze-ticks=" and "freeze-where=".  It is
 * written before every freeze and removed after the thaw debt is
 * paid; its presence at start means an earlier run may have died with
 * the guest frozen.  Write discipline: a temporary name, fsync,
 * rename, fsync of the directory, so that the marker exists, complete,
 * on disk before the freeze is sent (a reader never sees half of it);
 * a removal is followed by an fsync of the directory too.  A write
 * never replaces another live instance's marker.
 *
 * A marker whose pid is alive (not a zombie) and runs the same
 * program as we do (proc-alive.h) belongs to another live instance
 * and is left alone; a pid that is gone, a zombie, reused by another
 * program or by a process that started after the marker's time=
 * (markers of older versions have none), or equal to ours (containers
 * reuse pids) is dead.  A dead writer's recorded freeze is killed, by
 * process group, only if it was recorded in this boot and pid
 * namespace and the group is still the one it led (proc-alive.h).
 *
 * Not handled: two live nbdkit instances for one target are not
 * coordinated beyond that (the second does not freeze while the
 * first's marker is there; two that start at once may both write).
 * A host crash loses the marker, and the guest with it.
 *
 * Locking: none; callers serialise every call (the guard does).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <nbdkit-plugin.h>

#include "agent-reply.h"
#include "proc-alive.h"
#include "marker.h"
#include "state-dir.h"

static char *dir, *path;
static const char *name = "quiesce";    /* for messages: "vmdisk" */
static const char *param = "state-dir"; /* the parameter naming dir */

/* The freeze's process group recorded in a stale marker (0: none),
 * and whether it was recorded in this boot and pid namespace.
 */
static long stale_fpid;
static unsigned long long stale_fticks;
static bool stale_here;

/* A new string: printf of fmt, or NULL. */
static char *
format (const char *fmt, const char *a, const char *b, const char *c)
{
  int n = snprintf (NULL, 0, fmt, a, b, c);
  char *s = n >= 0 ? malloc ((size_t) n + 1) : NULL;

  if (s)
    snprintf (s, (size_t) n + 1, fmt, a, b, c);
  return s;
}

char *
marker_default_dir (const char *component, const char *key)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  char uid[32];
  char *d;

  snprintf (uid, sizeof uid, "%u", (unsigned) geteuid ());
  if (geteuid () == 0)
    d = format ("%s%s%s", "/run/nbdkit-", component, "");
  else if (xdg && *xdg == '/')
    d = format ("%s/nbdkit-%s%s", xdg, component, "");
  else
    d = format ("/tmp/nbdkit-%s-%s%s", component, uid, "");
  if (d == NULL)
    nbdkit_error ("%s: %m", key);
  return d;
}

int
marker_init (const char *log_name, const char *param_name, const char *d,
             const char *kind, const char *key)
{
  char *k, *p;

  marker_free ();
  name = log_name;
  param = param_name;
  k = strdup (key);
  if (k == NULL) {
    nbdkit_error ("%s: strdup: %m", param);
    return -1;
  }
  for (p = k; *p; p++)
    if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
        !(*p >= '0' && *p <= '9') && *p != '.' && *p != '-')
      *p = '_';
  dir = strdup (d);
  path = format ("%s/%s-%s.frozen", d, kind, k);
  free (k);
  if (dir == NULL || path == NULL) {
    nbdkit_error ("%s: %m", param);
    return -1;
  }
  return 0;
}

int
marker_check_dir (bool as_user)
{
  char reason[1024];

  if (state_dir_check (dir, param, as_user, reason, sizeof reason) == -1) {
    nbdkit_error ("%s", reason);
    return -1;
  }
  return 0;
}

/* fsync the state directory, so that a renamed or removed marker is
 * durable.  0, or -1 (errno set).
 */
static int
sync_dir (void)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r = fd >= 0 ? fsync (fd) : -1;
  int err = errno;

  if (fd >= 0)
    close (fd);
  errno = err;
  return r;
}

/* Before a write: refuse to replace a marker of another live nbdkit
 * (two instances for one target).  Anything else by the marker's name
 * (a FIFO, reported at start) is replaced by the rename.  0, or -1
 * with a reason.
 */
static int
check_replace (char *reason, size_t len)
{
  char line[256];
  time_t written = PROC_ALIVE_NO_TIME;
  struct stat st;
  long pid = -1;
  FILE *fp;
  int fd;

  fd = open (path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1)
    return 0;                   /* none (or a symlink: replaced) */
  if (fstat (fd, &st) == -1 || !S_ISREG (st.st_mode)) {
    close (fd);
    return 0;
  }
  fp = fdopen (fd, "r");
  while (fp && fgets (line, sizeof line, fp)) {
    if (strncmp (line, "pid=", 4) == 0)
      pid = strtol (line + 4, NULL, 10);
    else if (strncmp (line, "time=", 5) == 0)
      written = proc_alive_parse_utc (line + 5);
  }
  if (fp)
    fclose (fp);
  else
    close (fd);
  if (proc_alive_same_program (pid, written)) {
    qga_reasonf (reason, len, "the crash-recovery marker %s belongs to the "
                 "running nbdkit pid %ld: give each guest its own %s=",
                 path, pid, param);
    return -1;
  }
  return 0;
}

int
marker_write (const char *target, char *reason, size_t len)
{
  char tmp[4096], when[32];
  FILE *fp;
  int fd;

  if (state_dir_check (dir, param, true, reason, len) == -1 ||
      check_replace (reason, len) == -1)
    return -1;
  snprintf (tmp, sizeof tmp, "%s.%ld.tmp", path, (long) getpid ());
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  fp = fd >= 0 ? fdopen (fd, "w") : NULL;
  if (fp == NULL) {
    qga_reasonf (reason, len, "cannot write the crash-recovery marker %s: "
                 "%m (fix %s=)", tmp, param);
    if (fd >= 0)
      close (fd);
    return -1;
  }
  /* time=: when, so that a later process with our pid is not taken
   * for us (proc-alive.h).
   */
  proc_alive_format_utc (time (NULL), when, sizeof when);
  fprintf (fp, "pid=%ld\ntarget=%s\ntime=%s\n", (long) getpid (), target,
           when);
  if (fflush (fp) == EOF || fsync (fd) == -1) {
    int err = errno;
    fclose (fp);
    errno = err;
    fp = NULL;
  }
  if (fp == NULL || fclose (fp) == EOF || rename (tmp, path) == -1 ||
      sync_dir () == -1) {
    qga_reasonf (reason, len, "cannot write the crash-recovery marker %s: "
                 "%m (fix %s=)", path, param);
    unlink (tmp);
    return -1;
  }
  return 0;
}

int
marker_remove (void)
{
  if (path == NULL)
    return 0;
  if (unlink (path) == -1 && errno != ENOENT) {
    nbdkit_error ("%s: cannot remove the crash-recovery marker %s: %m; "
                  "no freeze until it is gone", name, path);
    return -1;
  }
  if (sync_dir () == -1)
    nbdkit_debug ("%s: fsync of the state directory %s: %m", name, dir);
  return 0;
}

/* The marker for reading, or NULL.  Never blocks: a FIFO put in its
 * place would hang nbdkit's start (O_NONBLOCK), and only a regular
 * file is read.
 */
static FILE *
open_marker (void)
{
  struct stat st;
  FILE *fp;
  int fd;

  fd = open (path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1)
    return NULL;
  if (fstat (fd, &st) == -1 || !S_ISREG (st.st_mode)) {
    nbdkit_error ("%s: warning: the crash-recovery marker %s is not a "
                  "regular file: remove it (once the guest is known to be "
                  "thawed)", name, path);
    close (fd);
    return NULL;
  }
  fp = fdopen (fd, "r");
  if (fp == NULL)
    close (fd);
  return fp;
}

int
marker_find_stale (long *pid, char *target, size_t target_len)
{
  char line[4096], here[128];
  time_t written = PROC_ALIVE_NO_TIME;
  FILE *fp;

  *pid = -1;
  target[0] = '\0';
  stale_fpid = 0;
  stale_fticks = 0;
  stale_here = false;
  proc_alive_where (here, sizeof here);
  fp = path ? open_marker () : NULL;
  if (fp == NULL)
    return 0;
  while (fgets (line, sizeof line, fp)) {
    line[strcspn (line, "\n")] = '\0';
    if (strncmp (line, "pid=", 4) == 0)
      *pid = strtol (line + 4, NULL, 10);
    else if (strncmp (line, "target=", 7) == 0)
      snprintf (target, target_len, "%s", line + 7);
    else if (strncmp (line, "time=", 5) == 0)
      written = proc_alive_parse_utc (line + 5);
    else if (strncmp (line, "freeze-pid=", 11) == 0)
      stale_fpid = strtol (line + 11, NULL, 10);
    else if (strncmp (line, "freeze-ticks=", 13) == 0)
      stale_fticks = strtoull (line + 13, NULL, 10);
    else if (strncmp (line, "freeze-where=", 13) == 0)
      stale_here = here[0] != '\0' && strcmp (line + 13, here) == 0;
  }
  fclose (fp);
  if (proc_alive_same_program (*pid, written)) {
    nbdkit_debug ("%s: %s belongs to the running nbdkit pid %ld; "
                  "left alone", name, path, *pid);
    return 0;
  }
  return 1;
}

void
marker_note_freeze (long pid)
{
  char buf[256], where[128];
  int fd, n;

  proc_alive_where (where, sizeof where);
  n = snprintf (buf, sizeof buf, "freeze-pid=%ld\nfreeze-ticks=%llu\n"
                "freeze-where=%s\n", pid, proc_alive_start_ticks (pid),
                where);
  fd = path ? open (path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC) : -1;
  if (fd == -1 || write (fd, buf, n) != n)
    nbdkit_debug ("%s: cannot add the freeze's process group to %s: %m",
                  name, path);
  if (fd >= 0)
    close (fd);
}

void
marker_kill_orphan (long writer)
{
  int r;

  if (stale_fpid <= 1 || stale_fticks == 0)
    return;
  if (!stale_here) {
    nbdkit_debug ("%s: the freeze in %s was recorded in another boot or "
                  "pid namespace: not killing process group %ld", name,
                  path, stale_fpid);
    return;
  }
  r = proc_alive_kill_group (stale_fpid, stale_fticks);
  if (r == 1)
    nbdkit_error ("%s: warning: the freeze (process group %ld) of dead "
                  "nbdkit pid %ld was still running: killed it before the "
                  "thaw", name, stale_fpid, writer);
  else if (r == -1)
    nbdkit_error ("%s: warning: cannot kill the freeze (process group %ld) "
                  "of dead nbdkit pid %ld: %m; if it still runs, it may "
                  "freeze the guest after this thaw", name, stale_fpid,
                  writer);
  stale_fpid = 0;
}

void
marker_free (void)
{
  free (dir);
  free (path);
  dir = path = NULL;
}
