/* SPDX-License-Identifier: BSD-3-Clause */
/* fleecectl: running QEMU's tools (qemu-img, qemu-nbd).
 *
 * run_command forks and execs argv[0] (searched in PATH) and waits for
 * it.  Its standard output is captured when out is given, else it goes
 * where log says; its standard error goes to the file log (created or
 * appended to) when given, else to fleecectl's standard error.  No
 * shell is involved: arguments are passed as they are.
 */
#ifndef FLEECECTL_RUN_H
#define FLEECECTL_RUN_H

#include <stddef.h>

/* The command's exit status (0..255), or -1 if it could not be run or
 * was killed by a signal (errno set for the first).  *out, if out is
 * given, is the captured standard output (malloc'd, NUL-terminated,
 * at most 1 MiB), also on failure.
 */
extern int run_command (char *const argv[], char **out, const char *log);

/* For a signal handler or a failure path: kill (SIGKILL) the command
 * run_command is waiting for, if any, and reap it, so that it neither
 * outlives fleecectl nor writes a file after fleecectl removed it.
 * Async-signal-safe.
 */
extern void run_kill (void);

/* The last non-empty line of the file log, for an error message, in
 * buf ("no message" if none).
 */
extern const char *run_last_line (const char *log, char *buf, size_t len);

#endif /* FLEECECTL_RUN_H */
