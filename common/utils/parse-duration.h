/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: parse a duration parameter.
 *
 * Accepted: a non-negative integer followed by an optional unit,
 * "us", "ms", "s" (the default), "m" or "h", for example "0", "250ms",
 * "30s", "2m".  No sign, no fraction, no spaces, at most 1 day.
 * Returns 0 and sets *ns, or -1 (no message: the caller names the
 * parameter and says what is accepted).
 */
#ifndef FLEECE_PARSE_DURATION_H
#define FLEECE_PARSE_DURATION_H

#include <stdint.h>

#define DURATION_MAX_NS (UINT64_C (86400) * UINT64_C (1000000000))
#define DURATION_SYNTAX "a whole number with a unit us, ms, s, m or h (e.g. 500ms, 30s), at most 24h"

extern int parse_duration (const char *str, uint64_t *ns);

#endif /* FLEECE_PARSE_DURATION_H */
