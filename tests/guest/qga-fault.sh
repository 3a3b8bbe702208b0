#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The test guest's agent faults (busybox sh, runs inside the guest).
#
# Usage (through guest-exec, detached: setsid sh -c '/qga-fault.sh MODE &'):
#   /qga-fault.sh hang           stop qemu-ga (SIGSTOP: alive, silent) until
#                                the host says RESUME, then continue it
#   /qga-fault.sh vanish         kill qemu-ga (SIGKILL) and keep init from
#                                restarting it until the host says RESUME
# Both post ARMED and wait for the host's GO before they act: the
# guest-exec that started them polls qemu-ga for its exit status, and a
# fault made while it still does failed that call (a race the test lost
# in 1 of 3 runs).
#   /qga-fault.sh vanish-frozen  wait until qemu-ga has frozen the
#                                filesystems, then kill it (SIGKILL) while
#                                they are frozen; init restarts it after
#                                1 s, and the new qemu-ga finds its frozen
#                                state (/run/qemu-ga/qga.state.isfrozen) and
#                                accepts a thaw
#
# The mailbox: the agent cannot carry messages while it is faulted, so
# the host and this script talk through the spare partition DEV
# (/dev/vda2, outside the filesystem; see e2e_partition).  This script
# writes its state to sector 0 ("FLEECE-QGA-FAULT STATE": ARMED, HUNG,
# GONE, KILLED, DONE); the host writes RESUME to sector 1 through the
# live export (e2e_mailbox_post).  Direct I/O on both sides, so neither
# reads a cache.  Errors go to stderr (the caller sends it to /run).
set -u
dev=/dev/vda2

post ()
{
  printf 'FLEECE-QGA-FAULT %s\n' "$1" |
    dd of="$dev" bs=512 count=1 conv=sync oflag=direct 2>/dev/null
}

wait_for ()                     # WORD: until the host posts it
{
  until dd if="$dev" bs=512 skip=1 count=1 iflag=direct 2>/dev/null |
          grep -q "^$1"; do
    sleep 0.2
  done
}

agent () { pidof qemu-ga; }

# A RESUME left by an earlier fault is not for this one.
dd if=/dev/zero of="$dev" bs=512 seek=1 count=1 oflag=direct 2>/dev/null

case "${1:-}" in
  hang)
    post ARMED
    wait_for GO
    pid=$(agent)
    kill -STOP "$pid"
    post HUNG
    wait_for RESUME
    kill -CONT "$pid"
    ;;
  vanish)
    post ARMED
    wait_for GO
    touch /run/qga-hold
    kill -KILL "$(agent)"
    post GONE
    wait_for RESUME
    rm -f /run/qga-hold
    ;;
  vanish-frozen)
    post ARMED
    until [ -e /run/qemu-ga/qga.state.isfrozen ]; do sleep 0.02; done
    kill -KILL "$(agent)"
    post KILLED
    exit 0
    ;;
  *)
    echo "usage: $0 hang|vanish|vanish-frozen" >&2
    exit 2
    ;;
esac
post DONE
