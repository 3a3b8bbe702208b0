/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: reading back the times utc_now writes (the filter's
 * taken-at and ended-at, manifests' started-at and finished-at:
 * 2026-11-26T16:42:07.755Z).
 */
#ifndef FLEECECTL_UTC_PARSE_H
#define FLEECECTL_UTC_PARSE_H

#include <stdbool.h>

/* s (YYYY-MM-DDTHH:MM:SS.fffZ, as utc_now writes it) as seconds since
 * the epoch in *secs; false if s is NULL or not of that form.
 */
extern bool utc_parse (const char *s, double *secs);

#endif /* FLEECECTL_UTC_PARSE_H */
