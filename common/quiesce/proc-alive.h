/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: is the process that wrote a crash-recovery marker
 * still running?
 *
 * proc_alive_same_program (pid, written): true if pid is a live
 * process (not a zombie) running the same program as the caller (the
 * name in /proc/PID/stat: "nbdkit", or the loader's or valgrind's name
 * when nbdkit runs under a checker), and is not the caller.  A zombie
 * is dead: a killed daemon stays one until init reaps it.
 *
 * written is when the marker was written (PROC_ALIVE_NO_TIME if the
 * marker does not say): a process that started more than
 * PROC_ALIVE_SLACK seconds after it cannot be its writer (the writer
 * died and its pid was reused, possibly by another nbdkit), so it is
 * not alive.  The start time is /proc/PID/stat's starttime (clock
 * ticks since boot) plus /proc/stat's btime; the slack covers the
 * marker's whole-second time and btime's rounding.  Not handled: the
 * wall clock stepped by more than the slack between the write and the
 * check (an NTP step) may misjudge a live writer as dead, or the
 * reverse.
 *
 * When it cannot tell, it answers true, so that a marker is left alone
 * rather than acted on: /proc cannot be read for another reason than
 * "no such process", or the process exists but is another user's (kill
 * gives EPERM) and /proc does not show it (mounted with hidepid=).
 */
#ifndef QUIESCE_PROC_ALIVE_H
#define QUIESCE_PROC_ALIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define PROC_ALIVE_NO_TIME ((time_t) -1)
#define PROC_ALIVE_SLACK 2      /* seconds */

extern bool proc_alive_same_program (long pid, time_t written);

/* pid's start time in clock ticks since boot (/proc/PID/stat field
 * 22), or 0 if it cannot be read.  With the pid, it names one process
 * for good: a reused pid starts later.
 */
extern unsigned long long proc_alive_start_ticks (long pid);

/* Where pids and start ticks mean what they say: this boot and pid
 * namespace, as "BOOT_ID:PIDNS_INODE" (/proc/sys/kernel/random/boot_id
 * and the inode of /proc/self/ns/pid), into buf; "" if unknown.  A
 * recorded (pid, ticks) names a process only where this is the same.
 */
extern void proc_alive_where (char *buf, size_t len);

/* SIGKILL the process group pgid if it is still the group that the
 * process (pgid, leader_ticks) led: its leader is that process, or the
 * leader has gone and the group has members left (Linux does not
 * reuse a pid while a group by that number has members; not handled:
 * the group ended, its number was reused by a new leader that exited
 * in turn, all between the record and this call, or between the check
 * and the kill).  Only for a record made where proc_alive_where says
 * the same.  A leader by that
 * pid with other start ticks is another process: left alone.  1 if
 * the group was signalled, 0 if there is no such group, -1 (errno
 * set) if it cannot tell or signal.
 */
extern int proc_alive_kill_group (long pgid, unsigned long long leader_ticks);

/* The time of a marker's "time=" value, "YYYY-MM-DDTHH:MM:SSZ" (UTC;
 * what proc_alive_format_utc writes), or PROC_ALIVE_NO_TIME if s does
 * not start with one.
 */
extern time_t proc_alive_parse_utc (const char *s);

/* Write t as "YYYY-MM-DDTHH:MM:SSZ" into buf (len >= 21). */
extern void proc_alive_format_utc (time_t t, char *buf, size_t len);

#endif /* QUIESCE_PROC_ALIVE_H */
