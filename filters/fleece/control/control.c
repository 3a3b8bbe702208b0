/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the control socket: parameters, the socket file, the
 * thread (see control.h, which lists the unit's other files).
 *
 * The socket file: a stale socket left at PATH by a killed nbdkit (one
 * that refuses connections) is replaced; a live one, or anything that
 * is not a socket, is an error.  The socket is made after nbdkit forks
 * (its thread must be), so everything that can be checked earlier is
 * checked in .config_complete too: a mistake then stops nbdkit in the
 * foreground with a message, instead of killing the background nbdkit
 * after the parent has exited 0 (under a forking systemd unit: a good
 * start, then a restart loop).  Its mode is exactly control-mode
 * whatever the umask: the file is bound, chmod'ed (and chgrp'ed) and
 * only then listened on, so in between every connect is refused.  At
 * stop it is removed if it is still ours (same inode).
 *
 * Permissions are checked twice: by the file mode, and per connection
 * by peer credentials (control_peer_allowed, server.h).
 *
 * Threads: the server thread is created in .after_fork and joined in
 * .cleanup after a write to its eventfd; a command in progress is
 * finished first (snapshot-begin: at most about quiesce-timeout).
 * The configuration is written only during .config and read-only
 * afterwards; the rest belongs to .after_fork/.cleanup, which nbdkit
 * does not run concurrently.
 */
#include <config.h>

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <nbdkit-filter.h>

#include "cleanup.h"
#include "control.h"
#include "parent-dir.h"
#include "server.h"

static char *path;              /* control=, absolute; NULL: no socket */
static mode_t mode = 0600;      /* control-mode= */
static bool mode_set, group_set;
static gid_t group;             /* control-group= */
static const char *group_value; /* ... as given */

static int check_path (void);

static struct control_server srv = { .listen_fd = -1, .wake_fd = -1 };
static bool bound;              /* we created the socket file */
static dev_t sock_dev;          /* ... and this is it (0: not known) */
static ino_t sock_ino;
static bool thread_started;
static pthread_t thread;

static int
parse_mode (const char *value)
{
  char *end;
  unsigned long v;

  errno = 0;
  v = strtoul (value, &end, 8);
  if (errno || end == value || *end || v > 0777 || (v & 0600) != 0600) {
    nbdkit_error ("control-mode=%s: expected an octal mode from 0600 to "
                  "0777 that lets the owner read and write (e.g. 0660)",
                  value);
    return -1;
  }
  mode = v;
  mode_set = true;
  return 1;
}

static int
parse_group (const char *value)
{
  struct group *g = getgrnam (value);
  char *end;
  unsigned long v;

  if (g != NULL)
    group = g->gr_gid;
  else {
    errno = 0;
    v = strtoul (value, &end, 10);
    if (errno || end == value || *end || v >= (gid_t) -1) {
      nbdkit_error ("control-group=%s: no such group: give a group name "
                    "or number", value);
      return -1;
    }
    group = v;
  }
  group_set = true;
  group_value = value;
  return 1;
}

static int
parse_path (const char *value)
{
  struct sockaddr_un sun;

  free (path);
  path = nbdkit_absolute_path (value);
  if (path == NULL)
    return -1;
  if (value[0] == '\0' || strlen (path) >= sizeof sun.sun_path) {
    nbdkit_error ("control=%s: the socket path must be non-empty and at "
                  "most %zu bytes long (absolute)", value,
                  sizeof sun.sun_path - 1);
    return -1;
  }
  return 1;
}

int
control_config (const char *key, const char *value)
{
  if (strcmp (key, "control") == 0)
    return parse_path (value);
  if (strcmp (key, "control-mode") == 0)
    return parse_mode (value);
  if (strcmp (key, "control-group") == 0)
    return parse_group (value);
  return 0;
}

/* The directory the socket goes in.  0, or -1 after nbdkit_error. */
static int
check_dir (void)
{
  char dir[sizeof ((struct sockaddr_un *) 0)->sun_path];

  if (parent_dir_check (path, dir, sizeof dir) == 0)
    return 0;
  if (errno == ENOENT)
    nbdkit_error ("control=%s: the directory %s does not exist: create "
                  "it before starting nbdkit (in a systemd unit: "
                  "RuntimeDirectory=) or choose another path", path, dir);
  else if (errno == ENOTDIR)
    nbdkit_error ("control=%s: %s is not a directory: choose another "
                  "path", path, dir);
  else
    nbdkit_error ("control=%s: cannot create the socket in %s: %m: give "
                  "nbdkit's user write access to it or choose another "
                  "path", path, dir);
  return -1;
}

/* control-group: only root can give a file a group it is not in. */
static int
check_group (void)
{
  CLEANUP_FREE gid_t *groups = NULL;
  int i, n;

  if (!group_set || geteuid () == 0 || getegid () == group)
    return 0;
  n = getgroups (0, NULL);
  if (n > 0 && (groups = calloc (n, sizeof *groups)) != NULL)
    n = getgroups (n, groups);
  for (i = 0; groups != NULL && i < n; i++)
    if (groups[i] == group)
      return 0;
  nbdkit_error ("control-group=%s: nbdkit runs as uid %u, which is not "
                "in group %u, so it cannot give the socket to it: add the "
                "user to the group or run nbdkit as root",
                group_value, (unsigned) geteuid (), (unsigned) group);
  return -1;
}

int
control_config_complete (void)
{
  if (path == NULL && (mode_set || group_set)) {
    nbdkit_error ("control-%s= needs control=PATH (the control socket)",
                  mode_set ? "mode" : "group");
    return -1;
  }
  if (path == NULL)
    return 0;
  /* Checked again when the socket is made, after the fork; checking
   * now makes nbdkit fail in the foreground, before it serves.
   */
  if (check_dir () == -1 || check_group () == -1)
    return -1;
  return check_path ();
}

/* What is at path: 0 nothing or a stale socket (nobody listening),
 * -1 after nbdkit_error (not a socket, or in use).
 */
static int
check_path (void)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  struct stat st;
  int fd, r;

  if (lstat (path, &st) == -1)
    return 0;                   /* nothing there */
  if (!S_ISSOCK (st.st_mode)) {
    nbdkit_error ("control=%s: exists and is not a socket: remove it or "
                  "choose another path", path);
    return -1;
  }
  strcpy (sun.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  r = fd == -1 ? -1 : connect (fd, (const void *) &sun, sizeof sun);
  if (fd >= 0)
    close (fd);
  if (r == 0) {
    nbdkit_error ("control=%s: in use by another process (is another "
                  "nbdkit running?): choose another path", path);
    return -1;
  }
  return 0;
}

/* Remove a stale socket at path.  0 or -1. */
static int
clear_stale (void)
{
  if (check_path () == -1)
    return -1;
  if (access (path, F_OK) == -1)
    return 0;
  nbdkit_debug ("fleece: control=%s: replacing a stale socket", path);
  if (unlink (path) == -1 && errno != ENOENT) {
    nbdkit_error ("control=%s: removing the stale socket: %m", path);
    return -1;
  }
  return 0;
}

/* chmod, chgrp, and note what we made.  0 or -1. */
static int
set_owner_mode (void)
{
  struct stat st;

  if (chmod (path, mode) == -1) {
    nbdkit_error ("control=%s: chmod %04o: %m", path, (unsigned) mode);
    return -1;
  }
  if (group_set && chown (path, (uid_t) -1, group) == -1) {
    nbdkit_error ("control=%s: control-group: chgrp to %u: %m", path,
                  (unsigned) group);
    return -1;
  }
  if (stat (path, &st) == -1) {
    nbdkit_error ("control=%s: stat: %m", path);
    return -1;
  }
  sock_dev = st.st_dev;
  sock_ino = st.st_ino;
  srv.mode = mode;
  srv.gid = st.st_gid;
  return 0;
}

/* Create the listening socket in srv.listen_fd.  0 or -1. */
static int
make_socket (void)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };

  strcpy (sun.sun_path, path);
  if (clear_stale () == -1)
    return -1;
  srv.listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
                          SOCK_NONBLOCK, 0);
  if (srv.listen_fd == -1) {
    nbdkit_error ("control=%s: socket: %m", path);
    return -1;
  }
  if (bind (srv.listen_fd, (const void *) &sun, sizeof sun) == -1) {
    nbdkit_error ("control=%s: bind: %m", path);
    return -1;
  }
  bound = true;                 /* ours: remove it at stop */
  if (set_owner_mode () == -1)
    return -1;
  if (listen (srv.listen_fd, 32) == -1) {
    nbdkit_error ("control=%s: listen: %m", path);
    return -1;
  }
  return 0;
}

int
control_start (void)
{
  int r;

  if (path == NULL)
    return 0;
  if (make_socket () == -1)
    goto fail;
  srv.wake_fd = eventfd (0, EFD_CLOEXEC);
  if (srv.wake_fd == -1) {
    nbdkit_error ("fleece: control socket: eventfd: %m");
    goto fail;
  }
  if ((r = pthread_create (&thread, NULL, control_serve, &srv)) != 0) {
    errno = r;
    nbdkit_error ("fleece: control socket: starting its thread: %m");
    goto fail;
  }
  thread_started = true;
  nbdkit_debug ("fleece: control socket %s listening, mode %04o",
                path, (unsigned) mode);
  return 0;

 fail:
  control_stop ();              /* nothing is left behind */
  return -1;
}

/* Remove the socket file if it is still the one we bound. */
static void
remove_socket (void)
{
  struct stat st;

  if (!bound)
    return;
  if (lstat (path, &st) == 0 && S_ISSOCK (st.st_mode) &&
      (sock_ino == 0 || (st.st_dev == sock_dev && st.st_ino == sock_ino)))
    unlink (path);
  bound = false;
}

void
control_stop (void)
{
  uint64_t one = 1;

  if (thread_started) {
    if (write (srv.wake_fd, &one, sizeof one) != sizeof one)
      nbdkit_error ("fleece: control socket: waking its thread: %m");
    else
      pthread_join (thread, NULL);
    thread_started = false;
  }
  if (srv.listen_fd >= 0)
    close (srv.listen_fd);
  if (srv.wake_fd >= 0)
    close (srv.wake_fd);
  srv.listen_fd = srv.wake_fd = -1;
  if (path)
    remove_socket ();
  free (path);
  path = NULL;
}
