/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: parse a duration parameter.
 *
 * Accepted: a non-negative integer followed by a unit, "us", "ms",
 * "s", "m" or "h", for example "250ms", "30s", "2m"; and "0" alone.
 * The unit is required (the project's one rule for every duration
 * parameter): "freeze-timeout=500" could mean 500 seconds or 500 ms,
 * and guessing wrong keeps a guest frozen for minutes.  No sign, no
 * fraction, no spaces, at most 1 day.
 * Returns 0 and sets *ns, or -1 (no message: the caller names the
 * parameter and says what is accepted).
 */
#ifndef FLEECE_PARSE_DURATION_H
#define FLEECE_PARSE_DURATION_H

#include <stdint.h>

#define DURATION_MAX_NS (UINT64_C (86400) * UINT64_C (1000000000))
#define DURATION_SYNTAX "a whole number and a unit, us, ms, s, m or h (e.g. 500ms, 30s; only 0 may go without a unit), at most 24h"

extern int parse_duration (const char *str, uint64_t *ns);

#endif /* FLEECE_PARSE_DURATION_H */
