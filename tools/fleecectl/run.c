/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: running QEMU's tools (see run.h). */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

#define MAX_OUTPUT (1024 * 1024)

static volatile pid_t running;  /* the child being waited for, or 0 */

void
run_kill (void)
{
  pid_t pid = running;

  if (pid > 0) {
    kill (pid, SIGKILL);
    while (waitpid (pid, NULL, 0) == -1 && errno == EINTR)
      ;
  }
  running = 0;
}

/* In the child: set up the descriptors and exec.  Never returns. */
static void __attribute__ ((noreturn))
child (char *const argv[], int outfd, const char *log)
{
  int fd;

  if (log) {
    fd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd == -1 || dup2 (fd, STDERR_FILENO) == -1)
      _exit (126);
    if (outfd == -1 && dup2 (fd, STDOUT_FILENO) == -1)
      _exit (126);
  }
  if (outfd != -1 && dup2 (outfd, STDOUT_FILENO) == -1)
    _exit (126);
  execvp (argv[0], argv);
  fprintf (stderr, "fleecectl: %s: %s\n", argv[0], strerror (errno));
  _exit (127);
}

/* Read all of fd into a malloc'd string. */
static char *
read_all (int fd)
{
  size_t len = 0;
  char *buf = malloc (MAX_OUTPUT + 1);
  ssize_t r;

  if (buf == NULL)
    return NULL;
  while (len < MAX_OUTPUT &&
         ((r = read (fd, buf + len, MAX_OUTPUT - len)) > 0 ||
          (r == -1 && errno == EINTR)))
    if (r > 0)
      len += r;
  buf[len] = '\0';
  return buf;
}

int
run_command (char *const argv[], char **out, const char *log)
{
  int p[2] = { -1, -1 }, status;
  pid_t pid;

  if (out)
    *out = NULL;
  if (out && pipe2 (p, O_CLOEXEC) == -1)
    return -1;
  pid = fork ();
  if (pid == 0)
    child (argv, p[1], log);
  running = pid;
  if (p[1] != -1)
    close (p[1]);
  if (pid == -1) {
    if (p[0] != -1)
      close (p[0]);
    return -1;
  }
  if (out)
    *out = read_all (p[0]);
  if (p[0] != -1)
    close (p[0]);
  while (waitpid (pid, &status, 0) == -1)
    if (errno != EINTR) {
      running = 0;
      return -1;
    }
  running = 0;
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

const char *
run_last_line (const char *log, char *buf, size_t len)
{
  char line[1024];
  FILE *fp = fopen (log, "r");

  snprintf (buf, len, "no message");
  while (fp && fgets (line, sizeof line, fp)) {
    line[strcspn (line, "\n")] = '\0';
    if (line[0])
      snprintf (buf, len, "%s", line);
  }
  if (fp)
    fclose (fp);
  return buf;
}
