/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the changed-block tracking parameters, cbt-dir= and
 * cbt-granularity= (see params.h; the tracking itself is cbt.h).
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-filter.h>

#include "fleece.h"
#include "ispowerof2.h"
#include "params.h"

#define GRANULE_MIN 4096
#define GRANULE_MAX (64 * 1024 * 1024)

static char *cbt_dir_abs;

void
params_cbt_unload (void)
{
  free (cbt_dir_abs);
  cbt_dir_abs = NULL;
  fleece_cfg.cbt_dir = NULL;
}

/* cbt-dir=, made absolute (nbdkit changes directory when it forks). */
static int
set_cbt_dir (const char *value)
{
  if (value[0] == '\0') {
    nbdkit_error ("cbt-dir=: give a directory for the changed-block maps");
    return -1;
  }
  free (cbt_dir_abs);
  fleece_cfg.cbt_dir = cbt_dir_abs = nbdkit_absolute_path (value);
  return cbt_dir_abs ? 1 : -1;
}

static int
parse_cbt_granularity (const char *value)
{
  int64_t v = nbdkit_parse_size (value);

  if (v == -1 || v < GRANULE_MIN || v > GRANULE_MAX || !is_power_of_2 (v)) {
    nbdkit_error ("cbt-granularity=%s: must be a power of two between "
                  "4096 and 64M, at least fleece-block-size (e.g. 64K)",
                  value);
    return -1;
  }
  fleece_cfg.cbt_granularity = v;
  return 1;
}

/* cbt-granularity= against fleece-block-size=.  0 or -1. */
int
params_cbt_complete (void)
{
  if (fleece_cfg.cbt_granularity == 0)
    fleece_cfg.cbt_granularity = fleece_cfg.block_size > 65536 ?
      fleece_cfg.block_size : 65536;
  else if (fleece_cfg.cbt_granularity < fleece_cfg.block_size) {
    nbdkit_error ("cbt-granularity=%" PRIu32 " is smaller than "
                  "fleece-block-size=%" PRIu32 ": give at least the block "
                  "size", fleece_cfg.cbt_granularity, fleece_cfg.block_size);
    return -1;
  }
  fleece_cfg.cbt_shift = log_2_bits (fleece_cfg.cbt_granularity);
  return 0;
}

int
params_cbt_config (const char *key, const char *value)
{
  if (strcmp (key, "cbt-dir") == 0)
    return set_cbt_dir (value);
  if (strcmp (key, "cbt-granularity") == 0)
    return parse_cbt_granularity (value);
  return 0;
}
