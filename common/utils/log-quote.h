/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: a client's string, safe for one log line.
 *
 * Pure, no state: printable ASCII as it is, every other byte (and the
 * backslash) as \xHH, at most 80 bytes of the input, "..." when cut,
 * so that a client cannot write a line of its own into the log.
 */
#ifndef FLEECE_LOG_QUOTE_H
#define FLEECE_LOG_QUOTE_H

#include <stddef.h>

/* Writes the quoted form of s into buf[len] (len >= 8), always
 * NUL-terminated.
 */
extern void log_quote (const char *s, char *buf, size_t len);

#endif /* FLEECE_LOG_QUOTE_H */
