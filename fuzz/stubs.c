/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: fuzz/stubs.c, the few nbdkit functions the fuzzed
 * files call, so that they link without nbdkit (as tests/quiesce-
 * driver.c does).  Messages are dropped: a fuzzer only looks for
 * crashes, leaks, undefined behaviour and hangs.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-filter.h>

void
nbdkit_error (const char *fs, ...)
{
  char buf[512];
  va_list ap;

  /* Format anyway: a bad format argument is a bug worth finding. */
  va_start (ap, fs);
  vsnprintf (buf, sizeof buf, fs, ap);
  va_end (ap);
}

void
nbdkit_debug (const char *fs, ...)
{
  char buf[512];
  va_list ap;

  va_start (ap, fs);
  vsnprintf (buf, sizeof buf, fs, ap);
  va_end (ap);
}

int
nbdkit_nanosleep (unsigned sec, unsigned nsec)
{
  return 0;
}

/* Like nbdkit's: digits, an optional binary suffix, -1 on error. */
int64_t
nbdkit_parse_size (const char *str)
{
  static const char suffixes[] = "bkmgtpe";
  const char *s;
  char *end;
  int64_t v;
  int shift;

  errno = 0;
  v = strtoll (str, &end, 10);
  if (errno || end == str || v < 0 || !isdigit ((unsigned char) *str)) {
    nbdkit_error ("could not parse size string (%s)", str);
    return -1;
  }
  if (*end == '\0')
    return v;
  if (end[1] != '\0' ||
      (s = strchr (suffixes, tolower ((unsigned char) *end))) == NULL) {
    nbdkit_error ("could not parse size: unknown suffix (%s)", end);
    return -1;
  }
  shift = (s - suffixes) * 10;
  if (shift > 0 && v > (INT64_MAX >> shift)) {
    nbdkit_error ("size (%s) exceeds maximum value", str);
    return -1;
  }
  return v << shift;
}

/* Like nbdkit's: NULL for an empty path, relative ones under cwd. */
char *
nbdkit_absolute_path (const char *path)
{
  char *r;

  if (path == NULL || *path == '\0') {
    nbdkit_error ("cannot convert null or empty path to an absolute path");
    return NULL;
  }
  if (*path == '/')
    return strdup (path);
  if (asprintf (&r, "/fuzz/cwd/%s", path) == -1)
    return NULL;
  return r;
}
