#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The real test guest under plain QEMU (no libvirt): the NBD disk through
# -blockdev driver=nbd on nbdkit's Unix socket, the agent on a chardev
# socket spoken to directly (tests/guest/qga.py: guest-sync-delimited,
# then the command).  Freeze and thaw through that socket, a copy taken
# while frozen, verified with verify-backup.sh.  This is the transport
# vmdisk's agent-socket= mode uses.
source "$srcdir/functions.sh"
source "$srcdir/guest/guest.sh"
requires qemu-system-x86_64 --version
requires nbdkit --version
requires nbdcopy --version
requires debugfs -V
t_start=$(guest_now_ms)

guest_build
guest_vmdir
disk=$GUEST_VMDIR/disk.img
sock=$GUEST_VMDIR/nbd.sock
truncate -s 256M "$disk"
start_nbdkit "$GUEST_VMDIR/nbd.pid" "$sock" file "$disk"

guest_start_qemu "$sock"
guest_workload /dev/vda 20

t_freeze=$(guest_now_ms)
n=$(guest_agent '{"execute":"guest-fsfreeze-freeze"}')
[ "$n" = 1 ] || { echo "$0: FAIL: froze '$n' filesystems, expected 1" >&2; exit 1; }
test "$(guest_freeze_status)" = frozen
expect_fail_msg 'frozen state' guest_exec true
nbdcopy "nbd+unix:///?socket=$sock" "$tmpdir/backup.img"
n=$(guest_agent '{"execute":"guest-fsfreeze-thaw"}')
t_thaw=$(guest_now_ms)
[ "$n" = 1 ] || { echo "$0: FAIL: thawed '$n' filesystems, expected 1" >&2; exit 1; }
test "$(guest_freeze_status)" = thawed
echo "freeze window (host, freeze to thaw incl. copy): $(( t_thaw - t_freeze )) ms"

"$srcdir/guest/verify-backup.sh" "$tmpdir/backup.img"
guest_check_live_log "$tmpdir/backup.img"
guest_exec /workload.sh stop
guest_stop
echo "whole test: $(( $(guest_now_ms) - t_start )) ms"
