#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end under libvirt, the way a user runs it: nbdkit serves the
# guest's disk with the fleece filter over the vmdisk plugin, domain=
# naming a libvirt domain that does not exist yet when nbdkit starts
# (nbdkit must come first: QEMU needs its socket to boot).  The guest
# boots from it, makes ext4, and its workload writes for the whole test.
# Then three backups while it runs, each from one snapshot generation:
# nbdcopy; qemu-img convert; nbdcopy and qemu-img convert at once (both
# copies identical).  For each: the export description (as seen by the
# first client and by nbdinfo) says application-consistent with >= 1
# filesystem frozen; the guest is thawed afterwards; verify-backup.sh
# passes (no journal replay needed, e2fsck -fn clean, every file's
# checksum, no torn log record); the backup's log is a prefix of the
# live one.  Prints the freeze window (description and nbdkit log),
# the stall the guest saw, the copy throughput and the store used.
source "$srcdir/functions.sh"
source "$srcdir/guest/guest.sh"
source "$srcdir/guest/e2e.sh"
requires virsh --version
requires qemu-system-x86_64 --version
requires qemu-img --version
requires nbdkit --version
requires nbdcopy --version
requires nbdinfo --version
requires debugfs -V
requires flock --version
t_start=$(guest_now_ms)

guest_build
guest_vmdir
guest_name
disk=$GUEST_VMDIR/disk.img
sock=$GUEST_VMDIR/nbd.sock
truncate -s 256M "$disk"
e2e_nbdkit_start "$tmpdir/nbdkit.log" "$sock" --filter="$FLEECE" \
  "$VMDISK" file="$disk" domain="$GUEST_DOM" uri="$GUEST_URI" \
  state-dir="$tmpdir/state"
guest_share_socket "$sock"
[ "$(stat -c '%a %G' "$sock")" = "660 libvirt-qemu" ] ||
  e2e_fail "socket mode/group: $(stat -c '%a %G' "$sock")"

# Before the domain exists: a snapshot is crash-consistent and says why.
guest_libvirt_up
desc=$($SNAPDESC "nbd+unix:///snapshot?socket=$sock")
echo "before the VM exists: $desc"
grep -q "crash-consistent: .*$GUEST_DOM" <<<"$desc" ||
  e2e_fail "a snapshot without the domain should name it: $desc"

guest_start_libvirt "$sock"
guest_workload /dev/vda 10

e2e_backup gen-a nbdcopy
echo "store bytes used: $E2E_STORE_BYTES"
e2e_backup gen-b qemu-img
echo "store bytes used: $E2E_STORE_BYTES"

# Two clients at once on one snapshot.
e2e_log_mark
e2e_hold
( e2e_copy nbdcopy "$tmpdir/c-nbdcopy.img" ) &
p1=$!
( e2e_copy qemu-img "$tmpdir/c-qemu-img.img" ) &
p2=$!
wait "$p1" && wait "$p2" || e2e_fail "a concurrent copy failed"
e2e_release
cmp "$tmpdir/c-nbdcopy.img" "$tmpdir/c-qemu-img.img" ||
  e2e_fail "two clients of one snapshot got different data"
echo "concurrent nbdcopy and qemu-img copies of one snapshot: identical"
[ "$(guest_freeze_status)" = thawed ] || e2e_fail "guest not thawed"
e2e_freeze_numbers
"$GUEST_SRC/verify-backup.sh" "$tmpdir/c-nbdcopy.img"
guest_check_live_log "$tmpdir/c-nbdcopy.img"
rm -f "$tmpdir"/c-*.img

guest_exec /workload.sh stop
guest_stop
echo "whole test: $(( $(guest_now_ms) - t_start )) ms"
