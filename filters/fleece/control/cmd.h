/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: running control commands.
 *
 * Called only from the control thread.  It calls snapshot_begin,
 * snapshot_end and snapshot_status (snapshot.h), which take the
 * lifecycle mutex and the barrier themselves; the caller must hold
 * no lock.
 */
#ifndef FLEECE_CONTROL_CMD_H
#define FLEECE_CONTROL_CMD_H

#include <stddef.h>

/* Parse one request line (len bytes, without its newline), run it and
 * return the reply line (ending in "\n"), or "" for a blank line (no
 * reply), malloc'd.  NULL only when out of memory.  snapshot-begin
 * blocks while the snapshot is created (up to quiesce-timeout).
 */
extern char *control_command_line (const char *line, size_t len);

#endif /* FLEECE_CONTROL_CMD_H */
