/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the filter's parameters (see params.h).
 *
 * Every value is validated completely here, and the error names the
 * parameter and what is accepted.  Directories are checked in
 * params_complete, once the default is known.
 */
#include <config.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nbdkit-filter.h>

#include "access.h"
#include "cleanup.h"
#include "control/control.h"
#include "fleece.h"
#include "ispowerof2.h"
#include "monotime.h"
#include "params.h"
#include "parse-duration.h"
#include "quiesce.h"

#define BLOCK_MIN 4096
#define BLOCK_MAX (64 * 1024 * 1024)

struct fleece_config fleece_cfg = {
  .snapshot_export = "snapshot",
  .linger_ns = 0,
  .block_size = 16 * 1024,     /* chosen by bench/: docs/performance.md */
  .block_shift = 14,
  .cbw_timeout_ns = UINT64_C (30000000000),
  .pin_max_age_ns = UINT64_C (86400) * NS_PER_SEC,
};

struct access_config access_cfg;

const char params_help[] =
  "snapshot-export=NAME       Name of the snapshot export (default snapshot).\n"
  "snapshot-linger=DURATION   Keep the snapshot this long after its last\n"
  "                           connection closes (default 0).\n"
  "fleece-block-size=SIZE     Copy-before-write block size, a power of 2\n"
  "                           from 4096 to 64M (default 16K).\n"
  "fleece-dir=DIR             Directory for the store (default $TMPDIR or\n"
  "                           /var/tmp).\n"
  "fleece-max-size=SIZE       Cap on the store's size (default: no cap).\n"
  "on-cbw-error=break-snapshot|fail-write\n"
  "                           What a failed copy does (default break-snapshot).\n"
  "cbw-timeout=DURATION       A copy slower than this fails (default 30s,\n"
  "                           0: no limit).\n"
  "pin-max-age=DURATION       End a snapshot pinned by snapshot-begin this\n"
  "                           long after the last begin (default 24h,\n"
  "                           0: never).\n"
  "cbt-dir=DIR                Track changed blocks there, for incremental\n"
  "                           backups (created 0700; default: off).\n"
  "cbt-granularity=SIZE       Tracking granule, a power of 2 >= the\n"
  "                           block size (default 64K).\n"
  "snapshot-allow-user=USER[,USER...]\n"
  "                           Only these users (names or uids) may open\n"
  "                           the snapshot export (repeatable).\n"
  "snapshot-allow-group=GROUP[,GROUP...]\n"
  "                           ... or clients whose primary group is one of\n"
  "                           these (default: no restriction).\n"
  QUIESCE_CONFIG_HELP
  CONTROL_CONFIG_HELP;

static int
bad_duration (const char *key, const char *value)
{
  nbdkit_error ("%s=%s: expected a duration: " DURATION_SYNTAX, key, value);
  return -1;
}

static int
parse_block_size (const char *value)
{
  int64_t v = nbdkit_parse_size (value);

  if (v == -1 || v < BLOCK_MIN || v > BLOCK_MAX || !is_power_of_2 (v)) {
    nbdkit_error ("fleece-block-size=%s: must be a power of two between "
                  "4096 and 64M (e.g. 64K)", value);
    return -1;
  }
  fleece_cfg.block_size = v;
  fleece_cfg.block_shift = log_2_bits (v);
  return 1;
}

static int
parse_export (const char *value)
{
  if (value[0] == '\0' || strlen (value) > 4096) {
    nbdkit_error ("snapshot-export=%s: must be a non-empty name of at most "
                  "4096 bytes (\"\" is the live export)", value);
    return -1;
  }
  fleece_cfg.snapshot_export = value;
  return 1;
}

/* Look NAME up in the group (group) or user database.  1: found, *id
 * set; 0: no such name; -1: the lookup failed, errno set.
 */
static int
lookup_name (const char *name, bool group, uint32_t *id)
{
  size_t len;
  int r = ERANGE;
  bool found = false;

  for (len = 1024; r == ERANGE && len <= 1024 * 1024; len *= 2) {
    CLEANUP_FREE char *buf = malloc (len);
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;

    if (buf == NULL)
      return -1;
    if (group) {
      r = getgrnam_r (name, &gr, buf, len, &grp);
      if ((found = r == 0 && grp != NULL))
        *id = grp->gr_gid;
    }
    else {
      r = getpwnam_r (name, &pw, buf, len, &pwp);
      if ((found = r == 0 && pwp != NULL))
        *id = pwp->pw_uid;
    }
  }
  if (r != 0 && r != ENOENT) {
    errno = r;
    return -1;
  }
  return found;
}

/* One item of KEY=VALUE: all digits is a numeric id, anything else a
 * name.  0, or -1 after one error line.
 */
static int
parse_id (const char *key, const char *value, const char *item, bool group,
          uint32_t *id)
{
  const char *what = group ? "group" : "user";
  unsigned long v;

  if (strspn (item, "0123456789") == strlen (item)) {
    errno = 0;
    v = strtoul (item, NULL, 10);
    if (errno == 0 && v < UINT32_MAX) {
      *id = v;
      return 0;
    }
    nbdkit_error ("%s=%s: %s id %s out of range: give an id below %lu",
                  key, value, what, item, (unsigned long) UINT32_MAX);
    return -1;
  }
  switch (lookup_name (item, group, id)) {
  case 1:
    return 0;
  case 0:
    nbdkit_error ("%s=%s: no such %s '%s': give %s names or numeric ids "
                  "(see getent %s)", key, value, what, item, what,
                  group ? "group" : "passwd");
    return -1;
  default:
    nbdkit_error ("%s=%s: looking up %s '%s': %m", key, value, what, item);
    return -1;
  }
}

/* snapshot-allow-user= / snapshot-allow-group=: a comma-separated
 * list, appended to the list of earlier ones.
 */
static int
parse_allow (const char *key, const char *value, bool group)
{
  uint32_t *ids = group ? access_cfg.groups : access_cfg.users;
  size_t *n = group ? &access_cfg.ngroups : &access_cfg.nusers;
  const char *p = value;
  char item[256];
  size_t len;
  uint32_t id;

  do {
    len = strcspn (p, ",");
    if (len == 0 || len >= sizeof item) {
      nbdkit_error ("%s=%s: %s item: give a comma-separated list of %s "
                    "names or numeric ids", key, value,
                    len ? "overlong" : "empty", group ? "group" : "user");
      return -1;
    }
    memcpy (item, p, len);
    item[len] = '\0';
    if (parse_id (key, value, item, group, &id) == -1)
      return -1;
    if (*n == ACCESS_MAX_IDS) {
      nbdkit_error ("%s=%s: more than %d %ss listed in all: list fewer "
                    "(a group can stand for many users)", key, value,
                    ACCESS_MAX_IDS, group ? "group" : "user");
      return -1;
    }
    ids[(*n)++] = id;
    p += len;
  } while (*p++ == ',');
  return 1;
}

/* fleece-dir (or its default), made absolute now: nbdkit changes
 * directory to / when it forks, and the store opens files in it later
 * (store.c replaces a failed store).  Freed by params_unload.
 */
static char *dir_abs;

static int
set_dir (const char *value)
{
  free (dir_abs);
  fleece_cfg.dir = dir_abs = nbdkit_absolute_path (value);
  return dir_abs ? 1 : -1;      /* nbdkit_absolute_path said why */
}

void
params_unload (void)
{
  free (dir_abs);
  dir_abs = NULL;
  fleece_cfg.dir = NULL;
  params_cbt_unload ();
}

int
params_config (const char *key, const char *value)
{
  int64_t v;
  int r;

  if (strcmp (key, "snapshot-export") == 0)
    return parse_export (value);
  if (strcmp (key, "snapshot-linger") == 0)
    return parse_duration (value, &fleece_cfg.linger_ns) == 0 ? 1
      : bad_duration (key, value);
  if (strcmp (key, "cbw-timeout") == 0)
    return parse_duration (value, &fleece_cfg.cbw_timeout_ns) == 0 ? 1
      : bad_duration (key, value);
  if (strcmp (key, "pin-max-age") == 0)
    return parse_duration (value, &fleece_cfg.pin_max_age_ns) == 0 ? 1
      : bad_duration (key, value);
  if (strcmp (key, "fleece-block-size") == 0)
    return parse_block_size (value);
  if (strcmp (key, "snapshot-allow-user") == 0)
    return parse_allow (key, value, false);
  if (strcmp (key, "snapshot-allow-group") == 0)
    return parse_allow (key, value, true);
  if (strcmp (key, "fleece-dir") == 0)
    return set_dir (value);
  if ((r = params_cbt_config (key, value)) != 0)
    return r;
  if (strcmp (key, "fleece-max-size") == 0) {
    if ((v = nbdkit_parse_size (value)) == -1) {
      nbdkit_error ("fleece-max-size=%s: expected a size such as 10G, "
                    "or 0 for no cap", value);
      return -1;
    }
    fleece_cfg.max_size = v;
    return 1;
  }
  if (strcmp (key, "on-cbw-error") == 0) {
    if (strcmp (value, "break-snapshot") != 0 &&
        strcmp (value, "fail-write") != 0) {
      nbdkit_error ("on-cbw-error=%s: expected break-snapshot or "
                    "fail-write", value);
      return -1;
    }
    fleece_cfg.fail_write = strcmp (value, "fail-write") == 0;
    return 1;
  }
  if ((r = quiesce_config (key, value)) != 0)
    return r;
  return control_config (key, value);
}

int
params_complete (void)
{
  struct stat st;

  if (fleece_cfg.dir == NULL) {
    const char *t = getenv ("TMPDIR");
    if (set_dir (t && *t ? t : "/var/tmp") == -1)
      return -1;
  }
  errno = 0;
  if (stat (fleece_cfg.dir, &st) == -1 || !S_ISDIR (st.st_mode)) {
    nbdkit_error ("fleece-dir=%s: not a directory%s%s: give an existing "
                  "directory for the store", fleece_cfg.dir,
                  errno ? ": " : "", errno ? strerror (errno) : "");
    return -1;
  }
  if (access (fleece_cfg.dir, W_OK | X_OK) == -1) {
    nbdkit_error ("fleece-dir=%s: not writable: %m: give a directory the "
                  "nbdkit user can write", fleece_cfg.dir);
    return -1;
  }
  if (params_cbt_complete () == -1 || quiesce_config_complete () == -1)
    return -1;
  return control_config_complete ();
}
