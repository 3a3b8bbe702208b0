#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The real test guest under libvirt, its disk served by nbdkit's file
# plugin over a Unix socket: boot, ext4 and the workload through
# guest-exec, then a consistent copy taken while the guest is frozen with
# virsh domfsfreeze, verified with verify-backup.sh.  Proves the guest,
# the agent, the freeze (status frozen, guest-exec refused, then thawed),
# the workload's self-checking files and log, and the verifier.
source "$srcdir/functions.sh"
source "$srcdir/guest/guest.sh"
requires virsh --version
requires qemu-system-x86_64 --version
requires nbdkit --version
requires nbdcopy --version
requires debugfs -V
requires flock --version
t_start=$(guest_now_ms)

t=$(guest_now_ms)
guest_build
echo "guest build (cached or not): $(( $(guest_now_ms) - t )) ms"
guest_vmdir
disk=$GUEST_VMDIR/disk.img
sock=$GUEST_VMDIR/nbd.sock
truncate -s 256M "$disk"
start_nbdkit "$GUEST_VMDIR/nbd.pid" "$sock" file "$disk"
guest_share_socket "$sock"

guest_libvirt_up
guest_start_libvirt "$sock"
guest_workload /dev/vda 20

# Freeze, check, copy, thaw.
t_freeze=$(guest_now_ms)
out=$(timeout 60 virsh -c "$GUEST_URI" domfsfreeze "$GUEST_DOM")
grep -q "Froze 1 filesystem" <<<"$out" ||
  { echo "$0: FAIL: domfsfreeze said: $out" >&2; exit 1; }
test "$(guest_freeze_status)" = frozen
expect_fail_msg 'frozen' guest_exec true
nbdcopy "nbd+unix:///?socket=$sock" "$tmpdir/backup.img"
out=$(timeout 60 virsh -c "$GUEST_URI" domfsthaw "$GUEST_DOM")
t_thaw=$(guest_now_ms)
grep -q "Thawed 1 filesystem" <<<"$out" ||
  { echo "$0: FAIL: domfsthaw said: $out" >&2; exit 1; }
test "$(guest_freeze_status)" = thawed
echo "freeze window (host, freeze to thaw incl. copy): $(( t_thaw - t_freeze )) ms"

"$srcdir/guest/verify-backup.sh" "$tmpdir/backup.img"

# The live log after the thaw: the backup's log is a prefix of it, and
# the gap around the backup is the freeze as the guest saw it.
guest_check_live_log "$tmpdir/backup.img"

guest_exec /workload.sh stop
guest_stop
echo "whole test: $(( $(guest_now_ms) - t_start )) ms"
