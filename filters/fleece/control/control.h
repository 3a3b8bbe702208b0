/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the control socket (control=PATH).
 *
 * A Unix socket, one JSON object per line in and out, served by one
 * thread started in .after_fork and joined in .cleanup.  Commands:
 * snapshot-begin, snapshot-end, status (see nbdkit-fleece-filter(1),
 * PROTOCOL).  It calls only snapshot_begin/snapshot_end/
 * snapshot_status (snapshot.h) and the stats/history/store getters.
 *
 * This header is the unit's whole interface to the filter.  Inside
 * filters/fleece/control/: control.c (parameters, the socket file, the
 * thread), peer.c (peer credentials), server.c (the poll loop and
 * client buffers), cmd.c (running commands), status.c and
 * status-history.c (the status figures in replies), and the protocol
 * core, proto.c and json.c
 * (parsing requests and building replies: no I/O, no state, nothing
 * of the filter), a library of its own that the fuzzer links alone.
 */
#ifndef FLEECE_CONTROL_H
#define FLEECE_CONTROL_H

/* From .config: 1 if key is a control parameter (accepted), 0 if not,
 * -1 after nbdkit_error.
 */
extern int control_config (const char *key, const char *value);

/* From .config_complete: cross-checks.  0 or -1. */
extern int control_config_complete (void);

/* .config_help lines, each starting with "\n" (params.c appends them
 * to the filter's help at compile time).
 */
#define CONTROL_CONFIG_HELP \
  "\ncontrol=PATH               Serve the control socket at PATH." \
  "\ncontrol-mode=OCTAL         Its file mode (default 0600)." \
  "\ncontrol-group=GROUP        Its group (with control-mode=0660)."

/* From .after_fork: create the socket and start the thread.  0 or -1. */
extern int control_start (void);

/* From .cleanup: stop the thread, close and remove the socket. */
extern void control_stop (void);

#endif /* FLEECE_CONTROL_H */
