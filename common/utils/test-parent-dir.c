/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit test for parent-dir.c. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parent-dir.h"

static int failures;

static void
expect (const char *path, int err, const char *want_parent)
{
  char parent[256];
  int r;

  errno = 0;
  r = parent_dir_check (path, parent, sizeof parent);
  if ((err == 0 ? r != 0 : r != -1 || errno != err) ||
      (want_parent && strcmp (parent, want_parent) != 0)) {
    fprintf (stderr, "FAIL: %s: got %d (%s), parent '%s'; expected %s, "
             "parent '%s'\n", path, r, strerror (errno), parent,
             err ? strerror (err) : "success",
             want_parent ? want_parent : "(any)");
    failures++;
  }
}

int
main (void)
{
  char dir[] = "/tmp/test-parent-dir.XXXXXX";
  char a[512], b[512], c[512];
  FILE *fp;

  if (mkdtemp (dir) == NULL) {
    perror ("mkdtemp");
    return 1;
  }
  snprintf (a, sizeof a, "%s/sock", dir);
  expect (a, 0, dir);
  snprintf (a, sizeof a, "%s/missing/sock", dir);
  snprintf (b, sizeof b, "%s/missing", dir);
  expect (a, ENOENT, b);
  snprintf (b, sizeof b, "%s/file", dir);
  if ((fp = fopen (b, "w")) == NULL || fclose (fp) != 0) {
    perror (b);
    return 1;
  }
  snprintf (a, sizeof a, "%s/file/sock", dir);
  expect (a, ENOTDIR, b);
  snprintf (a, sizeof a, "%s/file/x/sock", dir);
  expect (a, ENOTDIR, NULL);
  expect ("/sock", 0, "/");
  expect ("sock", EINVAL, "");
  memset (c, 'x', sizeof c - 1);
  c[0] = '/';
  c[sizeof c - 1] = '\0';
  c[400] = '/';
  expect (c, ENAMETOOLONG, NULL);
  /* A directory we cannot write (only meaningful when not root). */
  snprintf (b, sizeof b, "%s/ro", dir);
  snprintf (a, sizeof a, "%s/ro/sock", dir);
  if (mkdir (b, 0500) == -1) {
    perror (b);
    return 1;
  }
  if (geteuid () != 0)
    expect (a, EACCES, b);
  else
    printf ("test-parent-dir: root: the EACCES case is not checked\n");
  rmdir (b);
  snprintf (b, sizeof b, "%s/file", dir);
  unlink (b);
  rmdir (dir);
  return failures ? 1 : 0;
}
