/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the crash-recovery marker of quiesce-command= (see
 * quiesce-marker.h).
 *
 * States of DIR/quiesce-command.frozen, as quiesce.c drives them:
 *   absent   nothing is owed: no freeze ran, or its thaw succeeded.
 *   ours     written by this process before 'PATH freeze'; removed
 *            after a successful 'PATH thaw'.  If the thaw failed it
 *            stays, and the next freeze first retries the thaw.
 *   stale    written by a process that is no longer a running nbdkit
 *            (or, at start, by a process with our pid: containers
 *            reuse pids; or by a pid now held by an nbdkit that
 *            started after the marker's time=).  The next nbdkit thaws
 *            at start and again before every freeze until a thaw
 *            succeeds.
 *   foreign  written by a running nbdkit other than us, or for another
 *            command: two instances share DIR.  Left alone, and no
 *            freeze happens while it is there.  So is anything by the
 *            marker's name that is not a regular file (a FIFO would
 *            block open() while the lifecycle lock is held: it is
 *            opened O_NONBLOCK).
 *
 * Invariants: the marker exists, fsynced with its directory, before
 * 'PATH freeze' runs; it is created with O_EXCL, so one process never
 * overwrites another's; it is removed only after a successful thaw.
 * A marker with no readable pid (its writer died while writing it) is
 * stale: its freeze never ran, and a thaw is harmless.
 *
 * The freeze's process group: once 'PATH freeze' is spawned (in a
 * group of its own), "freeze-pid=", "freeze-ticks=" (its start in
 * clock ticks since boot) and "freeze-where=" (boot id and pid
 * namespace) are appended.  A recovery for a dead writer in the same
 * boot and pid namespace kills that group if it is still the same
 * group (proc-alive.h) before thawing: a freeze still running could
 * land after the thaw and leave the guest frozen.  A freeze already
 * passed to a daemon (libvirtd runs agent commands of one domain in
 * order) lands before the thaw.
 *
 * Not handled: a freeze child that left the group (setsid, a daemon);
 * nbdkit killed between the spawn and the append (microseconds); two
 * live nbdkit instances for the same guest with the same command; a
 * host crash (the guest dies too).
 *
 * Locking rule: none; see quiesce-marker.h.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nbdkit-filter.h>

#include "parent-dir.h"
#include "proc-alive.h"
#include "quiesce-marker.h"

#define MARKER_NAME "quiesce-command.frozen"

static char *dir;               /* quiesce-state-dir=, absolute */
static char *path;              /* dir/MARKER_NAME, after config_complete */
static const char *command;     /* quiesce-command=, nbdkit's string */

int
marker_config (const char *value)
{
  if (value[0] == '\0') {
    nbdkit_error ("quiesce-state-dir=: empty: give a directory for the "
                  "quiesce-command crash-recovery marker");
    return -1;
  }
  marker_free ();
  dir = nbdkit_absolute_path (value);
  return dir ? 1 : -1;
}

/* DIR is missing: it is created after nbdkit forks, so check now that
 * it can be (a missing parent would kill the background nbdkit after
 * the parent exited 0).  0 or -1.
 */
static int
check_parent (void)
{
  char parent[4096];

  if (parent_dir_check (dir, parent, sizeof parent) == 0)
    return 0;
  nbdkit_error ("quiesce-state-dir=%s: cannot create it: its parent %s: "
                "%m: create it (mode 0700, owned by the nbdkit user) "
                "before starting nbdkit", dir, parent);
  return -1;
}

/* Check DIR.  nbdkit -u/-g switches user after .config_complete and
 * before .after_fork, and the marker is used as the switched user.  So
 * before the switch (as_user false) only what holds for any user is
 * checked, if DIR exists: a directory (not a symlink), not writable by
 * group or others.  After it (.after_fork, as_user true) DIR is also
 * created (0700) if missing, and must be owned by the effective uid.
 */
static int
check_dir (bool as_user)
{
  struct stat st;

  if (as_user && mkdir (dir, 0700) == -1 && errno != EEXIST) {
    nbdkit_error ("quiesce-state-dir=%s: cannot create it as uid %u: %m: "
                  "give an existing directory, or one whose parent exists "
                  "and is writable by the nbdkit user (after -u)", dir,
                  (unsigned) geteuid ());
    return -1;
  }
  if (lstat (dir, &st) == -1) {
    if (!as_user && errno == ENOENT)
      return check_parent ();   /* not there yet: created after -u */
    nbdkit_error ("quiesce-state-dir=%s: %m: give a directory that the "
                  "nbdkit user (after -u) can reach", dir);
    return -1;
  }
  if (!S_ISDIR (st.st_mode)) {
    nbdkit_error ("quiesce-state-dir=%s: not a directory (symlinks are "
                  "refused): give a directory for the crash-recovery "
                  "marker", dir);
    return -1;
  }
  if (as_user && st.st_uid != geteuid ()) {
    nbdkit_error ("quiesce-state-dir=%s: owned by uid %u, not by the nbdkit "
                  "user (uid %u, after -u): chown it or give another "
                  "directory", dir, (unsigned) st.st_uid,
                  (unsigned) geteuid ());
    return -1;
  }
  if ((st.st_mode & 022) != 0) {
    nbdkit_error ("quiesce-state-dir=%s: writable by its group or others "
                  "(mode %04o): chmod go-w it or give another directory",
                  dir, (unsigned) (st.st_mode & 07777));
    return -1;
  }
  return 0;
}

int
marker_config_complete (const char *cmd)
{
  if (dir == NULL)
    return 0;
  if (cmd == NULL) {
    nbdkit_error ("quiesce-state-dir=%s: needs quiesce-command= (it keeps "
                  "that command's crash-recovery marker; the vmdisk "
                  "plugin keeps its own: see its state-dir=)", dir);
    return -1;
  }
  if (check_dir (false) == -1)
    return -1;
  command = cmd;
  free (path);
  if (asprintf (&path, "%s/" MARKER_NAME, dir) == -1) {
    path = NULL;
    nbdkit_error ("quiesce-state-dir=%s: asprintf: %m", dir);
    return -1;
  }
  nbdkit_debug ("fleece: quiesce-command crash-recovery marker: %s", path);
  return 0;
}

int
marker_after_fork (void)
{
  if (path == NULL)
    return 0;
  if (check_dir (true) == -1)
    return -1;
  nbdkit_debug ("fleece: quiesce-state-dir %s checked as uid %u", dir,
                (unsigned) geteuid ());
  return 0;
}

bool
marker_enabled (void)
{
  return path != NULL;
}

const char *
marker_path (void)
{
  return path ? path : "";
}

/* The value of the first "KEY=" line after the marker text buf's
 * first line, or NULL.
 */
static const char *
field (const char *buf, const char *key)
{
  char pat[32];
  const char *p;

  snprintf (pat, sizeof pat, "\n%s=", key);
  p = strstr (buf, pat);
  return p ? p + strlen (pat) : NULL;
}

/* Is that line's value exactly value? */
static bool
field_is (const char *buf, const char *key, const char *value)
{
  const char *v = field (buf, key);
  size_t len = strlen (value);

  return v && strncmp (v, value, len) == 0 && v[len] == '\n';
}

/* Was the marker text buf written for our command? */
static bool
same_command (const char *buf)
{
  return field_is (buf, "command", command);
}

/* When was the marker text buf written (its last "time=" line)?
 * PROC_ALIVE_NO_TIME if it does not say: the writer died while writing
 * it, or an older version wrote it.
 */
static time_t
written_at (const char *buf)
{
  const char *p, *last = NULL;

  for (p = buf; (p = strstr (p, "\ntime=")) != NULL; p++)
    last = p;
  return last ? proc_alive_parse_utc (last + 6) : PROC_ALIVE_NO_TIME;
}

/* Read the marker into buf (NUL-terminated).  1, 0 if there is none,
 * or -1 with why filled.  O_NONBLOCK: a FIFO by the marker's name must
 * not block us (the caller holds the snapshot lifecycle lock), and
 * only a regular file is a marker.
 */
static int
read_marker (char *buf, size_t len, char *why, size_t why_len)
{
  struct stat st;
  ssize_t n = -1;
  int fd;

  fd = open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd == -1 && errno == ENOENT)
    return 0;
  if (fd >= 0 && fstat (fd, &st) == 0 && !S_ISREG (st.st_mode)) {
    close (fd);
    snprintf (why, why_len, "the crash-recovery marker %s is not a regular "
              "file: remove it (once the guest is known to be thawed)",
              path);
    return -1;
  }
  if (fd >= 0) {
    n = read (fd, buf, len - 1);
    close (fd);
  }
  if (n == -1) {
    snprintf (why, why_len, "cannot read the crash-recovery marker %s: %s",
              path, strerror (errno));
    return -1;
  }
  buf[n] = '\0';
  return 1;
}

/* Is a thaw owed according to the marker?  0: no marker.  1: a marker
 * that we must thaw for: written by us (an earlier thaw failed), or
 * by a process that is no longer a running nbdkit (a running nbdkit
 * that started after the marker's time= is not its writer); *pid is
 * its pid (-1 if unreadable: the writer died before finishing it).
 * -1: a marker we must leave alone (a live nbdkit's, or written for
 * another quiesce-command, or not a regular file), or it cannot be
 * read; why says which.  The marker's text is left in buf.  Never
 * blocks (a FIFO is opened O_NONBLOCK).
 */
static int
marker_check (long *pid, char *buf, size_t len, char *why,
              size_t why_len)
{
  int r;

  *pid = -1;
  r = read_marker (buf, len, why, why_len);
  if (r <= 0)
    return r;
  if (strncmp (buf, "pid=", 4) == 0)
    *pid = strtol (buf + 4, NULL, 10);
  if (proc_alive_same_program (*pid, written_at (buf))) {
    snprintf (why, why_len, "the crash-recovery marker %s belongs to the "
              "running nbdkit pid %ld: give each guest its own "
              "quiesce-state-dir=", path, *pid);
    return -1;
  }
  if (*pid > 0 && !same_command (buf)) {
    snprintf (why, why_len, "the crash-recovery marker %s was written for "
              "another quiesce-command: give each guest its own "
              "quiesce-state-dir= (remove the marker once that guest is "
              "thawed)", path);
    return -1;
  }
  return 1;
}

/* The number on the marker text buf's KEY= line (field), or 0. */
static unsigned long long
marker_number (const char *buf, const char *key)
{
  const char *v = field (buf, key);

  return v ? strtoull (v, NULL, 10) : 0;
}

/* Was the marker text buf's freeze recorded in this boot and pid
 * namespace ("freeze-where=", proc_alive_where)?
 */
static bool
same_where (const char *buf)
{
  char here[128];

  proc_alive_where (here, sizeof here);
  return here[0] != '\0' && field_is (buf, "freeze-where", here);
}

/* Kill the dead writer's 'PATH freeze' if its group still runs. */
static void
kill_orphan_freeze (const char *buf, long writer)
{
  unsigned long long fpid = marker_number (buf, "freeze-pid");
  unsigned long long ticks = marker_number (buf, "freeze-ticks");
  int r;

  if (fpid <= 1 || fpid > LONG_MAX || ticks == 0)
    return;
  if (!same_where (buf)) {
    nbdkit_debug ("fleece: the freeze in %s was recorded in another boot "
                  "or pid namespace: not killing process group %llu",
                  path, fpid);
    return;
  }
  r = proc_alive_kill_group ((long) fpid, ticks);
  if (r == 1)
    nbdkit_error ("fleece: warning: '%s freeze' (process group %llu) of "
                  "dead nbdkit pid %ld was still running: killed it before "
                  "the thaw", command, fpid, writer);
  else if (r == -1)
    nbdkit_error ("fleece: warning: cannot kill '%s freeze' (process group "
                  "%llu) of dead nbdkit pid %ld: %m; if it still runs, it "
                  "may freeze the guest after this thaw", command, fpid,
                  writer);
}

int
marker_settle (bool at_start, int (*thaw) (char *, size_t),
               char *why, size_t why_len)
{
  char buf[8192], err[256] = "", who[32] = "unknown";
  long pid;
  int r = marker_check (&pid, buf, sizeof buf, why, why_len);

  if (r == -1 && at_start)
    nbdkit_error ("fleece: warning: %s", why);
  if (r <= 0)
    return r;
  if (at_start || pid != (long) getpid ())
    kill_orphan_freeze (buf, pid);
  r = thaw (err, sizeof err);
  /* Remove the marker before saying so: the removal can fail. */
  if (r >= 0 && marker_remove () == -1) {
    snprintf (err, sizeof err, "the thaw succeeded, but the marker could "
              "not be removed (see the previous error)");
    r = -2;
  }
  if (pid > 0)
    snprintf (who, sizeof who, "%ld", pid);
  if (at_start || pid != (long) getpid ())
    nbdkit_error ("fleece: warning: nbdkit pid %s died between 'freeze' and "
                  "'thaw' of quiesce-command (marker %s); ran '%s thaw': %s",
                  who, path, command, r >= 0 ? "ok, marker removed" : err);
  else
    nbdkit_debug ("fleece: retried the owed thaw: %s",
                  r >= 0 ? "ok, marker removed" : err);
  if (r == -1) {
    snprintf (why, why_len, "an earlier freeze may still hold: %s; not "
              "freezing again until a thaw succeeds (marker %s)", err, path);
    return -1;
  }
  if (r == -2) {
    snprintf (why, why_len, "cannot remove the crash-recovery marker %s",
              path);
    return -1;
  }
  return 0;
}

/* fsync the directory, so a created or removed marker is durable. */
static int
sync_dir (void)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r = fd >= 0 ? fsync (fd) : -1;

  if (fd >= 0)
    close (fd);
  return r;
}

int
marker_create (char *why, size_t why_len)
{
  char buf[8192], when[32];
  int fd, n, err = 0;

  proc_alive_format_utc (time (NULL), when, sizeof when);
  n = snprintf (buf, sizeof buf, "pid=%ld\ncommand=%s\ntime=%s\n",
                (long) getpid (), command, when);
  if (n < 0 || (size_t) n >= sizeof buf) {
    snprintf (why, why_len, "quiesce-command path too long for the "
              "crash-recovery marker");
    return -1;
  }
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
             0600);
  if (fd == -1) {
    snprintf (why, why_len, "cannot create the crash-recovery marker %s: "
              "%s%s", path, strerror (errno), errno == EEXIST ?
              " (does another nbdkit use this quiesce-state-dir=?)" : "");
    return -1;
  }
  errno = 0;
  if (write (fd, buf, n) != n || fsync (fd) == -1)
    err = errno ? errno : EIO;
  if (close (fd) == -1 && err == 0)
    err = errno;
  if (err == 0 && sync_dir () == -1)
    err = errno;
  if (err != 0) {
    unlink (path);
    snprintf (why, why_len, "cannot write the crash-recovery marker %s: %s",
              path, strerror (err));
    return -1;
  }
  return 0;
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
  fd = open (path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1 || write (fd, buf, n) != n)
    nbdkit_debug ("fleece: cannot add the freeze's process group to %s: %m",
                  path);
  if (fd >= 0)
    close (fd);
}

int
marker_remove (void)
{
  if (unlink (path) == -1 && errno != ENOENT) {
    nbdkit_error ("fleece: cannot remove the crash-recovery marker %s: %m; "
                  "the next freeze thaws first", path);
    return -1;
  }
  if (sync_dir () == -1)
    nbdkit_debug ("fleece: fsync of quiesce-state-dir %s: %m", dir);
  return 0;
}

void
marker_free (void)
{
  free (dir);
  free (path);
  dir = path = NULL;
}
