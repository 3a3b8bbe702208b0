/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: libFuzzer target for the filter's parameter parsing
 * (filters/fleece/params.c params_config, and through it the
 * quiesce and control parameters): "KEY=VALUE" as nbdkit would pass
 * it.  The first byte picks one of the filter's keys (or takes the key
 * from the input up to '=', for unknown keys).  Only .config is fuzzed:
 * params_complete checks paths on the real filesystem.  Values are
 * copied into static storage because params.c keeps pointers to them
 * (nbdkit's own strings live as long as the process).
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

static const char *keys[] = {
  "snapshot-export", "snapshot-linger", "fleece-block-size", "fleece-dir",
  "fleece-max-size", "on-cbw-error", "cbw-timeout", "quiesce",
  "quiesce-command", "quiesce-timeout", "control", "control-mode",
  "control-group", "snapshot-allow-user", "snapshot-allow-group",
  "quiesce-state-dir",
};
#define NKEYS (sizeof keys / sizeof keys[0])

static char storage[2][65536];

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *key;
  char *value, *eq;
  int r;

  if (size < 1 || size > sizeof storage[0])
    return 0;
  memcpy (storage[1], data + 1, size - 1);
  storage[1][size - 1] = '\0';
  if (data[0] < NKEYS) {
    key = keys[data[0]];
    value = storage[1];
  }
  else {
    memcpy (storage[0], storage[1], size);
    key = storage[0];
    eq = strchr (storage[0], '=');
    value = eq ? eq + 1 : storage[0] + strlen (storage[0]);
    if (eq)
      *eq = '\0';
  }
  r = params_config (key, value);
  if (r < -1 || r > 1)
    abort ();
  return 0;
}
