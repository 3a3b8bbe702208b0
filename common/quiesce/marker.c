/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: quiesce, the crash-recovery marker.
 *
 * Design: the marker is DIR/KIND-KEY.frozen, one per target, so
 * several nbdkit instances for different guests share a directory.
 * It is written before every freeze and removed after the thaw debt
 * is paid; its presence at start means an earlier run may have died
 * with the guest frozen.  Write discipline: a temporary name, fsync,
 * rename, fsync of the directory, so that the marker exists, complete,
 * on disk before the freeze is sent (a reader never sees half of it);
 * a removal is followed by an fsync of the directory too.
 * A marker whose pid is alive (not a zombie) and runs the same
 * program as we do (proc-alive.h) belongs to another live
 * instance and is left alone; a pid that is gone, a zombie, reused by
 * another program or by a process that started after the marker's
 * time= (markers of older versions have none), or equal to ours
 * (containers reuse pids) is dead.
 *
 * Not handled: two live nbdkit instances for one target (the second
 * sees the first's marker as live and leaves it; their freezes are
 * not coordinated).  A host crash loses the marker, and the guest
 * with it.
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

static char *dir, *path;

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
marker_default_dir (void)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  char uid[32];
  char *d;

  snprintf (uid, sizeof uid, "%u", (unsigned) geteuid ());
  if (geteuid () == 0)
    d = format ("%s%s%s", "/run/nbdkit-vmdisk", "", "");
  else if (xdg && *xdg == '/')
    d = format ("%s%s%s", xdg, "/nbdkit-vmdisk", "");
  else
    d = format ("%s%s%s", "/tmp/nbdkit-vmdisk-", uid, "");
  if (d == NULL)
    nbdkit_error ("state-dir: %m");
  return d;
}

int
marker_init (const char *d, const char *kind, const char *key)
{
  char *k, *p;

  marker_free ();
  k = strdup (key);
  if (k == NULL) {
    nbdkit_error ("state-dir: strdup: %m");
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
    nbdkit_error ("state-dir: %m");
    return -1;
  }
  return 0;
}

/* Check the state directory; see marker.h for the rule.  The
 * same function (and so the same words) for the start and for every
 * marker write: a directory refused when the marker is written would
 * make every snapshot crash-consistent.
 */
static int
check_dir (bool as_user, char *reason, size_t len)
{
  struct stat st;
  bool root = geteuid () == 0;
  char *parent, *slash;
  int r;

  if (lstat (dir, &st) == -1 && errno == ENOENT) {
    parent = strdup (dir);
    if (parent == NULL) {
      qga_reasonf (reason, len, "state-dir=%s: strdup: %m", dir);
      return -1;
    }
    slash = strrchr (parent, '/');
    if (slash)
      slash[slash == parent] = '\0';   /* "/x" -> "/" */
    r = stat (parent, &st) == 0 && S_ISDIR (st.st_mode) ? 0 : -1;
    if (r == -1)
      qga_reasonf (reason, len, "state-dir=%s: missing, and its parent %s "
                   "is not an existing directory: create it (mkdir -m 0700 "
                   "%s) or give another state-dir=", dir, parent, dir);
    free (parent);
    if (r == -1)
      return -1;
    /* As root, nbdkit -u may still switch user: create it as that user. */
    if (root && !as_user)
      return 0;
    if (mkdir (dir, 0700) == -1 && errno != EEXIST) {
      qga_reasonf (reason, len, "state-dir=%s: cannot create it as uid %u: "
                   "%m: create it (mkdir -m 0700 %s) or give another "
                   "state-dir=", dir, (unsigned) geteuid (), dir);
      return -1;
    }
  }
  if (lstat (dir, &st) == -1) {
    qga_reasonf (reason, len, "state-dir=%s: %m: give a directory that "
                 "nbdkit's user can reach", dir);
    return -1;
  }
  if (!S_ISDIR (st.st_mode)) {
    qga_reasonf (reason, len, "state-dir=%s: not a directory (symlinks are "
                 "refused): give a directory for the crash-recovery marker",
                 dir);
    return -1;
  }
  if ((st.st_mode & 022) != 0) {
    qga_reasonf (reason, len, "state-dir=%s: writable by its group or others "
                 "(mode %04o), so others could forge or remove the "
                 "crash-recovery marker: chmod go-w it or give another "
                 "state-dir=", dir, (unsigned) (st.st_mode & 07777));
    return -1;
  }
  if ((as_user || !root) && st.st_uid != geteuid ()) {
    qga_reasonf (reason, len, "state-dir=%s: owned by uid %u, not by the "
                 "user nbdkit runs as (uid %u): chown it or give another "
                 "state-dir=", dir, (unsigned) st.st_uid,
                 (unsigned) geteuid ());
    return -1;
  }
  return 0;
}

int
marker_check_dir (bool as_user)
{
  char reason[1024];

  if (check_dir (as_user, reason, sizeof reason) == -1) {
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

int
marker_write (const char *target, char *reason, size_t len)
{
  char tmp[4096], when[32];
  FILE *fp;
  int fd;

  if (check_dir (true, reason, len) == -1)
    return -1;
  snprintf (tmp, sizeof tmp, "%s.%ld.tmp", path, (long) getpid ());
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  fp = fd >= 0 ? fdopen (fd, "w") : NULL;
  if (fp == NULL) {
    qga_reasonf (reason, len, "cannot write the crash-recovery marker %s: "
                 "%m (fix state-dir=)", tmp);
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
                 "%m (fix state-dir=)", path);
    unlink (tmp);
    return -1;
  }
  return 0;
}

void
marker_remove (void)
{
  if (path == NULL)
    return;
  if (unlink (path) == -1 && errno != ENOENT)
    nbdkit_debug ("vmdisk: cannot remove %s: %m", path);
  else if (sync_dir () == -1)
    nbdkit_debug ("vmdisk: fsync of the state directory %s: %m", dir);
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
    nbdkit_error ("vmdisk: warning: %s is not a regular file: remove it "
                  "(once the guest is known to be thawed)", path);
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
  char line[4096];
  time_t written = PROC_ALIVE_NO_TIME;
  FILE *fp;

  *pid = -1;
  target[0] = '\0';
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
  }
  fclose (fp);
  if (proc_alive_same_program (*pid, written)) {
    nbdkit_debug ("vmdisk: %s belongs to the running nbdkit pid %ld; "
                  "left alone", path, *pid);
    return 0;
  }
  return 1;
}

void
marker_free (void)
{
  free (dir);
  free (path);
  dir = path = NULL;
}
