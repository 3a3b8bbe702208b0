/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the time now, as every timestamp of the project shows
 * it: UTC, ISO 8601 with milliseconds, e.g. 2026-11-26T16:42:07.755Z
 * (the filter's taken-at and ended-at, fleecectl's manifests).
 */
#ifndef FLEECE_UTC_NOW_H
#define FLEECE_UTC_NOW_H

#include <stddef.h>

/* Size that holds the text and its NUL. */
#define UTC_NOW_LEN 25

/* The time now into buf[len] (cut short if len < UTC_NOW_LEN). */
extern void utc_now (char *buf, size_t len);

#endif /* FLEECE_UTC_NOW_H */
